import type { EngineContext } from '../engine/context.js';
import type { Plan } from '../planner/plan.js';
import type { ResultTable } from '../result/table.js';
import { applyStages } from '../stage/index.js';
import { executeAlias } from './alias.js';
import { executeDelete } from './delete.js';
import { executeFiles } from './files.js';
import { executeFsck } from './fsck.js';
import { executePull } from './pull.js';
import { executeTag } from './tag.js';
import { executeVerify } from './verify.js';
import { executeVersions } from './versions.js';
import { executeDeploy } from './deploy.js';
import { executeExport } from './export.js';
import { executeImport } from './import.js';
import { executeList } from './list.js';
import { executeRename } from './rename.js';
import { executeServingStatus } from './serving-status.js';
import { executeStop } from './stop.js';
import { executeSummary } from './summary.js';

/** Runs a planned query: its command (with what the store can do pushed down), then the remaining stages. */
export async function executePlan(ctx: EngineContext, plan: Plan): Promise<ResultTable> {
  return applyStages(await executeCommand(ctx, plan), plan.stages, ctx.signal);
}

function executeCommand(ctx: EngineContext, plan: Plan): Promise<ResultTable> {
  const c = plan.command;
  switch (c.kind) {
    case 'list':
      return executeList(ctx, plan.pushed ?? undefined);
    case 'summary':
      return executeSummary(ctx, c);
    case 'delete':
      return executeDelete(ctx, c);
    case 'rename':
      return executeRename(ctx, c);
    case 'import':
      return executeImport(ctx, c);
    case 'export':
      return executeExport(ctx, c);
    case 'deploy':
      return executeDeploy(ctx, c);
    case 'stop':
      return executeStop(ctx, c);
    case 'servingStatus':
      return executeServingStatus(ctx, c);
    case 'versions':
      return executeVersions(ctx, c);
    case 'tag':
    case 'untag':
      return executeTag(ctx, c);
    case 'alias':
    case 'unalias':
      return executeAlias(ctx, c);
    case 'files':
      return executeFiles(ctx, c);
    case 'pull':
      return executePull(ctx, c);
    case 'verify':
      return executeVerify(ctx, c);
    case 'fsck':
      return executeFsck(ctx, c);
  }
}
