import type { SortStage } from '../../grammar/ast.js';
import { MlmodelError } from '../errors.js';
import type { Cell, ResultTable } from '../result/table.js';
import { compareText } from '../store/order.js';

/**
 * A stable sort by the keys, in the order MongoDB uses: no value first,
 * then numbers, text (by code point), booleans, times.
 */
export function applySort(t: ResultTable, stage: SortStage): ResultTable {
  const keys = stage.keys.map((k) => {
    const index = t.columns.findIndex((c) => c.name === k.field);
    if (index < 0) {
      throw new MlmodelError('INVALID_ARGUMENT', `cannot sort by "${k.field}": the columns are ${t.columns.map((c) => c.name).join(', ')}`, {
        field: k.field,
      });
    }
    return { index, sign: k.direction === 'desc' ? -1 : 1 };
  });
  const rows = [...t.rows].sort((a, b) => {
    for (const k of keys) {
      const d = compareCells(a[k.index] ?? null, b[k.index] ?? null);
      if (d !== 0) return d * k.sign;
    }
    return 0;
  });
  return { columns: t.columns, rows };
}

const RANK = { null: 0, number: 1, string: 2, object: 3, boolean: 4, date: 5 } as const;

function rank(v: Cell): number {
  if (v === null) return RANK.null;
  if (v instanceof Date) return RANK.date;
  if (typeof v === 'number') return RANK.number;
  if (typeof v === 'string') return RANK.string;
  if (typeof v === 'boolean') return RANK.boolean;
  return RANK.object;
}

export function compareCells(a: Cell, b: Cell): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareText(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}
