/**
 * Tests a record against a validated filter in memory, with MongoDB's
 * semantics for the operators filter.ts allows — what the SQLite store does
 * for the part of a filter SQL cannot express, and what a list's `where`
 * stage does over records it already holds:
 *
 * - a missing field is null: `$eq: null` and `$in: [null]` match it;
 * - `$gt`/`$gte`/`$lt`/`$lte` compare only values of the same kind (numbers
 *   with numbers, text with text by code point, times with times);
 * - a list (tags) matches when one of its elements does; `$ne` and `$nor`
 *   are the negations of the whole field's match;
 * - a dotted path steps through objects, and through the objects in a list.
 *
 * Text compares by code point, as SQLite's BINARY collation and MongoDB do;
 * mingo compares UTF-16 units, which puts 'x😀' before 'x～'.
 */
import { likeMatcher } from './like.js';
import { regexToLikeTokens, type FieldOperators, type FilterDoc, type Scalar } from './filter.js';
import { compareValues } from './order.js';

export type RecordTest = (record: object) => boolean;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The values a dotted path reaches; undefined stands for "missing". */
function reach(v: unknown, segments: readonly string[], i: number, out: unknown[]): void {
  if (i === segments.length) {
    out.push(v);
    return;
  }
  if (Array.isArray(v)) {
    const objects = v.filter(isObject);
    if (objects.length === 0) out.push(undefined);
    for (const o of objects) reach(o, segments, i, out);
    return;
  }
  if (isObject(v) && Object.hasOwn(v, segments[i]!)) reach(v[segments[i]!], segments, i + 1, out);
  else out.push(undefined);
}

/** The scalars a condition is tested on: a list stands for its elements. */
function candidates(record: object, path: string): unknown[] {
  const reached: unknown[] = [];
  reach(record, path.split('.'), 0, reached);
  return reached.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

const kind = (v: unknown) => (v instanceof Date ? 'date' : typeof v);

function equals(x: unknown, v: Scalar): boolean {
  if (v === null) return x === null || x === undefined;
  return kind(x) === kind(v) && compareValues(x, v) === 0;
}

type ValueTest = (values: readonly unknown[]) => boolean;

function operatorTest(op: string, arg: unknown): ValueTest {
  switch (op) {
    case '$eq':
      return (xs) => xs.some((x) => equals(x, arg as Scalar));
    case '$ne':
      return (xs) => !xs.some((x) => equals(x, arg as Scalar));
    case '$in': {
      const list = arg as Scalar[];
      return (xs) => xs.some((x) => list.some((v) => equals(x, v)));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const v = arg as Scalar;
      const holds = op === '$gt' ? (d: number) => d > 0 : op === '$gte' ? (d: number) => d >= 0 : op === '$lt' ? (d: number) => d < 0 : (d: number) => d <= 0;
      return (xs) => xs.some((x) => x !== null && x !== undefined && kind(x) === kind(v) && holds(compareValues(x, v)));
    }
    case '$regex': {
      // Never run as a regex here: V8 backtracks, and `%_%_%_…` would take days (like.ts).
      // validateFilter admits only like()'s output, which reads back as like tokens;
      // `_` matches one code point, as in MongoDB and SQLite.
      const tokens = regexToLikeTokens(arg as string);
      if (tokens === null) throw new Error(`unexpected $regex ${JSON.stringify(arg)}: only like() patterns are filters`);
      const match = likeMatcher(tokens);
      return (xs) => xs.some((x) => typeof x === 'string' && match(x));
    }
    default:
      // validateFilter admits no other operator.
      throw new Error(`unexpected filter operator ${op}`);
  }
}

function fieldTest(path: string, cond: FieldOperators | Scalar): RecordTest {
  const ops: Array<[string, unknown]> = isObject(cond) ? Object.entries(cond) : [['$eq', cond]];
  const tests = ops.map(([op, arg]) => operatorTest(op, arg));
  return (record) => {
    const xs = candidates(record, path);
    return tests.every((t) => t(xs));
  };
}

/** A test for one validated filter (see validateFilter); build once, run on many records. */
export function recordTest(doc: FilterDoc): RecordTest {
  const parts: RecordTest[] = Object.entries(doc).map(([key, value]) => {
    if (key === '$and' || key === '$or' || key === '$nor') {
      const subs = (value as FilterDoc[]).map(recordTest);
      if (key === '$and') return (r) => subs.every((t) => t(r));
      if (key === '$or') return (r) => subs.some((t) => t(r));
      return (r) => !subs.some((t) => t(r));
    }
    return fieldTest(key, value as FieldOperators | Scalar);
  });
  return (record) => parts.every((t) => t(record));
}
