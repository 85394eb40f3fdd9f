import type { FieldsStage } from '../../grammar/ast.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';

/** Keeps the named columns, in the order named. */
export function applyFields(t: ResultTable, stage: FieldsStage): ResultTable {
  const indexes = stage.fields.map((name) => {
    const i = t.columns.findIndex((c) => c.name === name);
    if (i < 0) {
      throw new MlmodelError('INVALID_ARGUMENT', `no column "${name}"; the columns are ${t.columns.map((c) => c.name).join(', ')}`, {
        field: name,
      });
    }
    return i;
  });
  return {
    columns: indexes.map((i) => t.columns[i]!),
    rows: t.rows.map((row) => indexes.map((i) => row[i] ?? null)),
  };
}
