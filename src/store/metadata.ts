/**
 * The metadata store: model records plus the exclusive claims the registry
 * needs (docs/reliability.md). Two implementations, MongoDB (mongo.ts) and embedded
 * SQLite (sqlite.ts), pass the same conformance suite.
 *
 * Exclusivity never comes from read-modify-write: MongoDB-compatible servers
 * such as FerretDB v1 apply `$inc`/`findOneAndUpdate` as read-then-write and
 * have no multi-document transactions. A number, a name, an alias or a lock
 * that must be exclusive is *claimed* by inserting a document under a unique
 * index and retrying on duplicate key. Claims are never updated in place.
 */
import { MlmodelError } from '../errors.js';
import type { FilterDoc, ModelQuery } from './filter.js';
import { MODEL_FIELD_NAMES, MODEL_FIELD_TABLE, modelField, type UpdatableField } from './model-fields.js';
import type { ServingRecords } from './serving-records.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** ACTIVE: normal. DELETING: a delete has started (objects may be going); fsck finishes it. */
export type ModelState = 'ACTIVE' | 'DELETING';

/**
 * One stored version of a model. Absent optional values are `null`, never
 * `undefined`, so that both backends return identical records.
 */
export interface ModelRecord {
  /** Immutable id of this record (one version); object keys derive from it, never from the name. */
  uid: string;
  /** Immutable id shared by every version of one model; survives renames. */
  model_uid: string;
  /** Sequential record id (1, 2, 3, …), claimed from the 'model-id' sequence. */
  id: number;
  user: string;
  name: string;
  /** 1, 2, 3, … per model, claimed from a per-model sequence. */
  version: number;
  type: string;
  category: string | null;
  algorithm: string | null;
  format: string | null;
  filename: string | null;
  serving: 'on' | 'off';
  serving_name: string | null;
  state: ModelState;
  /** True on the newest version of a model: `list` shows these. */
  latest: boolean;
  create: Date;
  modified: Date;
  /** When this version was stored (`versions`' created): set once, unlike modified. */
  imported: Date;
  size: number;
  sha256: string;
  /** Key of the archive in the object store. */
  object_key: string;
  tags: string[];
  /** Extra import options: feature, label, parameter, evaluation, description, … */
  options: Record<string, JsonValue>;
}

// ModelRecord and the field table name the same fields: a compile error otherwise.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const recordMatchesFieldTable: SameKeys<ModelRecord, typeof MODEL_FIELD_TABLE> = true;
void recordMatchesFieldTable;

/** The fields an update may change; identity (uid, model_uid, id, version, create) never changes. */
export type ModelUpdate = Partial<Pick<ModelRecord, UpdatableField>>;

/** A claimed name (or alias, or lock) in a scope. */
export interface NameClaim {
  scope: string;
  name: string;
  owner: string;
  at: Date;
}

/** Records per page of streamModels: small enough that the first reaches a reader at once, large enough to cost little per record. */
export const STREAM_PAGE = 512;

/**
 * Records of a stream's first page where the store fills its pages itself
 * (SQLite): the first row waits on a whole page's reading, parsing and
 * formatting, about 0.03 ms a record on a quiet machine and 5× that under
 * load, so a 512-record first page kept it 15–80 ms later than it needs be.
 */
export const FIRST_STREAM_PAGE = 32;

export interface StreamOptions {
  readonly signal?: AbortSignal | undefined;
  /** Records per page, the first included (the default: FIRST_STREAM_PAGE, then STREAM_PAGE). */
  readonly pageSize?: number;
}

/** CANCELLED if the stream's signal fired: checked between pages. */
export function checkStreamSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MlmodelError('CANCELLED', 'the query was cancelled');
}

/** Records in memory (already sorted), given out as streamModels pages. */
export async function* pagesOf(records: readonly ModelRecord[], opts: StreamOptions = {}): AsyncGenerator<ModelRecord[], void, undefined> {
  const size = opts.pageSize ?? STREAM_PAGE;
  for (let i = 0; i < records.length; i += size) {
    checkStreamSignal(opts.signal);
    yield records.slice(i, i + size);
  }
}

/**
 * How a claim write is kept. `durable: false` is for leases (engine/lease.ts):
 * a lease is renewed by a living holder and dies with it, so after a power
 * loss — which ends every holder — whether its last write survived changes
 * nothing. The embedded store then commits it without its own fsync (SQLite
 * WAL, synchronous=NORMAL for that one transaction): it is visible to every
 * process at once, and durable with the next durable commit, since the WAL is
 * flushed as a whole. Inside a group the group's commit decides. MongoDB
 * writes it as every other write (the hint is not needed there).
 */
export interface ClaimWriteOptions {
  readonly durable?: boolean;
}

export interface MetadataStore extends ServingRecords {
  /** 'mongodb' or 'sqlite'. */
  readonly kind: string;
  /** Printable location without secrets. */
  readonly location: string;

