/**
 * Model filters: Mongo-style documents that only our own code builds, from
 * an allow-list of fields and operators. Every metadata backend runs the same
 * validator first, so nothing a user types can reach a store as `$where`,
 * `$function`, `$expr`, a raw `$regex` or a `__proto__` key.
 *
 *   fields     the model record's fields (MODEL_FIELDS) and `options.<path>`
 *   operators  $eq $ne $gt $gte $lt $lte $in, $regex only in the exact shape
 *              that `like()` produces, and $and / $or / $nor ("not")
 *
 * MongoDB runs the documents server-side; the SQLite backend evaluates the
 * same documents with the same semantics (SQL where it can, match.ts in memory otherwise).
 */
import { MlmodelError } from '../errors.js';
import { MODEL_FIELD_NAMES, MODEL_FIELD_TABLE, type FieldType } from './model-fields.js';

export type { FieldType };

export type Scalar = string | number | boolean | Date | null;

export interface FieldOperators {
  $eq?: Scalar;
  $ne?: Scalar;
  $gt?: Scalar;
  $gte?: Scalar;
  $lt?: Scalar;
  $lte?: Scalar;
  $in?: Scalar[];
  /** Only as produced by `like()`: anchored, escaped, `[\s\S]` wildcards. */
  $regex?: string;
}

export type FieldCondition = Scalar | FieldOperators;

export interface FilterDoc {
  $and?: FilterDoc[];
  $or?: FilterDoc[];
  $nor?: FilterDoc[];
  [field: string]: FieldCondition | FilterDoc[] | undefined;
}

export type SortDirection = 1 | -1;
export type SortSpec = Array<[field: string, direction: SortDirection]>;

export interface ModelQuery {
  filter?: FilterDoc;
  sort?: SortSpec;
  /** At most this many records; 0 returns none; absent means no limit. */
  limit?: number;
}

/** A query after validation: the sort always includes `id` (the tie-break). */
export interface ValidQuery {
  filter: FilterDoc;
  sort: SortSpec;
  limit: number | null;
}

/**
 * The fields of a model record a filter or a sort may name, with their types
 * (from the one field table, model-fields.ts). `options.<path>` (the extra
 * import options) is open-ended and typed `any`.
 */
export const MODEL_FIELDS: Readonly<Record<string, FieldType>> = Object.freeze(
  Object.fromEntries(MODEL_FIELD_NAMES.filter((f) => f !== 'options').map((f) => [f, MODEL_FIELD_TABLE[f].type])),
);

const MAX_DEPTH = 32;
const MAX_LIST = 1000;
const MAX_SORT_KEYS = 8;
const OPTION_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const FIELD_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$regex']);
const LOGICAL_OPS = new Set(['$and', '$or', '$nor']);

function invalid(message: string, details: Record<string, unknown> = {}): MlmodelError {
  return new MlmodelError('FILTER_INVALID', message, details);
}

/**
 * Whether user-named segments of a nested path (`options.<a>.<b>`, `<JSON
 * column>.<a>`) may go into a filter: at most 8, each a plain identifier,
 * none of `__proto__`, `constructor`, `prototype`. Compilers check this
 * before building a filter; validateFilter checks it again for `options.`.
 */
export function isNestedPath(segments: readonly string[]): boolean {
  return segments.length >= 1 && segments.length <= 8 && segments.every((s) => OPTION_SEGMENT.test(s) && !FORBIDDEN_SEGMENTS.has(s));
}

