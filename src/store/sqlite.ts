/**
 * Embedded metadata store: one SQLite file in the home dir (better-sqlite3,
 * WAL, synchronous=FULL). Each model record is kept whole as JSON next to
 * real, indexed columns for the common fields. A query's filter, sort and
 * limit go into SQL over those columns wherever SQL can express them with
 * Mongo's semantics; whatever it cannot (options.*, tags, …) is filtered
 * (match.ts) and sorted (order.ts) in memory with MongoDB's semantics on the
 * rows SQL narrowed down, so results are the same as on MongoDB either way.
 *
 * Concurrency (docs/reliability.md, "SQLite under concurrency"): in WAL mode
 * readers never wait for a writer, so nothing that only reads may take the
 * write lock — opening an existing database takes none. When the write lock
 * is busy, SQLite is never left to wait: its busy handler sleeps inside the
 * call and so stops the event loop (an HTTP server would stop answering
 * everyone). busy_timeout is 0, and a busy call is retried after a timer,
 * with backoff, until `busyTimeoutMs`, then fails with STORE_UNAVAILABLE.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { recordTest } from './match.js';
import { sortRecords } from './order.js';
import { preparedOnce } from './sqlite-statements.js';
import { MlmodelError } from '../errors.js';
import {
  regexToLikeTokens,
  validateFilter,
  validateQuery,
  type FieldOperators,
  type FilterDoc,
  type ModelQuery,
  type Scalar,
  type ValidQuery,
} from './filter.js';
import {
  backoff,
  checkClaimArgs,
  checkRecord,
  checkSequence,
  checkUpdate,
  cloneRecord,
  MAX_CLAIM_ATTEMPTS,
  checkStreamSignal,
  pagesOf,
  FIRST_STREAM_PAGE,
  STREAM_PAGE,
  type ClaimWriteOptions,
  type MetadataStore,
  type StreamOptions,
  type ModelRecord,
  type ModelUpdate,
  type NameClaim,
  checkServing,
} from './metadata.js';
import { SQLITE_COLUMNS, modelField, type ColumnKind } from './model-fields.js';
import type { ServingQuery, ServingRecord, ServingState } from './serving-records.js';

/** Record fields kept as real columns (and so usable by SQL), with their kinds: from the one field table. */
const COLUMNS: Readonly<Record<string, ColumnKind>> = Object.fromEntries(SQLITE_COLUMNS);
const COLUMN_NAMES = Object.keys(COLUMNS);

/** The models table's real columns as DDL; uid is the primary key, nullable fields may be NULL. */
const COLUMN_DDL = SQLITE_COLUMNS.map(([f, kind]) => {
  const type = kind === 'text' ? 'TEXT' : 'INTEGER';
  const constraint = f === 'uid' ? ' PRIMARY KEY NOT NULL' : modelField(f)!.check === 'nullable-string' ? '' : ' NOT NULL';
  return `  "${f}" ${type}${constraint},`;
}).join('\n');

const SCHEMA_VERSION = '1';

