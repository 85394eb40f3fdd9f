/**
 * Metadata in MongoDB (or a MongoDB-compatible server) through the official
 * driver. Every registry write asks for write concern majority with
 * journaling. Exclusivity relies only on unique indexes (see metadata.ts):
 * it holds on MongoDB ≥ 4.4 and on FerretDB v1, which has neither atomic
 * `$inc` nor multi-document transactions.
 */
import {
  MongoClient,
  MongoServerError,
  type Collection,
  type Db,
  type IndexDescription,
  type MongoClientOptions,
  type WriteConcernSettings,
} from 'mongodb';
import { MlmodelError } from '../errors.js';
import { redactError, redactUrl, Secret } from '../config/redact.js';
import { mapRegexes, validateFilter, validateQuery, type FilterDoc, type ModelQuery } from './filter.js';
import {
  backoff,
  checkClaimArgs,
  checkRecord,
  checkSequence,
  checkUpdate,
  cloneRecord,
  MAX_CLAIM_ATTEMPTS,
  checkStreamSignal,
  STREAM_PAGE,
  type ClaimWriteOptions,
  type MetadataStore,
  type StreamOptions,
  type ModelRecord,
  type ModelUpdate,
  type NameClaim,
  checkServing,
} from './metadata.js';
import type { ServingQuery, ServingRecord, ServingState } from './serving-records.js';

const WRITE_CONCERN: WriteConcernSettings = { w: 'majority', journal: true };

/** The indexes the store creates; list queries are served from them. */
export const MODEL_INDEXES: IndexDescription[] = [
  { key: { uid: 1 }, name: 'uid_unique', unique: true },
  { key: { id: 1 }, name: 'id_unique', unique: true },
  { key: { user: 1, name: 1, version: 1 }, name: 'user_name_version_unique', unique: true },
  { key: { model_uid: 1, version: 1 }, name: 'model_uid_version' },
  { key: { type: 1, category: 1, modified: -1, id: -1 }, name: 'type_category_modified' },
  { key: { latest: 1, modified: -1, id: -1 }, name: 'latest_modified' },
  { key: { modified: -1, id: -1 }, name: 'modified' },
  { key: { create: -1, id: -1 }, name: 'create' },
  { key: { name: 1, version: 1 }, name: 'name_version' },
  // The list sorted by name or id (the web page's sortable columns, keyset paging).
  { key: { latest: 1, name: 1, id: 1 }, name: 'latest_name' },
  { key: { latest: 1, id: -1 }, name: 'latest_id' },
];
const SEQ_INDEXES: IndexDescription[] = [{ key: { seq: 1, n: 1 }, name: 'seq_n_unique', unique: true }];
const NAME_INDEXES: IndexDescription[] = [{ key: { scope: 1, name: 1 }, name: 'scope_name_unique', unique: true }];
const SERVING_INDEXES: IndexDescription[] = [
  { key: { model_uid: 1, version: 1 }, name: 'model_uid_version_unique', unique: true },
  { key: { state: 1 }, name: 'state' },
];

export interface MongoMetadataOptions {
  /** mongodb:// or mongodb+srv:// connection string. */
  url: string | Secret;
  /** Database name (default: the URL's, else 'mlmodel'). */
  database: string;
  /** Extra secrets to hide in error messages. */
  secrets?: Secret[];
  /** Passed to MongoClient (e.g. monitorCommands for tests). */
  clientOptions?: MongoClientOptions;
}

interface ModelDoc extends ModelRecord {
  _id: string;
}

interface SeqDoc {
  seq: string;
  n: number;
  owner: string;
  at: Date;
}

export class MongoMetadataStore implements MetadataStore {
  readonly kind = 'mongodb';
  readonly location: string;
  readonly #url: Secret;
  readonly #database: string;
  readonly #secrets: Secret[];
  readonly #clientOptions: MongoClientOptions;
  #client: MongoClient | null = null;
  #db: Db | null = null;