  /** Creates collections/tables and indexes if missing; idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;

  /**
   * Inserts a record. DUPLICATE_KEY (details.index names which) when its uid,
   * id, or (user, name, version) is taken.
   */
  insertModel(record: ModelRecord): Promise<void>;
  getModel(uid: string): Promise<ModelRecord | null>;
  /**
   * Sets fields on one record; `where` adds conditions (ANDed with the uid).
   * Returns the updated record, or null when none matched. A single-record
   * update, not a claim: use claims for anything that must be exclusive.
   */
  updateModel(uid: string, set: ModelUpdate, where?: FilterDoc): Promise<ModelRecord | null>;
  /** Sets fields on every matching record; returns how many matched. Not atomic across records. */
  updateModels(filter: FilterDoc, set: ModelUpdate): Promise<number>;
  deleteModel(uid: string): Promise<boolean>;
  deleteModels(filter: FilterDoc): Promise<number>;
  /** Filter, sort, limit: validated by validateQuery; the sort ends with `id` ascending. */
  findModels(query?: ModelQuery): Promise<ModelRecord[]>;
  countModels(filter?: FilterDoc): Promise<number>;
  /**
   * The records findModels would return, in its order, read a page at a time
   * (at most `pageSize`, default STREAM_PAGE) from a cursor the store keeps
   * open while the pages are taken, so that a million records never sit in
   * memory at once. A sort the store cannot run in its query (on SQLite, a
   * path that is not a column) needs every matching record first: those are
   * read whole, then given out in pages. Leaving the loop early closes the
   * cursor. CANCELLED, between pages, once `signal` fires. Other calls on the
   * store may run while a stream is open (SQLite reads it on a connection of
   * its own, one snapshot throughout).
   */
  streamModels(query?: ModelQuery, opts?: StreamOptions): AsyncGenerator<ModelRecord[], void, undefined>;

  /**
   * Runs `fn` with the writes it makes grouped into one durable commit where
   * the store can: on SQLite one IMMEDIATE transaction, so one fsync at COMMIT
   * instead of one per write; a nested call is a savepoint, rolled back alone
   * when its `fn` throws (the outer group goes on). Nothing is durable, or
   * visible to other processes, before the outermost call resolves. Stores
   * without multi-document transactions (MongoDB and compatible servers) run
   * `fn` as is, each write durable on its own. For one caller at a time: the
   * other calls on the store during `fn` join the group (the batch runner
   * makes no other calls meanwhile).
   */
  group<T>(fn: () => Promise<T>): Promise<T>;

  /**
   * Claims the next number of a sequence (1 for the first claim): numbers
   * never repeat and never skip, whatever the number of concurrent callers.
   * Sequences: 'model-id', `version:<model_uid>`, `serving-version:<model_uid>`, …
   */
  claimNext(sequence: string, owner: string): Promise<number>;
  /** The highest number claimed so far in a sequence (0 if none). */
  lastClaimed(sequence: string): Promise<number>;
  /** The owner of a claimed number, or null. */
  claimOwner(sequence: string, n: number): Promise<string | null>;

  /** Claims a name in a scope: true if this call took it, false if someone holds it. */
  claimName(scope: string, name: string, owner: string, opts?: ClaimWriteOptions): Promise<boolean>;
  getClaim(scope: string, name: string): Promise<NameClaim | null>;
  /** Releases a claim if `owner` holds it; true if released. */
  releaseName(scope: string, name: string, owner: string, opts?: ClaimWriteOptions): Promise<boolean>;
  /**
   * Moves a claim's `at` to now if `owner` still holds it; true if it did.
   * A heartbeat, not a claim: it tells others the holder is alive (see
   * engine/lease.ts), and its false tells the holder it lost the claim.
   */
  renewClaim(scope: string, name: string, owner: string, opts?: ClaimWriteOptions): Promise<boolean>;
  listClaims(scope: string): Promise<NameClaim[]>;
}

// ---------------------------------------------------------------------------
// Validation shared by both backends: what goes in is what comes out.

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function bad(message: string, details: Record<string, unknown> = {}): MlmodelError {
  return new MlmodelError('INVALID_ARGUMENT', message, details);
}

function checkField(field: string, v: unknown): void {
  const spec = modelField(field);
  if (!spec) throw bad(`unknown model field "${field}"`, { field });
  switch (spec.check) {
    case 'string':
      if (typeof v !== 'string' || v.length === 0) throw bad(`model ${field} must be a non-empty string`, { field });
      if (v.length > 1024) throw bad(`model ${field} is longer than 1024 characters`, { field });
      return;
    case 'nullable-string':
      if (v !== null && typeof v !== 'string') throw bad(`model ${field} must be a string or null`, { field });
      return;
    case 'positive-integer':
      if (!Number.isSafeInteger(v) || (v as number) < 1) throw bad(`model ${field} must be a positive integer`, { field });
      return;
    case 'count':
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad(`model ${field} must be a non-negative integer`, { field });
      return;
    case 'serving':
      if (v !== 'on' && v !== 'off') throw bad(`model ${field} must be 'on' or 'off'`, { field });
      return;
    case 'state':
      if (v !== 'ACTIVE' && v !== 'DELETING') throw bad(`model ${field} must be 'ACTIVE' or 'DELETING'`, { field });
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad(`model ${field} must be a boolean`, { field });
      return;
    case 'date':
      // Millisecond dates: what both MongoDB and our JSON columns keep.
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw bad(`model ${field} must be a valid Date`, { field });
      return;
    case 'tags':
      if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) throw bad(`model ${field} must be a list of strings`, { field });
      return;
    case 'options':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`model ${field} must be an object`, { field });
      checkJson(v, field, 0);
      return;
  }
}