/** A write of one statement (SqliteMetadataStore's #write). */
const ONE_STATEMENT = { single: true } as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS models (
${COLUMN_DDL}
  "doc" TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS models_id ON models ("id");
CREATE UNIQUE INDEX IF NOT EXISTS models_user_name_version ON models ("user", "name", "version");
CREATE INDEX IF NOT EXISTS models_model_uid ON models ("model_uid", "version");
CREATE INDEX IF NOT EXISTS models_type_category_modified ON models ("type", "category", "modified", "id");
CREATE INDEX IF NOT EXISTS models_latest_modified ON models ("latest", "modified", "id");
CREATE INDEX IF NOT EXISTS models_modified ON models ("modified", "id");
CREATE INDEX IF NOT EXISTS models_create ON models ("create", "id");
CREATE INDEX IF NOT EXISTS models_name ON models ("name", "version");
-- The list sorted by name or id (the web page's sortable columns, keyset paging):
-- a page of a million models is read from the index, not sorted whole.
CREATE INDEX IF NOT EXISTS models_latest_name ON models ("latest", "name", "id");
CREATE INDEX IF NOT EXISTS models_latest_id ON models ("latest", "id");
CREATE INDEX IF NOT EXISTS models_algorithm ON models ("algorithm");
CREATE INDEX IF NOT EXISTS models_serving ON models ("serving", "serving_name");
CREATE TABLE IF NOT EXISTS seq_claims (
  seq TEXT NOT NULL, n INTEGER NOT NULL, owner TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (seq, n)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS servings (
  model_uid TEXT NOT NULL, version INTEGER NOT NULL, serving_name TEXT NOT NULL, record_uid TEXT NOT NULL,
  model_version INTEGER NOT NULL, label TEXT, state TEXT NOT NULL, deployed_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (model_uid, version)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS servings_state ON servings (state);
CREATE TABLE IF NOT EXISTS name_claims (
  scope TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (scope, name)
) STRICT, WITHOUT ROWID;
`;

export interface SqliteMetadataOptions {
  /** The database file (created with its directory if missing). */
  path: string;
  /**
   * Push filter/sort/limit into SQL where possible (default true). false
   * evaluates everything in memory (match.ts, order.ts); the conformance suite runs both ways
   * to prove the two give the same answers.
   */
  pushdown?: boolean;
  /**
   * How long a call waits for another process's write lock before failing
   * with STORE_UNAVAILABLE (default 15 s). The wait is timers, never a
   * blocking sleep.
   */
  busyTimeoutMs?: number;
}

/** How a query runs: the SQL part, and what is left to do in memory. */
export interface SqlitePlan {
  where: string;
  params: unknown[];
  /** The part of the filter SQL could not express (null: none). */
  residual: FilterDoc | null;
  /** ORDER BY clause when the whole sort is on columns, else null (sorted in memory). */
  orderBy: string | null;
  /** Whether LIMIT goes into SQL (only when SQL does filter and sort completely). */
  limitInSql: boolean;
}

interface SqlPart {
  sql: string;
  params: unknown[];
}

export class SqliteMetadataStore implements MetadataStore {
  readonly kind = 'sqlite';
  readonly location: string;
  readonly #path: string;
  readonly #pushdown: boolean;
  readonly #busyTimeoutMs: number;
  #db: Database.Database | null = null;
  /** How many group() calls are open: 0 outside, 1 in the transaction, more in savepoints. */
  #groupDepth = 0;
  /** Whether this connection wrote: only then is `PRAGMA optimize` worth a try at close. */
  #wrote = false;
  readonly #statements = new Map<string, Database.Statement>();
  /**
   * A stream's read connection, kept when its stream ends for the next one:
   * opening one (the file, its WAL and shared memory, the schema read) was a
   * millisecond of every statement of a `-f` script. Between streams none of
   * its statements is stepping (a finished or closed iterator resets its
   * statement), so it holds no read snapshot.
   */
  #idleReader: Reader | null = null;

  constructor(options: SqliteMetadataOptions) {
    this.#path = options.path;
    this.location = options.path;
    this.#pushdown = options.pushdown ?? true;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 15_000;
  }

  async init(): Promise<void> {
    if (this.#db) return;
    let db: Database.Database;
    try {
      if (this.#path !== ':memory:') mkdirSync(dirname(this.#path), { recursive: true });
      // timeout 0: SQLite's own busy wait would block the event loop; #busy waits instead.
      db = new Database(this.#path, { timeout: 0 });
    } catch (e) {
      throw new MlmodelError('STORE_UNAVAILABLE', `cannot open the metadata database ${this.#path}: ${errMessage(e)}`, {
        path: this.#path,
      });
    }
    try {
      // Switching a new file to WAL needs a moment's exclusive lock; on a file
      // already in WAL it is a read.
      await this.#busy(() => db.pragma('journal_mode = WAL'));
      // FULL: a committed write survives power loss, not only a crash.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      // like is case-sensitive, as a MongoDB regex is.
      db.pragma('case_sensitive_like = ON');
      // A database that already has this schema is opened by reading only:
      // taking the write lock here made every reader in another process wait
      // for a running import's whole transaction (and fail after 15 s).
      if (!(await this.#busy(() => schemaReady(db, this.#path)))) {
        await this.#busy(() =>
          db.transaction(() => {
            db.exec(SCHEMA);
            if (!schemaReady(db, this.#path)) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', SCHEMA_VERSION);
          }).immediate(),
        );
        this.#wrote = true;
      }
      // Index statistics, refreshed only when missing or stale (bounded by
      // SQLite's analysis limit): without them the planner takes the
      // low-cardinality (latest, modified) index for a name lookup and scans
      // every model. Usually a read that costs microseconds; when it would
      // write and another process holds the write lock, it is skipped (with
      // busy_timeout 0 it fails at once) and done at a later open.
      tryOptimize(db, 'optimize = 0x10002');
    } catch (e) {
      db.close();
      throw e instanceof MlmodelError ? e : sqliteError(e, this.#path);
    }
    this.#db = db;
  }

  async close(): Promise<void> {
    this.#statements.clear();
    this.#idleReader?.db.close();
    this.#idleReader = null;
    // What SQLite recommends before closing a connection: keeps the
    // statistics current as the registry grows. Only after writes (a reader
    // changed nothing the statistics describe), and never waiting: with
    // busy_timeout 0 a busy database fails at once and still closes.
    if (this.#db && this.#wrote) tryOptimize(this.#db, 'optimize');
    this.#db?.close();
    this.#db = null;
  }

  async group<T>(fn: () => Promise<T>): Promise<T> {
    const db = this.#conn;
    // The depth is read when the transaction begins, after any wait for the
    // write lock: a call that began meanwhile is joined as a savepoint.
    let depth = 0;
    try {
      await this.#busy(() => {
        depth = this.#groupDepth;
        if (depth === 0) {
          // A group's savepoints (one per import, and one per write inside
          // it) journal every page they change so that each can be undone
          // alone; in files, that was about 50 writes of 4 KiB to temporary
          // files per import. Kept in memory for the group's transaction: the
          // statement journal only ever serves ROLLBACK TO inside an open
          // transaction, never recovery after a crash (the WAL does that).
          // SQLite decides where it goes when the write transaction begins.
          this.#run('PRAGMA temp_store = MEMORY');
          this.#run('BEGIN IMMEDIATE');
        } else {
          this.#run(`SAVEPOINT mlmodel_group_${depth}`);
        }
      });
    } catch (e) {
      if (depth === 0) this.#restoreTempStore();
      throw e instanceof MlmodelError ? e : sqliteError(e, this.#path);
    }
    const savepoint = `mlmodel_group_${depth}`;
    this.#groupDepth = depth + 1;
    this.#wrote = true;
    try {
      let result: T;
      try {
        result = await fn();
      } catch (e) {
        this.#groupDepth = depth;
        if (db.inTransaction) {
          try {
            if (depth === 0) this.#run('ROLLBACK');
            else {
              this.#run(`ROLLBACK TO ${savepoint}`);
              this.#run(`RELEASE ${savepoint}`);
            }
          } catch {
            // SQLite may already have rolled back (e.g. after SQLITE_FULL); the error that matters is e.
          }
        }
        throw e;
      }
      this.#groupDepth = depth;
      try {
        // The outermost COMMIT is the one fsync (synchronous = FULL) for everything fn wrote.
        this.#run(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
      } catch (e) {
        if (depth === 0 && db.inTransaction) {
          try {
            this.#run('ROLLBACK');
          } catch {
            // as above
          }
        }
        throw sqliteError(e, this.#path);
      }
      return result;
    } finally {
      if (depth === 0) this.#restoreTempStore();
    }
  }

  /** One statement without parameters or rows (transaction control, pragmas), compiled once per connection. */
  #run(sql: string): void {
    this.#prepare(sql).run();
  }

  /** Back to the default once a group's transaction is over (outside it, SQLite refuses the change). */
  #restoreTempStore(): void {
    try {
      if (!this.#conn.inTransaction) this.#run('PRAGMA temp_store = DEFAULT');
    } catch {
      // Only where statement journals go: the next group sets it again.
    }
  }

  /**
   * Runs `fn`, and again after a timer while SQLite answers SQLITE_BUSY (the
   * write lock is held by another process, or a reader meets another
   * connection's WAL recovery), with backoff up to `busyTimeoutMs`. `fn` must
   * have no effect when it fails busy — one statement, or a transaction that
   * SQLite rolled back — so running it again is safe. The event loop keeps
   * running while this waits.
   */
  async #busy<T>(fn: () => T): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e)) throw e;
        const waited = Date.now() - started;
        if (waited >= this.#busyTimeoutMs) {
          throw new MlmodelError(
            'STORE_UNAVAILABLE',
            `metadata database ${this.#path} is busy: another process has held its write lock for ${Math.round(waited / 100) / 10} s; try again when it is done`,
            { path: this.#path, sqlite: (e as { code?: string }).code, waitedMs: waited },
          );
        }
        // 1, 2, 4 … ms up to 25 ms, jittered so waiting processes spread out; never past the deadline.
        const ms = Math.min(25, 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
        await new Promise((r) => setTimeout(r, Math.min(ms, this.#busyTimeoutMs - waited)));
      }
    }
  }

  /** A prepared statement for this SQL, compiled once per connection (sqlite-statements.ts). */
  #prepare(sql: string): Database.Statement {
    return preparedOnce(this.#conn, this.#statements, sql);
  }

  get #conn(): Database.Database {
    if (!this.#db) throw new MlmodelError('STORE_UNAVAILABLE', 'the metadata store is not open (call init())');
    return this.#db;
  }

  /**
   * `single`: `fn` runs one statement. Inside an open transaction (a group)
   * it then runs as is, without the savepoint better-sqlite3 would wrap it
   * in: a statement that fails is undone alone by SQLite, leaving the
   * transaction open, which is all the savepoint did. A batch import made
   * about ten such writes, each a SAVEPOINT and a RELEASE around it.
   */
  async #write<T>(fn: () => T, opts: ClaimWriteOptions & { readonly single?: boolean } = {}): Promise<T> {
    try {
      // IMMEDIATE takes the write lock first, so a read-then-write inside
      // cannot be invalidated by another process's commit (no SQLITE_BUSY
      // on lock upgrade); when another process holds it, #busy waits.
      const result = await this.#busy(() =>
        opts.single === true && this.#conn.inTransaction ? fn() : opts.durable === false ? this.#withoutFlush(fn) : this.#conn.transaction(fn).immediate(),
      );
      this.#wrote = true;
      return result;
    } catch (e) {
      throw e instanceof MlmodelError ? e : sqliteError(e, this.#path);
    }
  }

  /**
   * One transaction committed without its fsync (see ClaimWriteOptions): the
   * connection is switched to synchronous=NORMAL for it and back to FULL
   * whatever happens. Inside an open group the group's commit is the one
   * that counts, so nothing is switched there.
   */
  #withoutFlush<T>(fn: () => T): T {
    const db = this.#conn;
    if (db.inTransaction) return db.transaction(fn).immediate();
    this.#run('PRAGMA synchronous = NORMAL');
    try {
      return db.transaction(fn).immediate();
    } finally {
      this.#run('PRAGMA synchronous = FULL');
    }
  }

  async #read<T>(fn: () => T): Promise<T> {
    try {
      return await this.#busy(fn);
    } catch (e) {
      throw e instanceof MlmodelError ? e : sqliteError(e, this.#path);
    }
  }

  async insertModel(record: ModelRecord): Promise<void> {
    const rec = checkRecord(record);
    await this.#write(() => {
      this.#prepare(
          `INSERT INTO models (${COLUMN_NAMES.map(q).join(', ')}, "doc") VALUES (${COLUMN_NAMES.map(() => '?').join(', ')}, ?)`,
        )
        .run(...rowValues(rec), JSON.stringify(rec));
    }, ONE_STATEMENT);
  }

  async getModel(uid: string): Promise<ModelRecord | null> {
    const row = await this.#read(
      () => this.#prepare('SELECT doc FROM models WHERE "uid" = ?').get(uid) as { doc: string } | undefined,
    );
    return row ? parseDoc(row.doc) : null;
  }

  async updateModel(uid: string, set: ModelUpdate, where?: FilterDoc): Promise<ModelRecord | null> {
    const patch = checkUpdate(set);
    const cond = where === undefined ? null : validateFilter(where);
    return await this.#write(() => {
      const row = this.#prepare('SELECT doc FROM models WHERE "uid" = ?').get(uid) as { doc: string } | undefined;
      if (!row) return null;
      const current = parseDoc(row.doc);
      if (cond && !recordTest(cond)(current)) return null;
      return this.#applyUpdate(current, patch);
    });
  }

  async updateModels(filter: FilterDoc, set: ModelUpdate): Promise<number> {
    const patch = checkUpdate(set);
    const q = validateQuery({ filter });
    return await this.#write(() => {
      const matched = this.#select(q);
      for (const rec of matched) this.#applyUpdate(rec, patch);
      return matched.length;
    });
  }

  #applyUpdate(current: ModelRecord, patch: ModelUpdate): ModelRecord {
    const next = checkRecord({ ...current, ...patch } as ModelRecord);
    this.#prepare(`UPDATE models SET ${COLUMN_NAMES.map((c) => `${q(c)} = ?`).join(', ')}, "doc" = ? WHERE "uid" = ?`)
      .run(...rowValues(next), JSON.stringify(next), current.uid);
    return next;
  }

  async deleteModel(uid: string): Promise<boolean> {
    return this.#write(() => this.#prepare('DELETE FROM models WHERE "uid" = ?').run(uid).changes > 0, ONE_STATEMENT);
  }

  async deleteModels(filter: FilterDoc): Promise<number> {
    const q = validateQuery({ filter });
    return await this.#write(() => {
      const matched = this.#select(q);
      const del = this.#prepare('DELETE FROM models WHERE "uid" = ?');
      for (const rec of matched) del.run(rec.uid);
      return matched.length;
    });
  }

  async findModels(query: ModelQuery = {}): Promise<ModelRecord[]> {
    const q = validateQuery(query);
    return this.#read(() => this.#select(q));
  }

  async *streamModels(query: ModelQuery = {}, opts: StreamOptions = {}): AsyncGenerator<ModelRecord[], void, undefined> {
    const q = validateQuery(query);
    if (q.limit === 0) return;
    const plan = this.plan(q);
    // A sort SQL cannot run needs every record before the first; a database
    // in memory, or one inside a group's open transaction, is not what a
    // second connection would see.
    if (plan.orderBy === null || this.#path === ':memory:' || this.#groupDepth > 0) {
      yield* pagesOf(await this.findModels(query), opts);
      return;
    }
    checkStreamSignal(opts.signal);
    let size = opts.pageSize ?? FIRST_STREAM_PAGE;
    const { sql, params } = this.#sqlFor(plan, q);
    const test = plan.residual ? recordTest(plan.residual) : null;
    // A connection of the stream's own: an open better-sqlite3 iterator keeps
    // its connection busy, and the store's other callers (another HTTP
    // request, the REPL's name refresh) must go on meanwhile. Its statement
    // holds one read snapshot (WAL) for the whole stream and takes no lock
    // a writer waits for.
    let reader: Reader | null = null;
    let rows: IterableIterator<unknown> | null = null;
    let failed = false;
    try {
      let next = await this.#busy(() => {
        if (!reader) {
          reader = this.#idleReader ?? openReader(this.#path);
          this.#idleReader = null;
        }
        rows = preparedOnce(reader.db, reader.statements, sql).iterate(...params);
        return rows.next();
      });
      let page: ModelRecord[] = [];
      let taken = 0;
      for (; !next.done; next = rows!.next()) {
        const rec = parseDoc((next.value as { doc: string }).doc);
        if (test && !test(rec)) continue;
        page.push(rec);
        if (q.limit !== null && ++taken >= q.limit) break;
        if (page.length >= size) {
          yield page;
          page = [];
          size = opts.pageSize ?? STREAM_PAGE;
          checkStreamSignal(opts.signal);
        }
      }
      if (page.length > 0) yield page;
    } catch (e) {
      failed = true;
      throw e instanceof MlmodelError ? e : sqliteError(e, this.#path);
    } finally {
      (rows as IterableIterator<unknown> | null)?.return?.();
      this.#releaseReader(reader, failed);
    }
  }

  /** Keeps a finished stream's connection for the next stream, unless one is kept already, the store closed, or the stream failed. */
  #releaseReader(reader: Reader | null, failed: boolean): void {
    if (!reader) return;
    if (failed || this.#db === null || this.#idleReader !== null) reader.db.close();
    else this.#idleReader = reader;
  }

  async countModels(filter?: FilterDoc): Promise<number> {
    const q = validateQuery({ filter: filter ?? {} });
    return this.#read(() => {
      const plan = this.plan(q);
      if (plan.residual === null) {
        const row = this.#prepare(`SELECT COUNT(*) AS n FROM models WHERE ${plan.where}`).get(...plan.params) as {
          n: number;
        };
        return row.n;
      }
      const test = recordTest(plan.residual);
      let n = 0;
      for (const row of this.#prepare(`SELECT doc FROM models WHERE ${plan.where}`).iterate(...plan.params)) {
        if (test(parseDoc((row as { doc: string }).doc))) n++;
      }
      return n;
    });
  }

  /**
   * How a (validated) query will run: the SQL WHERE/ORDER BY and what is left
   * in memory. Exposed for the planner's tests and for EXPLAIN.
   */
  plan(query: ValidQuery): SqlitePlan {
    if (!this.#pushdown) {
      return { where: '1', params: [], residual: isEmpty(query.filter) ? null : query.filter, orderBy: null, limitInSql: false };
    }
    const pushed: SqlPart[] = [];
    const residual: FilterDoc[] = [];
    for (const conj of conjuncts(query.filter)) {
      const part = translate(conj, false);
      if (part) pushed.push(part);
      else residual.push(conj);
    }
    const where = pushed.length ? pushed.map((p) => p.sql).join(' AND ') : '1';
    const params = pushed.flatMap((p) => p.params);
    const orderBy = query.sort.every(([f]) => f in COLUMNS)
      ? query.sort.map(([f, d]) => `${q(f)} ${d === 1 ? 'ASC' : 'DESC'}`).join(', ')
      : null;
    const res = residual.length === 0 ? null : residual.length === 1 ? residual[0]! : { $and: residual };
    return { where, params, residual: res, orderBy, limitInSql: res === null && orderBy !== null };
  }

  /** SQLite's EXPLAIN QUERY PLAN for a query's SQL part: shows which index it uses. */
  explain(query: ModelQuery = {}): { plan: SqlitePlan; sql: string; details: string[] } {
    const q = validateQuery(query);
    const plan = this.plan(q);
    const { sql, params } = this.#sqlFor(plan, q);
    const rows = this.#prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
    return { plan, sql, details: rows.map((r) => r.detail) };
  }

  #sqlFor(plan: SqlitePlan, q: ValidQuery): SqlPart {
    let sql = `SELECT doc FROM models WHERE ${plan.where}`;
    const params = [...plan.params];
    if (plan.orderBy) sql += ` ORDER BY ${plan.orderBy}`;
    if (plan.limitInSql && q.limit !== null) {
      sql += ' LIMIT ?';
      params.push(q.limit);
    }
    return { sql, params };
  }

  #select(q: ValidQuery): ModelRecord[] {
    if (q.limit === 0) return [];
    const plan = this.plan(q);
    const { sql, params } = this.#sqlFor(plan, q);
    const stmt = this.#prepare(sql);
    if (plan.residual === null && plan.orderBy !== null) {
      return (stmt.all(...params) as Array<{ doc: string }>).map((r) => parseDoc(r.doc));
    }
    const test = plan.residual ? recordTest(plan.residual) : null;
    const out: ModelRecord[] = [];
    for (const row of stmt.iterate(...params)) {
      const rec = parseDoc((row as { doc: string }).doc);
      if (test && !test(rec)) continue;
      out.push(rec);
      // Rows arrive already sorted: stop as soon as the limit is reached.
      if (plan.orderBy !== null && q.limit !== null && out.length >= q.limit) break;
    }
    if (plan.orderBy !== null) return out;
    return sortRecords(out, q.sort, q.limit);
  }

  async claimNext(sequence: string, owner: string): Promise<number> {
    checkSequence(sequence);
    checkClaimArgs('sequence', sequence, owner);
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      try {
        return await this.#write(() => {
          // One statement under the write lock: max+1 is computed and inserted
          // atomically; the primary key (seq, n) still guards it.
          const row = this.#prepare(
              'INSERT INTO seq_claims (seq, n, owner, at) SELECT ?, COALESCE(MAX(n), 0) + 1, ?, ? FROM seq_claims WHERE seq = ? RETURNING n',
            )
            .get(sequence, owner, Date.now(), sequence) as { n: number };
          return row.n;
        }, ONE_STATEMENT);
      } catch (e) {
        if (!(e instanceof MlmodelError && e.code === 'DUPLICATE_KEY')) throw e;
        await backoff(attempt);
      }
    }
    throw new MlmodelError('CONFLICT', `could not claim the next number of ${sequence}: too much contention`, { sequence });
  }

  async lastClaimed(sequence: string): Promise<number> {
    checkSequence(sequence);
    const row = await this.#read(
      () => this.#prepare('SELECT MAX(n) AS n FROM seq_claims WHERE seq = ?').get(sequence) as { n: number | null },
    );
    return row.n ?? 0;
  }

  async claimOwner(sequence: string, n: number): Promise<string | null> {
    checkSequence(sequence);
    const row = await this.#read(
      () =>
        this.#prepare('SELECT owner FROM seq_claims WHERE seq = ? AND n = ?').get(sequence, n) as
          | { owner: string }
          | undefined,
    );
    return row?.owner ?? null;
  }

  async claimName(scope: string, name: string, owner: string, opts: ClaimWriteOptions = {}): Promise<boolean> {
    checkClaimArgs(scope, name, owner);
    try {
      await this.#write(() => {
        this.#prepare('INSERT INTO name_claims (scope, name, owner, at) VALUES (?, ?, ?, ?)')
          .run(scope, name, owner, Date.now());
      }, { ...opts, single: true });
      return true;
    } catch (e) {
      if (e instanceof MlmodelError && e.code === 'DUPLICATE_KEY') return false;
      throw e;
    }
  }

  async getClaim(scope: string, name: string): Promise<NameClaim | null> {
    const row = await this.#read(
      () =>
        this.#prepare('SELECT scope, name, owner, at FROM name_claims WHERE scope = ? AND name = ?').get(scope, name) as
          | ClaimRow
          | undefined,
    );
    return row ? claimFromRow(row) : null;
  }

  async releaseName(scope: string, name: string, owner: string, opts: ClaimWriteOptions = {}): Promise<boolean> {
    checkClaimArgs(scope, name, owner);
    return this.#write(
      () =>
        this.#prepare('DELETE FROM name_claims WHERE scope = ? AND name = ? AND owner = ?').run(scope, name, owner)
          .changes > 0,
      { ...opts, single: true },
    );
  }

  async renewClaim(scope: string, name: string, owner: string, opts: ClaimWriteOptions = {}): Promise<boolean> {
    checkClaimArgs(scope, name, owner);
    return this.#write(
      () =>
        this.#prepare('UPDATE name_claims SET at = ? WHERE scope = ? AND name = ? AND owner = ?').run(Date.now(), scope, name, owner)
          .changes > 0,
      { ...opts, single: true },
    );
  }

  async listClaims(scope: string): Promise<NameClaim[]> {
    const rows = await this.#read(
      () =>
        this.#prepare('SELECT scope, name, owner, at FROM name_claims WHERE scope = ? ORDER BY name')
          .all(scope) as ClaimRow[],
    );
    return rows.map(claimFromRow);
  }

  async insertServing(record: ServingRecord): Promise<void> {
    checkServing(record);
    await this.#write(() => {
      this.#prepare(
          'INSERT INTO servings (model_uid, version, serving_name, record_uid, model_version, label, state, deployed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          record.model_uid,
          record.version,
          record.serving_name,
          record.record_uid,
          record.model_version,
          record.label,
          record.state,
          record.deployed_at.getTime(),
          record.updated_at.getTime(),
        );
    });
  }

  async setServingState(query: ServingQuery & { version?: number }, state: ServingState, at: Date): Promise<number> {
    const where = servingWhere(query);
    return this.#write(
      () => this.#prepare(`UPDATE servings SET state = ?, updated_at = ? WHERE ${where.sql}`).run(state, at.getTime(), ...where.params).changes,
    );
  }

  async findServings(query: ServingQuery = {}): Promise<ServingRecord[]> {
    const where = servingWhere(query);
    const rows = await this.#read(
      () => this.#prepare(`SELECT * FROM servings WHERE ${where.sql} ORDER BY model_uid, version`).all(...where.params) as ServingRow[],
    );
    return rows.map((r) => ({ ...r, deployed_at: new Date(r.deployed_at), updated_at: new Date(r.updated_at) }));
  }

  async deleteServings(modelUid: string): Promise<number> {
    return this.#write(() => this.#prepare('DELETE FROM servings WHERE model_uid = ?').run(modelUid).changes);
  }
}

