import type { WhereStage } from '../../grammar/ast.js';
import { compileCondition } from '../planner/condition.js';
import { tableSchema } from '../planner/schema.js';
import type { ResultTable } from '../result/table.js';
import { filterQuery } from '../store/mingo.js';
import { EVERY_TIME, type Pacer } from './pace.js';

/** Keeps the rows the condition holds for, with the same filter semantics the stores use. */
export async function applyWhere(t: ResultTable, stage: WhereStage, pacer: Pacer): Promise<ResultTable> {
  const filter = filterQuery(compileCondition(stage.condition, tableSchema(t)));
  const names = t.columns.map((c) => c.name);
  const rows = [];
  for (const row of t.rows) {
    if (filter.test(Object.fromEntries(names.map((n, i) => [n, row[i]])))) rows.push(row);
    if (pacer.due(EVERY_TIME)) await pacer.pause();
  }
  return { columns: t.columns, rows };
}
