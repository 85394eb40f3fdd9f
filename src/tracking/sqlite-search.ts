/**
 * A run query as one SQL statement on the SQLite tracking store. Each run's
 * parameters, tags and latest metrics are also rows of `tracking_values`
 * (run, kind, key, rank, value, step), indexed by (kind, key, rank, value),
 * so a condition on `params.lr` or `metrics.acc` is an index range and a
 * sort on one is a join on the primary key: nothing reads a run it need not.
 *
 * The SQL answers a superset of the filter in exactly the store's order
 * (store/order.ts: no value < numbers < text by code point < booleans, ties
 * by id); the caller tests each row with the whole filter, in that order,
 * and stops at the limit. So only the order must be exact, and it is: every
 * run field has a column or a JSON member whose SQLite order is the
 * MongoDB one.
 */
import type { FilterDoc, SortSpec } from '../store/filter.js';

/** `tracking_values.kind`. */
export const VALUE_KIND = { params: 0, tags: 1, metrics: 2 } as const;
export type ValueKind = (typeof VALUE_KIND)[keyof typeof VALUE_KIND];

/**
 * The sort bracket of a value (store/order.ts) and what SQLite stores for it:
 * a boolean as 0/1 in the bracket after text, so `ORDER BY rank, value` is
 * the store's order.
 */
export function valueRank(v: string | number | boolean): [rank: number, value: string | number] {
  if (typeof v === 'number') return [2, v];
  if (typeof v === 'string') return [3, v];
  return [8, v ? 1 : 0];
}

/** Run fields that are columns of tracking_runs (text by code point: SQLite's BINARY collation). */
const COLUMNS = new Set(['id', 'uid', 'experiment', 'user', 'status']);
/** Run fields only the JSON document holds; times are milliseconds there, null when unset. */
const DOC_FIELDS = new Set(['name', 'start', 'end', 'last_step', 'last_time']);
const OPEN = /^(params|tags|metrics|metric_steps)\.([A-Za-z_][A-Za-z0-9_-]*)$/;
const SQL_OPS: Readonly<Record<string, string>> = { $eq: '=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

/** The top-level conditions every match must meet: the filter's fields and those of its `$and`s, however nested. */
function conjuncts(doc: FilterDoc, out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  for (const [k, v] of Object.entries(doc)) {
    if (k === '$and') for (const d of v as FilterDoc[]) conjuncts(d, out);
    else if (!k.startsWith('$')) out.push([k, v]);
  }
  return out;
}

/**
 * The comparisons of a condition SQL can narrow by without losing a match:
 * a number under =, <, <=, >, >= (only numbers compare with a number, in
 * the filter's type brackets) and text under = only (text order differs).
 */
function comparisons(cond: unknown): Array<[string, number | string]> {
  if (typeof cond === 'number' || typeof cond === 'string') return [['=', cond]];
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond) || cond instanceof Date) return [];
  const out: Array<[string, number | string]> = [];
  for (const [op, value] of Object.entries(cond as Record<string, unknown>)) {
    if (!Object.hasOwn(SQL_OPS, op)) continue;
    if (typeof value === 'number' && Number.isFinite(value)) out.push([SQL_OPS[op]!, value]);
    else if (typeof value === 'string' && op === '$eq') out.push(['=', value]);
  }
  return out;
}

/** Exact matches on a column: `f: v`, `f: {$eq: v}` or `f: {$in: [...]}` with values of the column's type. */
function columnValues(field: string, cond: unknown): unknown[] | null {
  let values: unknown[];
  if (cond !== null && typeof cond === 'object' && !(cond instanceof Date) && !Array.isArray(cond)) {
    const c = cond as Record<string, unknown>;
    const ops = Object.keys(c);
    if (ops.length !== 1) return null;
    if (ops[0] === '$eq') values = [c.$eq];
    else if (ops[0] === '$in' && Array.isArray(c.$in)) values = c.$in;
    else return null;
  } else values = [cond];
  const type = field === 'id' ? 'number' : 'string';
  return values.every((v) => typeof v === type) ? values : null;
}

export interface RunSearch {
  readonly sql: string;
  readonly params: unknown[];
}

/** The statement (its text depends only on the query's shape, so a cached prepared statement serves every query of that shape) and its parameters. */
export function runSearch(filter: FilterDoc, sort: SortSpec): RunSearch {
  const joins: string[] = [];
  const joinParams: unknown[] = [];
  const where: string[] = [];
  const whereParams: unknown[] = [];
  // The runs each open-field comparison admits, from the index, intersected:
  // one IN (… INTERSECT …) — separate INs on the id would be probed as a product.
  const sets: string[] = [];
  const setParams: unknown[] = [];
  for (const [field, cond] of conjuncts(filter)) {
    const open = OPEN.exec(field);
    if (open) {
      const [, head, key] = open;
      const kind = head === 'metric_steps' ? VALUE_KIND.metrics : VALUE_KIND[head as keyof typeof VALUE_KIND];
      for (const [op, value] of comparisons(cond)) {
        if (head === 'metric_steps') {
          if (typeof value !== 'number') continue;
          sets.push(`SELECT run FROM tracking_values WHERE kind = ${kind} AND key = ? AND step ${op} ?`);
        } else {
          sets.push(`SELECT run FROM tracking_values WHERE kind = ${kind} AND key = ? AND rank = ${typeof value === 'number' ? 2 : 3} AND value ${op} ?`);
        }
        setParams.push(key, value);
      }
      continue;
    }
    if (!COLUMNS.has(field)) continue;
    const values = columnValues(field, cond);
    if (values === null) continue;
    where.push(`r."${field}" IN (${values.map(() => '?').join(', ')})`);
    whereParams.push(...values);
  }
  if (sets.length > 0) {
    where.push(`r.id IN (${sets.join(' INTERSECT ')})`);
    whereParams.push(...setParams);
  }
  const order: string[] = [];
  sort.forEach(([field, dir], i) => {
    const d = dir === 1 ? 'ASC' : 'DESC';
    if (COLUMNS.has(field)) {
      order.push(`r."${field}" ${d}`);
      return;
    }
    if (DOC_FIELDS.has(field)) {
      order.push(`json_extract(r.doc, '$.${field}') ${d}`);
      return;
    }
    const open = OPEN.exec(field);
    if (!open) throw new Error(`a validated run sort names ${field}`);
    const [, head, key] = open;
    const kind = head === 'metric_steps' ? VALUE_KIND.metrics : VALUE_KIND[head as keyof typeof VALUE_KIND];
    joins.push(`LEFT JOIN tracking_values o${i} ON o${i}.run = r.id AND o${i}.kind = ${kind} AND o${i}.key = ?`);
    joinParams.push(key);
    // A missing value is NULL: first ascending, last descending, as the store orders no value.
    order.push(head === 'metric_steps' ? `o${i}.step ${d}` : `o${i}.rank ${d}, o${i}.value ${d}`);
  });
  const sql = `SELECT r.doc FROM tracking_runs r${joins.map((j) => ` ${j}`).join('')}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order.join(', ')}`;
  return { sql, params: [...joinParams, ...whereParams] };
}