interface ServingRow extends Omit<ServingRecord, 'deployed_at' | 'updated_at'> {
  deployed_at: number;
  updated_at: number;
}

function servingWhere(query: ServingQuery & { version?: number }): SqlPart {
  const parts: string[] = ['1 = 1'];
  const params: unknown[] = [];
  if (query.model_uid !== undefined) {
    parts.push('model_uid = ?');
    params.push(query.model_uid);
  }
  if (query.version !== undefined) {
    parts.push('version = ?');
    params.push(query.version);
  }
  if (query.states !== undefined) {
    parts.push(query.states.length === 0 ? '0 = 1' : `state IN (${query.states.map(() => '?').join(', ')})`);
    params.push(...query.states);
  }
  return { sql: parts.join(' AND '), params };
}

interface ClaimRow {
  scope: string;
  name: string;
  owner: string;
  at: number;
}

function claimFromRow(r: ClaimRow): NameClaim {
  return { scope: r.scope, name: r.name, owner: r.owner, at: new Date(r.at) };
}

function q(column: string): string {
  return `"${column}"`;
}

function rowValues(r: ModelRecord): unknown[] {
  return COLUMN_NAMES.map((c) => toSqlValue(COLUMNS[c]!, (r as unknown as Record<string, unknown>)[c] as Scalar));
}