/** The type of a filterable field, or throws FILTER_INVALID naming the valid ones. */
function fieldType(field: string): FieldType {
  if (Object.prototype.hasOwnProperty.call(MODEL_FIELDS, field)) return MODEL_FIELDS[field]!;
  if (field.startsWith('options.')) {
    const segments = field.slice('options.'.length).split('.');
    if (
      segments.length >= 1 &&
      segments.length <= 8 &&
      segments.every((s) => OPTION_SEGMENT.test(s) && !FORBIDDEN_SEGMENTS.has(s))
    ) {
      return 'any';
    }
  }
  throw invalid(`unknown field "${field}"; valid fields: ${Object.keys(MODEL_FIELDS).join(', ')}, options.<name>`, {
    field,
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkValue(field: string, type: FieldType, op: string, v: unknown): Scalar {
  const allowNull = op === '$eq' || op === '$ne' || op === '$in';
  if (v === null) {
    if (allowNull) return null;
    throw invalid(`${field}: ${op} needs a value, not null`, { field, op });
  }
  const want = type === 'string[]' ? 'string' : type;
  switch (want) {
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'number':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      break;
    case 'date':
      if (v instanceof Date && !Number.isNaN(v.getTime())) return new Date(v.getTime());
      break;
    case 'any':
      if (typeof v === 'string' || typeof v === 'boolean') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
  }
  throw invalid(`${field}: ${op} expects a ${want === 'any' ? 'string, number or boolean' : want} value`, {
    field,
    op,
    got: v instanceof Date ? 'date' : Array.isArray(v) ? 'array' : typeof v,
  });
}

function validateCondition(field: string, cond: unknown, typeOf: FieldTypeOf): FieldCondition {
  const type = typeOf(field);
  if (!isPlainObject(cond)) {
    return checkValue(field, type, '$eq', cond);
  }
  const keys = Object.keys(cond);
  if (keys.length === 0) throw invalid(`${field}: empty condition`, { field });
  const out: FieldOperators = {};
  for (const op of keys) {
    if (!FIELD_OPS.has(op)) {
      throw invalid(`${field}: operator "${op}" is not allowed`, { field, op });
    }
    const v = cond[op];
    if (op === '$in') {
      if (!Array.isArray(v)) throw invalid(`${field}: $in expects a list`, { field });
      if (v.length > MAX_LIST) throw invalid(`${field}: $in accepts at most ${MAX_LIST} values`, { field });
      out.$in = v.map((x) => checkValue(field, type, '$in', x));
    } else if (op === '$regex') {
      if (type !== 'string' && type !== 'string[]' && type !== 'any') {
        throw invalid(`${field}: like applies to text fields only`, { field });
      }
      if (typeof v !== 'string' || regexToLikeTokens(v) === null) {
        // Only our like() compiler's output is accepted: no user regex.
        throw invalid(`${field}: $regex is only accepted as produced by like()`, { field });
      }
      out.$regex = v;
    } else {
      out[op as '$eq'] = checkValue(field, type, op, v);
    }
  }
  return out;
}

/** The type of a field a filter names, or FILTER_INVALID: model fields by default, run fields for the tracking store. */
export type FieldTypeOf = (field: string) => FieldType;

function validateDoc(doc: unknown, depth: number, typeOf: FieldTypeOf): FilterDoc {
  if (depth > MAX_DEPTH) throw invalid(`filter nested deeper than ${MAX_DEPTH} levels`);
  if (!isPlainObject(doc)) throw invalid('a filter must be a plain object');
  const out: FilterDoc = {};
  for (const key of Object.keys(doc)) {
    const value = doc[key];
    if (key.startsWith('$')) {
      if (!LOGICAL_OPS.has(key)) throw invalid(`operator "${key}" is not allowed`, { op: key });
      if (!Array.isArray(value) || value.length === 0) {
        throw invalid(`${key} expects a non-empty list of filters`, { op: key });
      }
      if (value.length > MAX_LIST) throw invalid(`${key} accepts at most ${MAX_LIST} filters`, { op: key });
      out[key as '$and'] = value.map((d) => validateDoc(d, depth + 1, typeOf));
    } else {
      if (value === undefined) throw invalid(`${key}: missing value`, { field: key });
      out[key] = validateCondition(key, value, typeOf);
    }
  }
  return out;
}

/**
 * Checks a filter against the allow-list and returns a fresh copy of it (so a
 * later change to the caller's object cannot change what runs). Throws
 * MlmodelError FILTER_INVALID.
 */
export function validateFilter(doc: unknown, typeOf: FieldTypeOf = fieldType): FilterDoc {
  if (doc === undefined) return {};
  return validateDoc(doc, 0, typeOf);
}

export function validateSort(sort: unknown, typeOf: FieldTypeOf = fieldType): SortSpec {
  if (sort === undefined) return [];
  if (!Array.isArray(sort)) throw invalid('sort must be a list of [field, 1|-1]');
  if (sort.length > MAX_SORT_KEYS) throw invalid(`sort accepts at most ${MAX_SORT_KEYS} fields`);
  const seen = new Set<string>();
  const out: SortSpec = [];
  for (const entry of sort) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw invalid('sort entries are [field, 1|-1]');
    }
    const [field, dir] = entry as [string, unknown];
    typeOf(field);
    if (dir !== 1 && dir !== -1) throw invalid(`sort ${field}: direction must be 1 or -1`, { field });
    if (seen.has(field)) throw invalid(`sort names ${field} twice`, { field });
    seen.add(field);
    out.push([field, dir]);
  }
  return out;
}

/** The sort with `id` appended (see validateQuery): a total order of model records. */
export function withTieBreak(sort: SortSpec): SortSpec {
  if (sort.some(([f]) => f === 'id')) return sort;
  return [...sort, ['id', sort.length > 0 ? sort[sort.length - 1]![1] : 1]];
}

/**
 * Validates a whole query. The sort gets `id` appended as the last key
 * (unless present) so that ties come out in the same order on every backend,
 * which makes `head N` deterministic. It runs in the direction of the last
 * key: `sort -modified` is then (modified desc, id desc), which one index on
 * (modified, id) serves by scanning backwards, in SQLite and MongoDB alike.
 */
export function validateQuery(query: ModelQuery = {}): ValidQuery {
  const filter = validateFilter(query.filter);
  const sort = withTieBreak(validateSort(query.sort));
  let limit: number | null = null;
  if (query.limit !== undefined && query.limit !== null) {
    if (!Number.isSafeInteger(query.limit) || query.limit < 0) {
      throw invalid('limit must be a non-negative integer', { limit: query.limit });
    }
    limit = query.limit;
  }
  return { filter, sort, limit };
}

// ---------------------------------------------------------------------------
// like: `%` any run of characters, `_` exactly one, `\` escapes the next one.

export type LikeToken = { kind: 'any' } | { kind: 'one' } | { kind: 'lit'; text: string };

const REGEX_SPECIAL = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '/']);
const ANY = '[\\s\\S]*';
const ONE = '[\\s\\S]';

