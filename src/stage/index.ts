import type { Stage } from '../../grammar/ast.js';
import type { ResultTable } from '../result/table.js';
import { applyFields } from './fields.js';
import { applyHead } from './head.js';
import { applySort } from './sort.js';
import { applyWhere } from './where.js';

/** Runs pipeline stages, left to right, on a table already in memory. */
export function applyStages(t: ResultTable, stages: readonly Stage[]): ResultTable {
  return stages.reduce((acc, s) => {
    switch (s.kind) {
      case 'where':
        return applyWhere(acc, s);
      case 'sort':
        return applySort(acc, s);
      case 'head':
        return applyHead(acc, s);
      case 'fields':
        return applyFields(acc, s);
    }
  }, t);
}
