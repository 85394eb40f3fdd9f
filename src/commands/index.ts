import type { CommandModule } from './command.js';
import { aliasCommand } from './alias.js';
import { bundleCommand } from './bundle.js';
import { deleteCommand } from './delete.js';
import { deployCommand } from './deploy.js';
import { exportCommand } from './export.js';
import { filesCommand } from './files.js';
import { objectsCommand } from './objects.js';
import { fsckCommand } from './fsck.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { migrateCommand } from './migrate.js';
import { mlflowCommand } from './mlflow.js';
import { pullCommand } from './pull.js';
import { remotesCommand } from './remotes.js';
import { syncCommand } from './sync.js';
import { renameCommand } from './rename.js';
import { servingStatusCommand } from './serving-status.js';
import { stopCommand } from './stop.js';
import { summaryCommand } from './summary.js';
import { tagCommand } from './tag.js';
import { unbundleCommand } from './unbundle.js';
import { verifyCommand } from './verify.js';
import { versionsCommand } from './versions.js';
import { predictCommand } from './predict.js';
import { signatureCommand } from './signature.js';
import { runCommand } from './run.js';
import { logCommand } from './log.js';
import { runsCommand } from './runs.js';
import { experimentsCommand } from './experiments.js';
import { metricCommand } from './metric.js';
import { compareCommand } from './compare.js';
import { chartCommand } from './chart.js';
import { checkpointCommand } from './checkpoint.js';
import { checkpointsCommand } from './checkpoints.js';

/**
 * Every command of the language, in the order help lists them: IRIS's
 * actions in its reference's order, then ours. This list is the one place
 * a new command is added (besides its own module, docs page and tests);
 * test/commands/coverage.test.ts fails if a module in this folder is
 * missing from it.
 */
export const COMMANDS: readonly CommandModule[] = [
  listCommand,
  summaryCommand,
  deleteCommand,
  renameCommand,
  importCommand,
  exportCommand,
  deployCommand,
  stopCommand,
  versionsCommand,
  tagCommand,
  aliasCommand,
  filesCommand,
  objectsCommand,
  pullCommand,
  verifyCommand,
  fsckCommand,
  bundleCommand,
  unbundleCommand,
  migrateCommand,
  remotesCommand,
  syncCommand,
  mlflowCommand,
  servingStatusCommand,
  predictCommand,
  signatureCommand,
  runCommand,
  logCommand,
  runsCommand,
  experimentsCommand,
  metricCommand,
  compareCommand,
  chartCommand,
  checkpointCommand,
  checkpointsCommand,
] as unknown as readonly CommandModule[];

export type { CommandModule } from './command.js';
