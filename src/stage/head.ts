import type { HeadStage } from '../../grammar/ast.js';
import type { ResultTable } from '../result/table.js';

export function applyHead(t: ResultTable, stage: HeadStage): ResultTable {
  return { columns: t.columns, rows: t.rows.slice(0, stage.count) };
}