function toSqlValue(kind: ColumnKind, v: Scalar): unknown {
  if (v === null) return null;
  if (kind === 'date') return (v as Date).getTime();
  if (kind === 'bool') return v ? 1 : 0;
  return v;
}

function parseDoc(json: string): ModelRecord {
  const raw = JSON.parse(json) as ModelRecord & { create: string; modified: string; imported?: string };
  return cloneRecord({
    ...raw,
    create: new Date(raw.create),
    modified: new Date(raw.modified),
    ...(raw.imported === undefined ? {} : { imported: new Date(raw.imported) }),
  } as ModelRecord);
}

function isEmpty(doc: FilterDoc): boolean {
  return Object.keys(doc).length === 0;
}

/** Splits a filter into the conditions that must all hold. */
function conjuncts(doc: FilterDoc): FilterDoc[] {
  const out: FilterDoc[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === '$and') for (const d of value as FilterDoc[]) out.push(...conjuncts(d));
    else out.push({ [key]: value } as FilterDoc);
  }
  return out;
}

function join(parts: SqlPart[], op: 'AND' | 'OR'): SqlPart {
  if (parts.length === 1) return parts[0]!;
  return { sql: `(${parts.map((p) => p.sql).join(` ${op} `)})`, params: parts.flatMap((p) => p.params) };
}