/** Options are plain JSON with keys MongoDB and our filters can address. */
function checkJson(v: unknown, path: string, depth: number): void {
  if (depth > 16) throw bad(`${path}: nested too deeply`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw bad(`${path}: numbers must be finite`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkJson(x, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw bad(`${path}: only plain JSON values are allowed`);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k.length === 0 || k.startsWith('$') || k.includes('.') || k.includes('\0') || FORBIDDEN_KEYS.has(k)) {
        throw bad(`${path}: key "${k}" is not allowed (no leading '$', no '.', not __proto__)`);
      }
      checkJson(x, `${path}.${k}`, depth + 1);
    }
    return;
  }
  throw bad(`${path}: only JSON values are allowed`);
}

/** Validates a full record and returns a normalized deep copy. */
export function checkRecord(record: ModelRecord): ModelRecord {
  if (typeof record !== 'object' || record === null) throw bad('a model record must be an object');
  for (const key of Object.keys(record)) {
    if (!modelField(key)) throw bad(`unknown model field "${key}"`, { field: key });
  }
  for (const field of MODEL_FIELD_NAMES) {
    checkField(field, (record as unknown as Record<string, unknown>)[field]);
  }
  return cloneRecord(record);
}

/** Validates an update and returns a copy of it. */
export function checkUpdate(set: ModelUpdate): ModelUpdate {
  if (typeof set !== 'object' || set === null) throw bad('an update must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(set)) {
    if (!modelField(key)?.updatable) throw bad(`model field "${key}" cannot be updated`, { field: key });
    if (value === undefined) continue;
    checkField(key, value);
    out[key] = cloneValue(value);
  }
  if (Object.keys(out).length === 0) throw bad('an update must set at least one field');
  return out as ModelUpdate;
}

function cloneValue<T>(v: T): T {
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out as T;
  }
  return v;
}

export function cloneRecord(r: ModelRecord): ModelRecord {
  const out: Record<string, unknown> = {};
  for (const f of MODEL_FIELD_NAMES) out[f] = cloneValue(r[f]);
  // Records stored before versions kept their own time: the first version's is
  // the model's create; a later one's is the best known, its last change.
  out.imported ??= cloneValue(importedFallback(r));
  return out as unknown as ModelRecord;
}

/** When a version was stored, for records and bundles written before `imported` existed. */
export function importedFallback(r: { readonly version: number; readonly create: Date; readonly modified: Date }): Date {
  return r.version === 1 ? r.create : r.modified;
}

export function checkSequence(sequence: string): void {
  if (typeof sequence !== 'string' || sequence.length === 0 || sequence.length > 512) {
    throw bad('a sequence name must be a non-empty string of at most 512 characters');
  }
}

export function checkClaimArgs(scope: string, name: string, owner: string): void {
  for (const [what, v] of [
    ['scope', scope],
    ['name', name],
    ['owner', owner],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0 || v.length > 1024) {
      throw bad(`a claim ${what} must be a non-empty string of at most 1024 characters`);
    }
  }
}

/** Waits a little, more after each failed attempt, so 32 racing claimers spread out. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 2 ** Math.min(attempt, 6) / 4) * Math.random();
  return new Promise((r) => setTimeout(r, ms));
}

export const MAX_CLAIM_ATTEMPTS = 1000;

/** Shared checks for serving records, so both backends refuse the same things. */
export function checkServing(r: import('./serving-records.js').ServingRecord): void {
  for (const f of ['model_uid', 'serving_name', 'record_uid'] as const) {
    if (typeof r[f] !== 'string' || r[f].length === 0 || r[f].length > 1024) throw bad(`serving ${f} must be a non-empty string`, { field: f });
  }
  for (const f of ['version', 'model_version'] as const) {
    if (!Number.isSafeInteger(r[f]) || r[f] < 1) throw bad(`serving ${f} must be a positive integer`, { field: f });
  }
  if (r.label !== null && typeof r.label !== 'string') throw bad('serving label must be a string or null');
  if (!['DEPLOYING', 'AVAILABLE', 'STOPPED', 'FAILED'].includes(r.state)) throw bad(`serving state ${String(r.state)} is not valid`);
  for (const f of ['deployed_at', 'updated_at'] as const) {
    if (!(r[f] instanceof Date) || Number.isNaN(r[f].getTime())) throw bad(`serving ${f} must be a valid Date`, { field: f });
  }
}
