import type { Stage } from '../../grammar/ast.js';
import type { ResultTable } from '../result/table.js';
import { applyFields } from './fields.js';
import { applyHead } from './head.js';
import { Pacer } from './pace.js';
import { applySort } from './sort.js';
import { applyWhere } from './where.js';

/**
 * Runs pipeline stages, left to right, on a table already in memory, giving
 * the event loop a turn now and then (see Pacer): CANCELLED once `signal`
 * fires.
 */
export async function applyStages(t: ResultTable, stages: readonly Stage[], signal?: AbortSignal): Promise<ResultTable> {
  const pacer = new Pacer(signal);
  let acc = t;
  for (const s of stages) {
    pacer.check();
    switch (s.kind) {
      case 'where':
        acc = await applyWhere(acc, s, pacer);
        break;
      case 'sort':
        acc = await applySort(acc, s, pacer);
        break;
      case 'head':
        acc = applyHead(acc, s);
        break;
      case 'fields':
        acc = await applyFields(acc, s, pacer);
        break;
    }
  }
  return acc;
}
