import type { FieldsStage } from '../../grammar/ast.js';
import { MlmodelError } from '../errors.js';
import type { Cell, ResultTable } from '../result/table.js';
import type { Pacer } from './pace.js';

/** Keeps the named columns, in the order named. */
export async function applyFields(t: ResultTable, stage: FieldsStage, pacer: Pacer): Promise<ResultTable> {
  const indexes = stage.fields.map((name) => {
    const i = t.columns.findIndex((c) => c.name === name);
    if (i < 0) {
      throw new MlmodelError('INVALID_ARGUMENT', `no column "${name}"; the columns are ${t.columns.map((c) => c.name).join(', ')}`, {
        field: name,
      });
    }
    return i;
  });
  const rows: Cell[][] = [];
  for (const row of t.rows) {
    rows.push(indexes.map((i) => row[i] ?? null));
    if (pacer.due()) await pacer.pause();
  }
  return { columns: indexes.map((i) => t.columns[i]!), rows };
}
