/**
 * The one order every sort of model records follows, wherever it runs:
 * MongoDB's. The MongoDB store leaves it to the server; SQLite's ORDER BY on
 * its columns gives the same (NULL first ascending, text by code point); and
 * whatever runs in memory — the SQLite store's sort on fields that are not
 * columns, and a listing's stages after a `head` — uses compareSortKeys.
 *
 *   no value (null or missing, equal to each other) < numbers < text (by
 *   code point) < objects < booleans (false first) < times
 *
 * A list (tags) sorts by its smallest element ascending and by its largest
 * descending; an empty list sorts before no value.
 */
import type { SortSpec } from './filter.js';

/** Below everything, even null: an empty list, as MongoDB sorts it. */
const EMPTY_LIST = Symbol('empty list');

type SortKey = unknown;

function bracket(v: unknown): number {
  if (v === EMPTY_LIST) return 0;
  if (v === null || v === undefined) return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (Array.isArray(v)) return 5;
  if (typeof v === 'boolean') return 8;
  if (v instanceof Date) return 9;
  return 4;
}

/** Text by Unicode code point (what SQLite's BINARY collation and MongoDB do), not by UTF-16 unit. */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only a surrogate against a unit above the surrogate range orders differently from the code point.
    const surX = x >= 0xd800 && x <= 0xdfff;
    const surY = y >= 0xd800 && y <= 0xdfff;
    if (surX !== surY) return surX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Two values in MongoDB's comparison order (see the module comment). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = bracket(a);
  const rb = bracket(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2:
      return (a as number) - (b as number);
    case 3:
      return compareText(a as string, b as string);
    case 5: {
      const xs = a as unknown[];
      const ys = b as unknown[];
      for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
        const d = compareValues(xs[i], ys[i]);
        if (d !== 0) return d;
      }
      return xs.length - ys.length;
    }
    case 8:
      return Number(a) - Number(b);
    case 9:
      return (a as Date).getTime() - (b as Date).getTime();
    case 4: {
      // Field by field in stored order: the value's kind, then the name, then the value.
      const xs = Object.entries(a as object);
      const ys = Object.entries(b as object);
      for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
        const [kx, vx] = xs[i]!;
        const [ky, vy] = ys[i]!;
        const d = bracket(vx) - bracket(vy) || compareText(kx, ky) || compareValues(vx, vy);
        if (d !== 0) return d;
      }
      return xs.length - ys.length;
    }
    default:
      return 0;
  }
}

/** The value a field sorts by in one direction: a list stands for its smallest (or largest) element. */
function sortKey(v: unknown, direction: 1 | -1): SortKey {
  if (!Array.isArray(v)) return v;
  if (v.length === 0) return EMPTY_LIST;
  let best: unknown = v[0];
  for (const x of v) if (compareValues(x, best) * direction < 0) best = x;
  return best;
}

/** The value at a dotted path of a record; undefined where the path leads nowhere. */
export function valueAt(record: object, path: string): unknown {
  let v: unknown = record;
  for (const segment of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || !Object.hasOwn(v, segment)) return undefined;
    v = (v as Record<string, unknown>)[segment];
  }
  return v;
}

/**
 * The records in the order of a validated sort (which ends with `id`, so the
 * order is total), at most `limit` of them. A new array; the input is kept.
 */
export function sortRecords<T extends object>(records: readonly T[], sort: SortSpec, limit: number | null = null): T[] {
  const keyed = records.map((r) => ({ r, keys: sort.map(([path, dir]) => sortKey(valueAt(r, path), dir)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < sort.length; i++) {
      const d = compareValues(x.keys[i], y.keys[i]);
      if (d !== 0) return d * sort[i]![1];
    }
    return 0;
  });
  const out = keyed.map((k) => k.r);
  return limit === null ? out : out.slice(0, limit);
}
