import type { ServingStatusCommand } from '../../grammar/ast.js';
import type { EngineContext } from '../engine/context.js';
import { col, type ResultTable } from '../result/table.js';
import { resolveModel } from './models.js';

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