/**
 * Translates a filter into SQL that is true exactly where Mongo's filter
 * matches, or null when it cannot. `neg` asks for the complement: SQL's NOT
 * is three-valued (NOT NULL is NULL), so negation is pushed down to the
 * leaves, where a NULL (missing) column is handled explicitly.
 */
function translate(doc: FilterDoc, neg: boolean): SqlPart | null {
  const parts: SqlPart[] = [];
  for (const [key, value] of Object.entries(doc)) {
    let part: SqlPart | null;
    if (key === '$and' || key === '$or' || key === '$nor') {
      const subs = (value as FilterDoc[]).map((d) => translate(d, key === '$nor' ? !neg : neg));
      if (subs.some((s) => s === null)) return null;
      // and: all; or: any; nor: all of the negations. Under neg, De Morgan.
      const op = (key === '$or') !== neg ? 'OR' : 'AND';
      part = join(subs as SqlPart[], key === '$nor' ? (neg ? 'OR' : 'AND') : op);
    } else {
      part = translateField(key, value as FieldOperators | Scalar, neg);
    }
    if (!part) return null;
    parts.push(part);
  }
  if (parts.length === 0) return { sql: neg ? '0' : '1', params: [] };
  return join(parts, neg ? 'OR' : 'AND');
}

function translateField(field: string, cond: FieldOperators | Scalar, neg: boolean): SqlPart | null {
  const kind = COLUMNS[field];
  if (!kind) return null;
  const ops: FieldOperators =
    cond !== null && typeof cond === 'object' && !(cond instanceof Date) ? cond : { $eq: cond as Scalar };
  const parts: SqlPart[] = [];
  for (const [op, v] of Object.entries(ops)) {
    const part = leaf(q(field), kind, op, v as Scalar | Scalar[] | string, neg);
    if (!part) return null;
    parts.push(part);
  }
  return join(parts, neg ? 'OR' : 'AND');
}