  constructor(options: MongoMetadataOptions) {
    this.#url = typeof options.url === 'string' ? new Secret(options.url) : options.url;
    this.#database = options.database;
    this.#secrets = [...(options.secrets ?? [])];
    this.#clientOptions = options.clientOptions ?? {};
    this.location = `${redactUrl(this.#url.reveal())} (database ${this.#database})`;
  }

  /** The driver client, e.g. for command monitoring in tests. */
  get client(): MongoClient {
    if (!this.#client) throw new MlmodelError('STORE_UNAVAILABLE', 'the metadata store is not open (call init())');
    return this.#client;
  }

  async init(): Promise<void> {
    if (this.#db) return;
    let client: MongoClient;
    try {
      client = new MongoClient(this.#url.reveal(), {
        appName: 'mlmodel',
        serverSelectionTimeoutMS: 15_000,
        writeConcern: WRITE_CONCERN,
        ...this.#clientOptions,
      });
    } catch (e) {
      // The driver refuses the connection string itself (an unknown option, an
      // unencoded character in the password): the configuration is wrong.
      const safe = redactError(e, [this.#url, ...this.#secrets]);
      throw new MlmodelError('CONFIG_INVALID', `MongoDB ${this.location}: the connection string is not usable: ${safe.message}`, {
        driverError: safe.name,
      });
    }
    try {
      await client.connect();
      const db = client.db(this.#database);
      await db.command({ ping: 1 });
      await ensureIndexes(db.collection('models'), MODEL_INDEXES);
      await ensureIndexes(db.collection('seq_claims'), SEQ_INDEXES);
      await ensureIndexes(db.collection('name_claims'), NAME_INDEXES);
      await ensureIndexes(db.collection('servings'), SERVING_INDEXES);
      this.#client = client;
      this.#db = db;
    } catch (e) {
      await client.close().catch(() => undefined);
      throw this.#error(e, 'cannot open');
    }
  }

  /** No multi-document transactions are relied on (docs/reliability.md): each write is durable on its own. */
  async group<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#db = null;
    await client?.close();
  }

  #coll<T extends object>(name: 'models' | 'seq_claims' | 'name_claims' | 'servings'): Collection<T> {
    if (!this.#db) throw new MlmodelError('STORE_UNAVAILABLE', 'the metadata store is not open (call init())');
    return this.#db.collection<T>(name, { writeConcern: WRITE_CONCERN });
  }

  get #models(): Collection<ModelDoc> {
    return this.#coll<ModelDoc>('models');
  }

  async #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.#error(e, what);
    }
  }

  #error(e: unknown, what: string): MlmodelError {
    if (e instanceof MlmodelError) return e;
    const secrets = [this.#url, ...this.#secrets];
    if (isDuplicateKey(e)) {
      const index = duplicateIndex(e);
      return new MlmodelError('DUPLICATE_KEY', `duplicate key (${index})`, { index });
    }
    const safe = redactError(e, secrets);
    const name = e instanceof Error ? e.name : '';
    const code =
      /Network|ServerSelection|Topology|PoolClosed|NotConnected/.test(name) || name === 'MongoServerSelectionError' || backendUnavailable(e)
        ? 'STORE_UNAVAILABLE'
        : 'STORE_ERROR';
    return new MlmodelError(code, `MongoDB ${this.location}: ${what}: ${safe.message}`, { driverError: safe.name }, { cause: safe });
  }

  async insertModel(record: ModelRecord): Promise<void> {
    const rec = checkRecord(record);
    try {
      await this.#models.insertOne({ _id: rec.uid, ...rec });
    } catch (e) {
      throw await this.#duplicateDetail(this.#error(e, 'insert model'), rec);
    }
  }