export function parseLike(pattern: string): LikeToken[] {
  const tokens: LikeToken[] = [];
  const pushLit = (c: string) => {
    const last = tokens[tokens.length - 1];
    if (last && last.kind === 'lit') last.text += c;
    else tokens.push({ kind: 'lit', text: c });
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      // `\x` is a literal x; a trailing lone `\` is a literal backslash.
      const next = pattern[i + 1];
      if (next === undefined) pushLit('\\');
      else {
        pushLit(next);
        i++;
      }
    } else if (c === '%') {
      // `%%` means the same as `%`.
      if (tokens[tokens.length - 1]?.kind !== 'any') tokens.push({ kind: 'any' });
    } else if (c === '_') {
      // A run of `%` and `_` means "at least that many `_`": written as the
      // `_`s then one `%`, so that no regex engine sees two unbounded
      // repetitions side by side (`%_%_%_…` made a backtracking engine try
      // every split of the text among them).
      if (tokens[tokens.length - 1]?.kind === 'any') tokens.splice(tokens.length - 1, 0, { kind: 'one' });
      else tokens.push({ kind: 'one' });
    } else {
      pushLit(c);
    }
  }
  return tokens;
}

/**
 * Compiles a like pattern into an anchored regex string in which every
 * literal character is escaped: the only regex a filter may carry.
 * `[\s\S]` rather than `.` so that newlines match too, on every engine.
 */