const COMPARE: Record<string, [string, string]> = {
  $gt: ['>', '<='],
  $gte: ['>=', '<'],
  $lt: ['<', '>='],
  $lte: ['<=', '>'],
};

function leaf(col: string, kind: ColumnKind, op: string, v: Scalar | Scalar[] | string, neg: boolean): SqlPart | null {
  const val = (x: Scalar) => toSqlValue(kind, x);
  switch (op) {
    case '$eq':
    case '$ne': {
      const isEq = (op === '$eq') !== neg;
      if (v === null) return { sql: `${col} IS ${isEq ? '' : 'NOT '}NULL`, params: [] };
      return isEq
        ? { sql: `${col} = ?`, params: [val(v as Scalar)] }
        : { sql: `(${col} IS NULL OR ${col} <> ?)`, params: [val(v as Scalar)] };
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const [pos, negOp] = COMPARE[op]!;
      return neg
        ? { sql: `(${col} IS NULL OR ${col} ${negOp} ?)`, params: [val(v as Scalar)] }
        : { sql: `${col} ${pos} ?`, params: [val(v as Scalar)] };
    }
    case '$in': {
      const list = v as Scalar[];
      const values = list.filter((x) => x !== null).map(val);
      const hasNull = list.some((x) => x === null);
      const marks = values.map(() => '?').join(', ');
      if (!neg) {
        const parts: string[] = [];
        if (values.length) parts.push(`${col} IN (${marks})`);
        if (hasNull) parts.push(`${col} IS NULL`);
        return { sql: parts.length ? `(${parts.join(' OR ')})` : '0', params: values };
      }
      if (!values.length) return { sql: hasNull ? `${col} IS NOT NULL` : '1', params: [] };
      return hasNull
        ? { sql: `(${col} IS NOT NULL AND ${col} NOT IN (${marks}))`, params: values }
        : { sql: `(${col} IS NULL OR ${col} NOT IN (${marks}))`, params: values };
    }
    case '$regex': {
      if (kind !== 'text') return null;
      const tokens = regexToLikeTokens(v as string);
      if (!tokens) return null;
      let pattern = '';
      for (const t of tokens) {
        if (t.kind === 'any') pattern += '%';
        else if (t.kind === 'one') pattern += '_';
        else pattern += t.text.replace(/[\\%_]/g, (c) => `\\${c}`);
      }
      return neg
        ? { sql: `(${col} IS NULL OR ${col} NOT LIKE ? ESCAPE '\\')`, params: [pattern] }
        : { sql: `${col} LIKE ? ESCAPE '\\'`, params: [pattern] };
    }
    default:
      return null;
  }
}