  /**
   * Names the unique index a duplicate-key error came from. MongoDB says so
   * in the error; FerretDB does not, so then we look for the colliding record.
   */
  async #duplicateDetail(
    err: MlmodelError,
    rec: Pick<ModelRecord, 'uid' | 'id' | 'user' | 'name' | 'version'>,
    isUpdate = false,
  ): Promise<MlmodelError> {
    if (err.code !== 'DUPLICATE_KEY' || err.details.index !== 'unknown') return err;
    const probes: Array<[string, Record<string, unknown>]> = [
      ...(isUpdate ? [] : ([['uid', { uid: rec.uid }]] as Array<[string, Record<string, unknown>]>)),
      ['id', { id: rec.id, uid: { $ne: rec.uid } }],
      ['user_name_version', { user: rec.user, name: rec.name, version: rec.version, uid: { $ne: rec.uid } }],
    ];
    for (const [index, filter] of probes) {
      if (await this.#models.findOne(filter, { projection: { _id: 1 } }).catch(() => null)) {
        return new MlmodelError('DUPLICATE_KEY', `duplicate key (${index})`, { index });
      }
    }
    return err;
  }

  async getModel(uid: string): Promise<ModelRecord | null> {
    const doc = await this.#run('get model', () => this.#models.findOne({ uid }, { projection: { _id: 0 } }));
    return doc ? cloneRecord(doc) : null;
  }

  async updateModel(uid: string, set: ModelUpdate, where?: FilterDoc): Promise<ModelRecord | null> {
    const patch = checkUpdate(set);
    const filter = where === undefined ? { uid } : { $and: [{ uid }, toServerFilter(validateFilter(where))] };
    let doc: ModelDoc | null;
    try {
      // No projection: FerretDB v1 does not implement findAndModify's "fields".
      doc = await this.#models.findOneAndUpdate(filter, { $set: patch }, { returnDocument: 'after' });
    } catch (e) {
      const err = this.#error(e, 'update model');
      const current = err.code === 'DUPLICATE_KEY' ? await this.#models.findOne({ uid }).catch(() => null) : null;
      throw current ? await this.#duplicateDetail(err, { ...current, ...patch, uid }, true) : err;
    }
    return doc ? cloneRecord(doc) : null;
  }

  async updateModels(filter: FilterDoc, set: ModelUpdate): Promise<number> {
    const patch = checkUpdate(set);
    const f = toServerFilter(validateFilter(filter));
    const res = await this.#run('update models', () => this.#models.updateMany(f, { $set: patch }));
    return res.matchedCount;
  }

  async deleteModel(uid: string): Promise<boolean> {
    const res = await this.#run('delete model', () => this.#models.deleteOne({ uid }));
    return res.deletedCount > 0;
  }

  async deleteModels(filter: FilterDoc): Promise<number> {
    const f = toServerFilter(validateFilter(filter));
    const res = await this.#run('delete models', () => this.#models.deleteMany(f));
    return res.deletedCount;
  }

  /** One `find` carrying filter, sort and limit: the server does all three. */
  async findModels(query: ModelQuery = {}): Promise<ModelRecord[]> {
    const q = validateQuery(query);
    if (q.limit === 0) return [];
    const docs = await this.#run('find models', () =>
      this.#models
        .find(toServerFilter(q.filter), {
          sort: q.sort,
          projection: { _id: 0 },
          ...(q.limit !== null ? { limit: q.limit } : {}),
        })
        .toArray(),
    );
    return docs.map((d) => cloneRecord(d));
  }

  /** The same `find` as findModels, read through its cursor a batch at a time (getMore), closed when the stream ends or is left. */
  async *streamModels(query: ModelQuery = {}, opts: StreamOptions = {}): AsyncGenerator<ModelRecord[], void, undefined> {
    const q = validateQuery(query);
    if (q.limit === 0) return;
    checkStreamSignal(opts.signal);
    const size = opts.pageSize ?? STREAM_PAGE;
    const cursor = this.#models.find(toServerFilter(q.filter), {
      sort: q.sort,
      projection: { _id: 0 },
      batchSize: size,
      ...(q.limit !== null ? { limit: q.limit } : {}),
    });
    try {
      let page: ModelRecord[] = [];
      for (;;) {
        const doc = await this.#run('find models', () => cursor.next());
        if (doc === null) break;
        page.push(cloneRecord(doc));
        // A page ends with the batch the server sent: the next one is fetched only when asked for.
        if (page.length >= size || cursor.bufferedCount() === 0) {
          yield page;
          page = [];
          checkStreamSignal(opts.signal);
        }
      }
      if (page.length > 0) yield page;
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  async countModels(filter?: FilterDoc): Promise<number> {
    const f = toServerFilter(validateFilter(filter ?? {}));
    return this.#run('count models', () => this.#models.countDocuments(f));
  }

  async claimNext(sequence: string, owner: string): Promise<number> {
    checkSequence(sequence);
    checkClaimArgs('sequence', sequence, owner);
    const seqs = this.#coll<SeqDoc>('seq_claims');
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const n = (await this.lastClaimed(sequence)) + 1;
      try {
        // The unique (seq, n) index admits exactly one claimer of n; losers
        // read the new maximum and try the next number.
        await seqs.insertOne({ seq: sequence, n, owner, at: new Date() });
        return n;
      } catch (e) {
        if (!isDuplicateKey(e)) throw this.#error(e, 'claim next number');
        await backoff(attempt);
      }
    }
    throw new MlmodelError('CONFLICT', `could not claim the next number of ${sequence}: too much contention`, { sequence });
  }

  async lastClaimed(sequence: string): Promise<number> {
    checkSequence(sequence);
    const last = await this.#run('read sequence', () =>
      this.#coll<SeqDoc>('seq_claims').findOne({ seq: sequence }, { sort: { n: -1 }, projection: { n: 1 } }),
    );
    return last?.n ?? 0;
  }

  async claimOwner(sequence: string, n: number): Promise<string | null> {
    checkSequence(sequence);
    const doc = await this.#run('read claim', () => this.#coll<SeqDoc>('seq_claims').findOne({ seq: sequence, n }));
    return doc?.owner ?? null;
  }

  async claimName(scope: string, name: string, owner: string, _opts: ClaimWriteOptions = {}): Promise<boolean> {
    checkClaimArgs(scope, name, owner);
    try {
      await this.#coll<NameClaim>('name_claims').insertOne({ scope, name, owner, at: new Date() });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw this.#error(e, 'claim name');
    }
  }

  async getClaim(scope: string, name: string): Promise<NameClaim | null> {
    const doc = await this.#run('read claim', () =>
      this.#coll<NameClaim>('name_claims').findOne({ scope, name }, { projection: { _id: 0 } }),
    );
    return doc ? { scope: doc.scope, name: doc.name, owner: doc.owner, at: doc.at } : null;
  }

  async releaseName(scope: string, name: string, owner: string, _opts: ClaimWriteOptions = {}): Promise<boolean> {
    checkClaimArgs(scope, name, owner);
    const res = await this.#run('release claim', () => this.#coll<NameClaim>('name_claims').deleteOne({ scope, name, owner }));
    return res.deletedCount > 0;
  }

  async renewClaim(scope: string, name: string, owner: string, _opts: ClaimWriteOptions = {}): Promise<boolean> {
    checkClaimArgs(scope, name, owner);
    const res = await this.#run('renew claim', () =>
      this.#coll<NameClaim>('name_claims').updateOne({ scope, name, owner }, { $set: { at: new Date() } }),
    );
    return res.matchedCount > 0;
  }

  async listClaims(scope: string): Promise<NameClaim[]> {
    const docs = await this.#run('list claims', () =>
      this.#coll<NameClaim>('name_claims').find({ scope }, { sort: { name: 1 }, projection: { _id: 0 } }).toArray(),
    );
    return docs.map((d) => ({ scope: d.scope, name: d.name, owner: d.owner, at: d.at }));
  }

  async insertServing(record: ServingRecord): Promise<void> {
    checkServing(record);
    try {
      await this.#coll<ServingRecord>('servings').insertOne({ ...record });
    } catch (e) {
      if (isDuplicateKey(e)) {
        throw new MlmodelError('DUPLICATE_KEY', 'duplicate key (serving version)', { index: 'serving_version' });
      }
      throw this.#error(e, 'insert serving');
    }
  }

  async setServingState(query: ServingQuery & { version?: number }, state: ServingState, at: Date): Promise<number> {
    const r = await this.#run('update servings', () =>
      this.#coll<ServingRecord>('servings').updateMany(servingFilter(query), { $set: { state, updated_at: at } }),
    );
    return r.modifiedCount;
  }

  async findServings(query: ServingQuery = {}): Promise<ServingRecord[]> {
    return this.#run('find servings', () =>
      this.#coll<ServingRecord>('servings')
        .find(servingFilter(query), { sort: { model_uid: 1, version: 1 }, projection: { _id: 0 } })
        .toArray(),
    ) as Promise<ServingRecord[]>;
  }

  async deleteServings(modelUid: string): Promise<number> {
    const r = await this.#run('delete servings', () => this.#coll<ServingRecord>('servings').deleteMany({ model_uid: modelUid }));
    return r.deletedCount;
  }
}

