import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type ResultTable } from '../result/table.js';
import { resolveModel } from '../executor/models.js';

const syntax = { kind: 'servingStatus', prefix: 'serving', keywords: ['status'], args: [{ kind: 'model' }] } as const;

export type ServingStatusCommand = CommandAst<typeof syntax>;

export const SERVING_STATUS_COLUMNS = [col('version', 'LONG'), col('state', 'TEXT'), col('label', 'TEXT'), col('deployed_at', 'DATETIME')];

/**
 * `serving status NAME`: one row per serving version (AVAILABLE, STOPPED,
 * FAILED, or DEPLOYING while a deploy is under way). `NAME@N` shows only the
 * deployments of model version N.
 */
export async function executeServingStatus(ctx: EngineContext, cmd: ServingStatusCommand): Promise<ResultTable> {
  const record = await resolveModel(ctx, cmd.model);
  const servings = await ctx.meta.findServings({ model_uid: record.model_uid });
  const onlyThis = cmd.model.version !== undefined || cmd.model.alias !== undefined;
  return {
    columns: SERVING_STATUS_COLUMNS,
    rows: servings.filter((s) => !onlyThis || s.record_uid === record.uid).map((s) => [s.version, s.state, s.label, s.deployed_at]),
  };
}

export const servingStatusCommand = defineCommand({
  syntax,
  summary: "A model's serving versions: version, state (AVAILABLE, STOPPED, FAILED), label, deployed_at.",
  examples: ['serving status mnist_v1'],
  columns: SERVING_STATUS_COLUMNS,
  writes: false,
  execute: executeServingStatus,
});
