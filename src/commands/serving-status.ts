import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type ResultTable } from '../result/table.js';
import { resolveModel } from '../executor/models.js';
import { SERVING_FAILURE_SCOPE, servingFailureKey } from '../serving/serving-failure.js';

const syntax = { kind: 'servingStatus', prefix: 'serving', keywords: ['status'], args: [{ kind: 'model' }] } as const;

export type ServingStatusCommand = CommandAst<typeof syntax>;

export const SERVING_STATUS_COLUMNS = [col('version', 'LONG'), col('state', 'TEXT'), col('label', 'TEXT'), col('deployed_at', 'DATETIME'), col('reason', 'TEXT')];

/**
 * `serving status NAME`: one row per serving version (AVAILABLE, STOPPED,
 * FAILED, or DEPLOYING while a deploy is under way). `NAME@N` shows only the
 * deployments of model version N.
 */
export async function executeServingStatus(ctx: EngineContext, cmd: ServingStatusCommand): Promise<ResultTable> {
  const record = await resolveModel(ctx, cmd.model);
  const servings = await ctx.meta.findServings({ model_uid: record.model_uid });
  const onlyThis = cmd.model.version !== undefined || cmd.model.alias !== undefined;
  const rows = [];
  for (const s of servings.filter((x) => !onlyThis || x.record_uid === record.uid)) {
    // Why a version that was AVAILABLE failed to load in a model server (src/serving/model-server.ts).
    const reason = s.state === 'FAILED' ? ((await ctx.meta.getClaim(SERVING_FAILURE_SCOPE, servingFailureKey(s.model_uid, s.version)))?.owner ?? null) : null;
    rows.push([s.version, s.state, s.label, s.deployed_at, reason]);
  }
  return { columns: SERVING_STATUS_COLUMNS, rows };
}

export const servingStatusCommand = defineCommand({
  syntax,
  summary: "A model's serving versions: version, state (AVAILABLE, STOPPED, FAILED), label, deployed_at, and why a FAILED one failed to load.",
  examples: ['serving status mnist_v1'],
  columns: SERVING_STATUS_COLUMNS,
  writes: false,
  execute: executeServingStatus,
});