export function likeToRegex(pattern: string): string {
  let out = '^';
  for (const t of parseLike(pattern)) {
    if (t.kind === 'any') out += ANY;
    else if (t.kind === 'one') out += ONE;
    else for (const c of t.text) out += REGEX_SPECIAL.has(c) ? `\\${c}` : c;
  }
  return `${out}$`;
}

/** Parses a regex back into like tokens; null if it is not exactly likeToRegex output. */
export function regexToLikeTokens(re: string): LikeToken[] | null {
  if (!re.startsWith('^') || !re.endsWith('$') || re.length < 2) return null;
  const body = re.slice(1, -1);
  const tokens: LikeToken[] = [];
  let i = 0;
  while (i < body.length) {
    if (body.startsWith(ANY, i)) {
      if (tokens[tokens.length - 1]?.kind === 'any') return null;
      tokens.push({ kind: 'any' });
      i += ANY.length;
    } else if (body.startsWith(ONE, i)) {
      // likeToRegex writes each run of wildcards as the `_`s first (see parseLike).
      if (tokens[tokens.length - 1]?.kind === 'any') return null;
      tokens.push({ kind: 'one' });
      i += ONE.length;
    } else {
      let c = body[i]!;
      if (c === '\\') {
        const next = body[i + 1];
        if (next === undefined || !REGEX_SPECIAL.has(next)) return null;
        c = next;
        i += 2;
      } else {
        if (REGEX_SPECIAL.has(c)) return null;
        i += 1;
      }
      const last = tokens[tokens.length - 1];
      if (last && last.kind === 'lit') last.text += c;
      else tokens.push({ kind: 'lit', text: c });
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------
// Builders: what the planner uses to make filters. They produce documents
// the validator accepts; they do not validate field names themselves.

export const F = {
  eq: (field: string, value: Scalar): FilterDoc => ({ [field]: { $eq: value } }),
  ne: (field: string, value: Scalar): FilterDoc => ({ [field]: { $ne: value } }),
  gt: (field: string, value: Scalar): FilterDoc => ({ [field]: { $gt: value } }),
  gte: (field: string, value: Scalar): FilterDoc => ({ [field]: { $gte: value } }),
  lt: (field: string, value: Scalar): FilterDoc => ({ [field]: { $lt: value } }),
  lte: (field: string, value: Scalar): FilterDoc => ({ [field]: { $lte: value } }),
  in: (field: string, values: Scalar[]): FilterDoc => ({ [field]: { $in: [...values] } }),
  like: (field: string, pattern: string): FilterDoc => ({ [field]: { $regex: likeToRegex(pattern) } }),
  and: (...docs: FilterDoc[]): FilterDoc => (docs.length === 1 ? docs[0]! : { $and: docs }),
  or: (...docs: FilterDoc[]): FilterDoc => (docs.length === 1 ? docs[0]! : { $or: docs }),
  /** Mongo has no top-level $not; `$nor: [x]` is "not x", missing fields included. */
  not: (doc: FilterDoc): FilterDoc => ({ $nor: [doc] }),
};

/** Calls fn for every `$regex` condition in a validated filter, replacing it with the result. */
export function mapRegexes(doc: FilterDoc, fn: (regex: string) => Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (LOGICAL_OPS.has(key)) {
      out[key] = (value as FilterDoc[]).map((d) => mapRegexes(d, fn));
    } else if (isPlainObject(value)) {
      const ops: Record<string, unknown> = {};
      for (const [op, v] of Object.entries(value)) {
        if (op === '$regex') Object.assign(ops, fn(v as string));
        else ops[op] = v;
      }
      out[key] = ops;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * The filter as mingo gets it (see filterQuery in ./mingo.ts): each
 * like-regex becomes a `$like` condition that the project's linear matcher
 * evaluates, never a RegExp (V8 backtracks, and a like pattern can make it
 * take minutes on one value).
 */
export function toMingo(doc: FilterDoc): Record<string, unknown> {
  return mapRegexes(doc, (re) => ({ $like: re }));
}
