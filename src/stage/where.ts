import { mingo } from '../store/mingo.js';
import type { WhereStage } from '../../grammar/ast.js';
import { compileCondition } from '../planner/condition.js';
import { tableSchema } from '../planner/schema.js';
import type { ResultTable } from '../result/table.js';
import { toMingo } from '../store/filter.js';

/** Keeps the rows the condition holds for, with the same filter semantics the stores use. */
export function applyWhere(t: ResultTable, stage: WhereStage): ResultTable {
  const filter = new (mingo().Query)(toMingo(compileCondition(stage.condition, tableSchema(t))));
  const names = t.columns.map((c) => c.name);
  const rows = t.rows.filter((row) => filter.test(Object.fromEntries(names.map((n, i) => [n, row[i]]))));
  return { columns: t.columns, rows };
}