/** Every table and index SCHEMA creates, by name. */
const SCHEMA_OBJECTS = [...SCHEMA.matchAll(/CREATE (?:UNIQUE )?(?:TABLE|INDEX) IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

/**
 * Whether the database already holds this schema, found by reading only:
 * true when every table and index exists and the version is ours, false when
 * something is missing (the caller creates it under the write lock), and
 * STORE_UNAVAILABLE for another schema version.
 */
function schemaReady(db: Database.Database, path: string): boolean {
  const present = new Set(
    (db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index')").all() as Array<{ name: string }>).map((r) => r.name),
  );
  if (!present.has('meta')) return false;
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined;
  if (row && row.value !== SCHEMA_VERSION) {
    throw new MlmodelError(
      'STORE_UNAVAILABLE',
      `metadata database ${path} has schema version ${row.value}; this mlmodel reads version ${SCHEMA_VERSION}`,
    );
  }
  return row !== undefined && SCHEMA_OBJECTS.every((name) => present.has(name));
}

/**
 * A stream's read-only connection and the statements compiled on it, once
 * each as the store's own are (preparedOnce): a `-f` script's lists stream
 * the same few shapes again and again, and compiling each anew was a seventh
 * of a batch of lookups' CPU time. One stream at a time uses a reader, so a
 * statement is never asked for while it is stepping.
 */
interface Reader {
  readonly db: Database.Database;
  readonly statements: Map<string, Database.Statement>;
}

/** A read-only connection for one stream, with the semantics the store's own connection has (case-sensitive like). */
function openReader(path: string): Reader {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
  db.pragma('case_sensitive_like = ON');
  // SQLite's stock page cache (2 MB) rather than better-sqlite3's 16 MB: a
  // stream reads each page about once, so a large cache only fills — 14 MB
  // of a 1,000,000-row list's peak RSS, measured — and the interior pages its
  // lookups revisit fit in the small one.
  db.pragma('cache_size = -2000');
  return { db, statements: new Map() };
}

/** Runs a `PRAGMA optimize` variant, which may write statistics; a busy or read-only database skips it. */
function tryOptimize(db: Database.Database, pragma: string): void {
  try {
    db.pragma(pragma);
  } catch {
    // Statistics are an optimisation: they are brought up to date at a later open or close.
  }
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_RECOVERY, _SNAPSHOT, _TIMEOUT). */
function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sqliteError(e: unknown, path: string): MlmodelError {
  const code = (e as { code?: string }).code ?? '';
  const message = errMessage(e);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const index = /models\.uid/.test(message)
      ? 'uid'
      : /models\.user, models\.name, models\.version/.test(message)
        ? 'user_name_version'
        : /models\.id/.test(message)
          ? 'id'
          : /seq_claims/.test(message)
            ? 'sequence'
            : /name_claims/.test(message)
              ? 'name_claim'
              : 'unknown';
    return new MlmodelError('DUPLICATE_KEY', `duplicate key (${index})`, { index });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
    return new MlmodelError('STORE_UNAVAILABLE', `metadata database ${path}: ${message}`, { path, sqlite: code });
  }
  return new MlmodelError('STORE_ERROR', `metadata database ${path}: ${message}`, { path, sqlite: code });
}
