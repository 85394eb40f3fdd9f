import type { SortStage } from '../../grammar/ast.js';
import { MlmodelError } from '../errors.js';
import type { Cell, ResultTable } from '../result/table.js';
import { compareText } from '../store/order.js';
import type { Pacer } from './pace.js';

/** Rows Array.prototype.sort orders at once: a few milliseconds of work, well inside a Pacer slice. */
const RUN = 4096;

/**
 * A stable sort by the keys, in the order MongoDB uses: no value first,
 * then numbers, text (by code point), booleans, times. Runs of RUN rows are
 * sorted at once and then merged pairwise, pausing as the Pacer asks, so a
 * large table does not hold the event loop for the whole sort.
 */
export async function applySort(t: ResultTable, stage: SortStage, pacer: Pacer): Promise<ResultTable> {
  const keys = stage.keys.map((k) => {
    const index = t.columns.findIndex((c) => c.name === k.field);
    if (index < 0) {
      throw new MlmodelError('INVALID_ARGUMENT', `cannot sort by "${k.field}": the columns are ${t.columns.map((c) => c.name).join(', ')}`, {
        field: k.field,
      });
    }
    return { index, sign: k.direction === 'desc' ? -1 : 1 };
  });
  const order = (a: readonly Cell[], b: readonly Cell[]): number => {
    for (const k of keys) {
      const d = compareCells(a[k.index] ?? null, b[k.index] ?? null);
      if (d !== 0) return d * k.sign;
    }
    return 0;
  };
  let runs: Array<Array<readonly Cell[]>> = [];
  for (let i = 0; i < t.rows.length; i += RUN) {
    runs.push(t.rows.slice(i, i + RUN).sort(order));
    if (pacer.due()) await pacer.pause();
  }
  while (runs.length > 1) {
    const merged: Array<Array<readonly Cell[]>> = [];
    for (let i = 0; i < runs.length; i += 2) {
      merged.push(i + 1 < runs.length ? await merge(runs[i]!, runs[i + 1]!, order, pacer) : runs[i]!);
    }
    runs = merged;
  }
  return { columns: t.columns, rows: runs[0] ?? [] };
}

/** Merges two sorted runs; on a tie the left one's row goes first, which keeps the sort stable. */
async function merge<T>(left: readonly T[], right: readonly T[], order: (a: T, b: T) => number, pacer: Pacer): Promise<T[]> {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    out.push(order(right[j]!, left[i]!) < 0 ? right[j++]! : left[i++]!);
    if (pacer.due()) await pacer.pause();
  }
  while (i < left.length) out.push(left[i++]!);
  while (j < right.length) out.push(right[j++]!);
  return out;
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
