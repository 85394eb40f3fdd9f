import type { EngineContext } from '../engine/context.js';
import type { PushedStages } from '../planner/plan.js';
import { listQuery } from '../planner/plan.js';
import { col, type ResultTable } from '../result/table.js';
import type { ModelRecord } from '../store/metadata.js';

/** IRIS's `mlmodel list` columns. */
export const LIST_COLUMNS = [
  col('id', 'LONG'),
  col('user', 'TEXT'),
  col('name', 'TEXT'),
  col('type', 'TEXT'),
  col('category', 'TEXT'),
  col('algorithm', 'TEXT'),
  col('serving', 'TEXT'),
  col('create', 'DATETIME'),
  col('modified', 'DATETIME'),
];

export function listRow(r: ModelRecord) {
  return [r.id, r.user, r.name, r.type, r.category, r.algorithm, r.serving, r.create, r.modified];
}

/** The latest version of every model, with the pushed-down where/sort/head applied by the store. */
export async function executeList(ctx: EngineContext, pushed: PushedStages = { conditions: [], sort: null, limit: null }): Promise<ResultTable> {
  const records = await ctx.meta.findModels(listQuery(pushed));
  return { columns: LIST_COLUMNS, rows: records.map(listRow) };
}