/**
 * The filter as sent to the server. like-regexes end in `\z` rather than `$`:
 * in PCRE (MongoDB) `$` also matches before a final newline, `\z` only at
 * the very end, which is what like means and what JavaScript's `$` does.
 */
export function toServerFilter(doc: FilterDoc): Record<string, unknown> {
  return mapRegexes(doc, (re) => ({ $regex: `${re.slice(0, -1)}\\z` }));
}

/**
 * Creates the indexes that are missing, one per command. FerretDB v1.24.2
 * drops the connection (a server-side panic) when one createIndexes command
 * lists two or more indexes that already exist, which every second open of
 * a database would do.
 */
export async function ensureIndexes(coll: Collection, specs: IndexDescription[]): Promise<void> {
  let existing: string[] = [];
  try {
    existing = (await coll.listIndexes().toArray()).map((i) => String(i.name));
  } catch (e) {
    // NamespaceNotFound: the collection does not exist yet.
    if (!(e instanceof MongoServerError && e.code === 26)) throw e;
  }
  for (const spec of specs) {
    if (!existing.includes(spec.name!)) await coll.createIndexes([spec]);
  }
}

export function isDuplicateKey(e: unknown): boolean {
  if (e instanceof MongoServerError && e.code === 11000) return true;
  const err = e as { code?: unknown; message?: unknown; writeErrors?: Array<{ code?: unknown }> };
  if (err?.code === 11000 || (Array.isArray(err?.writeErrors) && err.writeErrors.some((w) => w.code === 11000))) return true;
  // FerretDB v1 reports a unique violation inside findAndModify as a plain
  // server error carrying its backend's message, not as code 11000: SQLite's,
  // or PostgreSQL's unique_violation (SQLSTATE 23505).
  return e instanceof MongoServerError && /UNIQUE constraint failed|SQLSTATE 23505/.test(String(err.message));
}

/**
 * FerretDB up, its PostgreSQL down or restarting: FerretDB answers with a
 * server error carrying PostgreSQL's connection failure (SQLSTATE class 08,
 * or 57P01-57P03: shut down, crashed, starting up) or pgx's "failed to
 * connect". The store is unavailable, as when MongoDB itself is.
 */
function backendUnavailable(e: unknown): boolean {
  return e instanceof MongoServerError && /SQLSTATE (08[0-9A-Z]{3}|57P0[123])|failed to connect to `/.test(String(e.message));
}

function duplicateIndex(e: unknown): string {
  const err = e as { keyPattern?: Record<string, unknown>; message?: string; errmsg?: string };
  const keys = err.keyPattern ? Object.keys(err.keyPattern).join(',') : '';
  const msg = `${err.message ?? ''} ${err.errmsg ?? ''}`;
  if (keys === '_id' || keys === 'uid' || /uid_unique|index: _id_/.test(msg)) return 'uid';
  if (keys === 'user,name,version' || /user_name_version_unique/.test(msg)) return 'user_name_version';
  if (keys === 'id' || /id_unique/.test(msg)) return 'id';
  if (keys === 'seq,n' || /seq_n_unique/.test(msg)) return 'sequence';
  if (keys === 'scope,name' || /scope_name_unique/.test(msg)) return 'name_claim';
  return 'unknown';
}

function servingFilter(query: ServingQuery & { version?: number }): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  if (query.model_uid !== undefined) f.model_uid = { $eq: query.model_uid };
  if (query.version !== undefined) f.version = { $eq: query.version };
  if (query.states !== undefined) f.state = { $in: [...query.states] };
  return f;
}
