/**
 * The tracking store in the registry's SQLite file: its own tables beside the
 * model records, through its own connection to the same file (WAL: readers
 * never wait for a writer). Each write is one IMMEDIATE transaction, so a
 * batch of metric points and the run summary it changes are committed
 * together or not at all. A busy write lock is waited for on timers, never
 * by blocking the event loop, as the metadata store does.
 *
 * A run is a JSON document next to indexed columns, and its params and
 * tags are rows of tracking_values only (with its latest metrics, which
 * the document also holds), indexed by name and value. So logging a param
 * or a tag writes one row, whatever the run has already: the document is
 * not rewritten, and a write reads only the document (RunHead) and the rows
 * of the names it logs. A run query is one statement that narrows and
 * orders in SQL (sqlite-search.ts), and the whole filter is tested on the
 * runs it returns, in order, up to the limit, with MongoDB's semantics
 * (store/match.ts), so both backends answer alike. Statements are prepared
 * once per connection.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MlmodelError } from '../errors.js';
import type { Series } from './downsample.js';
import { recordTest } from '../store/match.js';
import { preparedOnce } from '../store/sqlite-statements.js';
import { BLOCK_STEPS, batchBlocks, blockBucketWidth, bucketExtremes, pushExtremes } from './blocks.js';
import { runSearch, valueRank, VALUE_KIND, type ValueKind } from './sqlite-search.js';
import {
  checkCheckpoint,
  checkPoints,
  checkRun,
  checkRunQuery,
  checkParamKept,
  checkParams,
  checkWritable,
  summarize,
  checkTag,
  groupByKey,
  type CheckpointRecord,
  type EndStatus,
  type Experiment,
  type MetricPoint,
  type MetricRange,
  type ParamValue,
  type RunGuard,
  type RunHead,
  type RunQuery,
  type RunRecord,
  type TrackingStore,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tracking_experiments (name TEXT PRIMARY KEY NOT NULL, user TEXT NOT NULL, created INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS tracking_runs (
  id INTEGER PRIMARY KEY NOT NULL, uid TEXT NOT NULL UNIQUE, experiment TEXT NOT NULL, user TEXT NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS tracking_runs_experiment ON tracking_runs (experiment, id);
CREATE TABLE IF NOT EXISTS tracking_points (
  seq INTEGER PRIMARY KEY, run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, value REAL NOT NULL, time INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS tracking_points_run_key_step ON tracking_points (run, key, step, seq);
CREATE TABLE IF NOT EXISTS tracking_checkpoints (run INTEGER NOT NULL, step INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (run, step)) STRICT, WITHOUT ROWID;
`;
/**
 * Each metric's lowest and highest value and its number of points, kept in
 * the transaction that adds the points (compare reads it instead of
 * scanning histories). A database made before it has it filled from the
 * points when it is created.
 */
const RANGES = `
CREATE TABLE tracking_ranges (run INTEGER NOT NULL, key TEXT NOT NULL, min REAL NOT NULL, max REAL NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (run, key)) STRICT, WITHOUT ROWID;
INSERT INTO tracking_ranges (run, key, min, max, count) SELECT run, key, MIN(value), MAX(value), COUNT(*) FROM tracking_points GROUP BY run, key;
`;

/**
 * Each run's params (kind 0), tags (1) and latest metrics (2, with their
 * step) as rows, kept in the transaction that changes the run, for run
 * queries (sqlite-search.ts): `rank` is the value's sort bracket. A database
 * made before it has it filled from the runs when it is created.
 */
const VALUES = `
CREATE TABLE tracking_values (
  run INTEGER NOT NULL, kind INTEGER NOT NULL, key TEXT NOT NULL, rank INTEGER, value ANY, step INTEGER, PRIMARY KEY (run, kind, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracking_values_search ON tracking_values (kind, key, rank, value, run);
INSERT INTO tracking_values (run, kind, key, rank, value, step)
  SELECT r.id, k.kind, j.key,
         CASE j.type WHEN 'text' THEN 3 WHEN 'true' THEN 8 WHEN 'false' THEN 8 WHEN 'null' THEN NULL ELSE 2 END,
         CASE j.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 ELSE j.value END,
         CASE k.kind WHEN 2 THEN json_extract(r.doc, '$.metric_steps."' || j.key || '"') END
  FROM tracking_runs r
  JOIN (SELECT 0 AS kind, '$.params' AS path UNION ALL SELECT 1, '$.tags' UNION ALL SELECT 2, '$.metrics') k
  JOIN json_each(r.doc, k.path) j;
INSERT OR IGNORE INTO tracking_values (run, kind, key, rank, value, step)
  SELECT r.id, 2, j.key, NULL, NULL, j.value FROM tracking_runs r JOIN json_each(r.doc, '$.metric_steps') j;
`;
/**
 * Each metric's lowest and highest point per block of steps (blocks.ts),
 * kept in the transaction that adds the points, for charts. A database made
 * before it has it filled from the points when it is created.
 */
const BLOCKS = `
CREATE TABLE tracking_blocks (
  run INTEGER NOT NULL, key TEXT NOT NULL, block INTEGER NOT NULL, lo_step INTEGER NOT NULL, lo REAL NOT NULL, hi_step INTEGER NOT NULL, hi REAL NOT NULL,
  PRIMARY KEY (run, key, block)
) STRICT, WITHOUT ROWID;
INSERT INTO tracking_blocks (run, key, block, lo_step, lo, hi_step, hi)
  SELECT run, key, step / ${BLOCK_STEPS}, step, MIN(value), step, value FROM tracking_points GROUP BY run, key, step / ${BLOCK_STEPS};
UPDATE tracking_blocks SET (hi_step, hi) = (
  SELECT step, MAX(value) FROM tracking_points p
  WHERE p.run = tracking_blocks.run AND p.key = tracking_blocks.key AND p.step >= tracking_blocks.block * ${BLOCK_STEPS} AND p.step < (tracking_blocks.block + 1) * ${BLOCK_STEPS}
);
`;
/**
 * Params and tags were kept in the run's document too, until they became
 * rows of tracking_values only: a database from before has them taken out
 * of its documents when it is opened (the rows have them, written in the
 * same transactions, or filled by VALUES above), once, in the transaction
 * that creates the marker table.
 */
const VALUES_ONLY = `
UPDATE tracking_runs SET doc = json_remove(doc, '$.params', '$.tags') WHERE json_type(doc, '$.params') IS NOT NULL OR json_type(doc, '$.tags') IS NOT NULL;
CREATE TABLE tracking_migrations (name TEXT PRIMARY KEY NOT NULL) STRICT;
INSERT INTO tracking_migrations (name) VALUES ('params-and-tags-in-rows');
`;
const UPSERT_VALUE =
  'INSERT INTO tracking_values (run, kind, key, rank, value, step) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run, kind, key) DO UPDATE SET rank = excluded.rank, value = excluded.value, step = excluded.step';
const UPSERT_BLOCK = `INSERT INTO tracking_blocks (run, key, block, lo_step, lo, hi_step, hi) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (run, key, block) DO UPDATE SET
    lo_step = CASE WHEN excluded.lo < lo THEN excluded.lo_step ELSE lo_step END, lo = MIN(lo, excluded.lo),
    hi_step = CASE WHEN excluded.hi > hi THEN excluded.hi_step ELSE hi_step END, hi = MAX(hi, excluded.hi)`;
/** Points a multi-row INSERT takes at most (5 bound values a row, far under SQLite's limit of 32,766). */
const POINTS_PER_INSERT = 128;
/** The INSERT of `size` points, for each size #insertPoints uses (POINTS_PER_INSERT, then halving to 1), written once. */
const INSERT_POINTS = new Map<number, string>();
for (let size = POINTS_PER_INSERT; size >= 1; size >>= 1) {
  INSERT_POINTS.set(size, `INSERT INTO tracking_points (run, key, step, value, time) VALUES ${Array(size).fill('(?, ?, ?, ?, ?)').join(', ')}`);
}

export interface SqliteTrackingOptions {
  path: string;
  busyTimeoutMs?: number;
}

type RunDoc = Omit<RunHead, 'start' | 'end' | 'last_time'> & { start: number; end: number | null; last_time: number | null };

export class SqliteTrackingStore implements TrackingStore {
  readonly kind = 'sqlite';
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #db: Database.Database | null = null;
  #statements = new Map<string, Database.Statement>();
  /** One transaction function for every write: `fn` runs inside it. */
  #transaction: Database.Transaction<(fn: () => unknown) => unknown> | null = null;

  constructor(options: SqliteTrackingOptions) {
    this.#path = options.path;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 15_000;
  }

  async init(): Promise<void> {
    if (this.#db) return;
    try {
      if (this.#path !== ':memory:') mkdirSync(dirname(this.#path), { recursive: true });
      const db = new Database(this.#path, { timeout: 0 });
      try {
        await this.#busy(() => db.pragma('journal_mode = WAL'));
        db.pragma('synchronous = FULL');
        const has = (table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
        // Only a database without the tables takes the write lock at open.
        if (!has('tracking_checkpoints') || !has('tracking_ranges') || !has('tracking_values') || !has('tracking_blocks') || !has('tracking_migrations')) {
          await this.#busy(() =>
            db
              .transaction(() => {
                db.exec(SCHEMA);
                if (!has('tracking_ranges')) db.exec(RANGES);
                if (!has('tracking_values')) db.exec(VALUES);
                if (!has('tracking_blocks')) db.exec(BLOCKS);
                if (!has('tracking_migrations')) db.exec(VALUES_ONLY);
              })
              .immediate(),
          );
        }
      } catch (e) {
        db.close();
        throw e;
      }
      this.#db = db;
      this.#transaction = db.transaction((fn: () => unknown) => fn());
    } catch (e) {
      throw e instanceof MlmodelError ? e : this.#error(e, 'cannot open');
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = null;
    this.#transaction = null;
    this.#statements.clear();
  }

  /** The statement of `sql`, prepared once per connection (store/sqlite-statements.ts). */
  #stmt(sql: string): Database.Statement {
    return preparedOnce(this.#conn, this.#statements, sql);
  }

  get #conn(): Database.Database {
    if (!this.#db) throw new MlmodelError('STORE_UNAVAILABLE', 'the tracking store is not open (call init())');
    return this.#db;
  }

  /** Runs `fn` in one IMMEDIATE transaction, again after a timer while the write lock is busy. */
  async #write<T>(fn: (db: Database.Database) => T): Promise<T> {
    const db = this.#conn;
    const tx = this.#transaction!;
    try {
      return await this.#busy(() => tx.immediate(() => fn(db)) as T);
    } catch (e) {
      throw e instanceof MlmodelError ? e : this.#error(e, 'write');
    }
  }

  #read<T>(fn: (db: Database.Database) => T): Promise<T> {
    const db = this.#conn;
    return this.#busy(() => fn(db)).catch((e: unknown) => {
      throw e instanceof MlmodelError ? e : this.#error(e, 'read');
    });
  }

  async #busy<T>(fn: () => T): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return fn();
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) throw e;
        const waited = Date.now() - started;
        if (waited >= this.#busyTimeoutMs) {
          throw new MlmodelError('STORE_UNAVAILABLE', `metadata database ${this.#path} is busy: another process has held its write lock for ${Math.round(waited / 100) / 10} s`, {
            path: this.#path,
          });
        }
        await new Promise((r) => setTimeout(r, Math.min(25, 2 ** Math.min(attempt, 5)) * (0.5 + Math.random())));
      }
    }
  }

  #error(e: unknown, what: string): MlmodelError {
    const code = (e as { code?: string }).code ?? '';
    const message = e instanceof Error ? e.message : String(e);
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new MlmodelError('DUPLICATE_KEY', `duplicate key (${message})`, { index: message });
    }
    return new MlmodelError('STORE_ERROR', `tracking store ${this.#path}: ${what}: ${message}`, { sqlite: code });
  }

  async ensureExperiment(name: string, user: string, at: Date): Promise<Experiment> {
    return this.#write(() => {
      this.#stmt('INSERT OR IGNORE INTO tracking_experiments (name, user, created) VALUES (?, ?, ?)').run(name, user, at.getTime());
      return toExperiment(this.#stmt('SELECT name, user, created FROM tracking_experiments WHERE name = ?').get(name) as ExperimentRow);
    });
  }

  async listExperiments(): Promise<Experiment[]> {
    return this.#read(() => (this.#stmt('SELECT name, user, created FROM tracking_experiments ORDER BY name').all() as ExperimentRow[]).map(toExperiment));
  }

  async insertRun(run: RunRecord): Promise<void> {
    const r = checkRun(run);
    await this.#write(() => {
      this.#stmt('INSERT INTO tracking_runs (id, uid, experiment, user, status, doc) VALUES (?, ?, ?, ?, ?, ?)').run(r.id, r.uid, r.experiment, r.user, r.status, toDoc(r));
      this.#setValues(r.id, VALUE_KIND.params, r.params);
      this.#setValues(r.id, VALUE_KIND.tags, r.tags);
      for (const key of new Set([...Object.keys(r.metrics), ...Object.keys(r.metric_steps)])) this.#setMetric(r.id, key, r.metrics[key], r.metric_steps[key]);
    });
  }

  #setValues(run: number, kind: ValueKind, values: Readonly<Record<string, ParamValue>>): void {
    const upsert = this.#stmt(UPSERT_VALUE);
    for (const [key, v] of Object.entries(values)) upsert.run(run, kind, key, ...valueRank(v), null);
  }

  #setMetric(run: number, key: string, value: number | undefined, step: number | undefined): void {
    const [rank, v] = value === undefined ? [null, null] : valueRank(value);
    this.#stmt(UPSERT_VALUE).run(run, VALUE_KIND.metrics, key, rank, v, step ?? null);
  }

  /** The run's document: everything but its params and tags. */
  #headIn(id: number): RunHead | null {
    const doc = this.#stmt('SELECT doc FROM tracking_runs WHERE id = ?').pluck().get(id) as string | undefined;
    return doc === undefined ? null : fromDoc(doc);
  }

  /** The run with its params and tags from their rows. */
  #runIn(id: number): RunRecord | null {
    const head = this.#headIn(id);
    return head === null ? null : this.#withValues(head);
  }

  #withValues(head: RunHead): RunRecord {
    const params: Record<string, ParamValue> = {};
    const tags: Record<string, string> = {};
    // The primary key's order: by kind, then name.
    for (const [kind, key, rank, value] of this.#stmt('SELECT kind, key, rank, value FROM tracking_values WHERE run = ? AND kind < 2').raw().iterate(head.id) as IterableIterator<
      [ValueKind, string, number, string | number]
    >) {
      if (kind === VALUE_KIND.params) params[key] = fromValueRank(rank, value);
      else tags[key] = value as string;
    }
    return { ...head, params, tags };
  }

  async getRun(id: number): Promise<RunRecord | null> {
    return this.#read(() => this.#runIn(id));
  }

  /** One statement narrows and orders (sqlite-search.ts); its rows are tested with the whole filter, in order, until the limit. */
  async findRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const q = checkRunQuery(query);
    if (q.limit === 0) return [];
    const { sql, params } = runSearch(q.filter, q.sort);
    const test = recordTest(q.filter);
    return this.#read(() => {
      const out: RunRecord[] = [];
      for (const doc of this.#stmt(sql).pluck().iterate(...params) as IterableIterator<string>) {
        const r = this.#withValues(fromDoc(doc));
        if (!test(r)) continue;
        out.push(r);
        // Leaving the loop resets the statement: the rows after are never read.
        if (q.limit !== null && out.length >= q.limit) break;
      }
      return out;
    });
  }

  async endRun(id: number, status: EndStatus, end: Date, guard?: RunGuard): Promise<RunRecord | null> {
    return this.#write(() => {
      const run = this.#runIn(id);
      if (run) guard?.(run);
      if (!run || run.status !== 'RUNNING') return null;
      const next: RunRecord = { ...run, status, end: new Date(end.getTime()) };
      this.#stmt('UPDATE tracking_runs SET status = ?, doc = ? WHERE id = ?').run(status, toDoc(next), id);
      return next;
    });
  }

  /**
   * Reads the run's document (for the guard and its status) and, for each
   * param given, its row: the call costs the same however many params the
   * run has. A param's row is only ever inserted, never changed; a refused
   * call throws before it has written anything.
   */
  async logParams(id: number, params: Readonly<Record<string, ParamValue>>, tags: Readonly<Record<string, string>>, guard?: RunGuard): Promise<void> {
    const given = checkParams(params);
    for (const [k, v] of Object.entries(tags)) checkTag(k, v);
    await this.#write(() => {
      checkWritable(id, this.#headIn(id), guard);
      const had = this.#stmt(`SELECT rank, value FROM tracking_values WHERE run = ? AND kind = ${VALUE_KIND.params} AND key = ?`).raw();
      const fresh: Array<[string, ParamValue]> = [];
      for (const [k, v] of Object.entries(given)) {
        const row = had.get(id, k) as [number, string | number] | undefined;
        checkParamKept(id, k, row === undefined ? undefined : fromValueRank(row[0], row[1]), v);
        if (row === undefined) fresh.push([k, v]);
      }
      const insert = this.#stmt('INSERT INTO tracking_values (run, kind, key, rank, value, step) VALUES (?, ?, ?, ?, ?, NULL)');
      for (const [k, v] of fresh) insert.run(id, VALUE_KIND.params, k, ...valueRank(v));
      this.#setValues(id, VALUE_KIND.tags, tags);
    });
  }

  async logMetrics(id: number, points: readonly MetricPoint[], at: Date, guard?: RunGuard): Promise<RunHead> {
    const checked = checkPoints(points);
    const blocks = batchBlocks(checked);
    return this.#write(() => {
      const run = checkWritable(id, this.#headIn(id), guard);
      this.#insertPoints(id, checked);
      const ranges = new Map<string, MetricRange>();
      for (const p of checked) {
        const r = ranges.get(p.key);
        if (r) {
          r.min = Math.min(r.min, p.value);
          r.max = Math.max(r.max, p.value);
          r.count++;
        } else ranges.set(p.key, { min: p.value, max: p.value, count: 1 });
      }
      const range = this.#stmt(
        'INSERT INTO tracking_ranges (run, key, min, max, count) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run, key) DO UPDATE SET min = MIN(min, excluded.min), max = MAX(max, excluded.max), count = count + excluded.count',
      );
      for (const [key, r] of ranges) range.run(id, key, r.min, r.max, r.count);
      const block = this.#stmt(UPSERT_BLOCK);
      for (const b of blocks) block.run(id, b.key, b.block, b.loStep, b.lo, b.hiStep, b.hi);
      const next: RunHead = { ...run, ...summarize(run, checked, at) };
      for (const key of ranges.keys()) {
        if (next.metric_steps[key] !== run.metric_steps[key] || next.metrics[key] !== run.metrics[key]) this.#setMetric(id, key, next.metrics[key], next.metric_steps[key]);
      }
      this.#stmt('UPDATE tracking_runs SET doc = ? WHERE id = ?').run(toDoc(next), id);
      return next;
    });
  }

  /**
   * The points as rows, in their order (their seq), POINTS_PER_INSERT rows a statement and the rest in
   * halving sizes: a row costs a third less than one statement each (fewer calls into SQLite), and at
   * most eight statements are ever prepared for it.
   */
  #insertPoints(id: number, points: readonly MetricPoint[]): void {
    let i = 0;
    for (let size = POINTS_PER_INSERT; size >= 1 && i < points.length; size >>= 1) {
      if (points.length - i < size) continue;
      const insert = this.#stmt(INSERT_POINTS.get(size)!);
      for (; points.length - i >= size; i += size) {
        const args: Array<string | number> = [];
        for (let j = i; j < i + size; j++) {
          const p = points[j]!;
          args.push(id, p.key, p.step, p.value, p.time.getTime());
        }
        insert.run(args);
      }
    }
  }

  async metricHistory(id: number, key: string): Promise<MetricPoint[]> {
    return this.#read(() => (this.#stmt('SELECT key, step, value, time FROM tracking_points WHERE run = ? AND key = ? ORDER BY step, seq').all(id, key) as PointRow[]).map(toPoint));
  }

  /**
   * The reduction in SQL, so a million points never become objects: buckets
   * are equal ranges of steps (the chart's x axis). A long range is cut into
   * buckets of whole blocks and read from the block summaries (blocks.ts):
   * one row per block. A short one (fewer steps than blocks make buckets of)
   * takes each bucket's lowest and highest point by an indexed range query
   * each (SQLite returns the row a lone MIN or MAX picked). Counting stops at max + 1.
   */
  async metricSeries(id: number, key: string, max: number): Promise<Series> {
    return this.#read(() => {
      const limit = Math.max(2, Math.floor(max));
      const n = this.#stmt('SELECT COUNT(*) FROM (SELECT 1 FROM tracking_points WHERE run = ? AND key = ? LIMIT ?)').pluck().get(id, key, limit + 1) as number;
      if (n <= limit) {
        const rows = this.#stmt('SELECT step, value FROM tracking_points WHERE run = ? AND key = ? ORDER BY step, seq').raw().all(id, key) as [number, number][];
        return { steps: rows.map((r) => r[0]), values: rows.map((r) => r[1]) };
      }
      const first = this.#stmt('SELECT step, value FROM tracking_points WHERE run = ? AND key = ? ORDER BY step ASC, seq ASC LIMIT 1').raw().get(id, key) as [number, number];
      const last = this.#stmt('SELECT step, value FROM tracking_points WHERE run = ? AND key = ? ORDER BY step DESC, seq DESC LIMIT 1').raw().get(id, key) as [number, number];
      const buckets = Math.max(1, Math.floor(limit / 2));
      const width = blockBucketWidth(first[0], last[0], buckets);
      let steps: number[];
      let values: number[];
      if (width !== null) {
        // Buckets of whole blocks from the block of the first step; a lone MIN (MAX) gives its row's step.
        // The numbers are bound as REAL: cast, so the division is an integer one.
        const base = Math.floor(first[0] / BLOCK_STEPS) * BLOCK_STEPS;
        const grouped = (fn: 'MIN' | 'MAX', col: 'lo' | 'hi') =>
          this.#stmt(`SELECT (block * ${BLOCK_STEPS} - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS bucket, ${col}_step, ${fn}(${col}) FROM tracking_blocks WHERE run = ? AND key = ? GROUP BY bucket ORDER BY bucket`)
            .raw()
            .all(base, width, id, key) as number[][];
        ({ steps, values } = bucketExtremes(grouped('MIN', 'lo'), grouped('MAX', 'hi')));
      } else ({ steps, values } = this.#bucketsFromPoints(id, key, first[0], last[0], buckets));
      // The first and last point always stay: a chart's x axis spans the whole run.
      if (steps[0] !== first[0]) {
        steps.unshift(first[0]);
        values.unshift(first[1]);
      }
      if (steps[steps.length - 1] !== last[0]) {
        steps.push(last[0]);
        values.push(last[1]);
      }
      return { steps, values };
    });
  }

  #bucketsFromPoints(id: number, key: string, first: number, last: number, buckets: number): { steps: number[]; values: number[] } {
    const span = last - first + 1;
    const lowest = this.#stmt('SELECT step, MIN(value) FROM tracking_points WHERE run = ? AND key = ? AND step >= ? AND step < ?').raw();
    const highest = this.#stmt('SELECT step, MAX(value) FROM tracking_points WHERE run = ? AND key = ? AND step >= ? AND step < ?').raw();
    const steps: number[] = [];
    const values: number[] = [];
    for (let b = 0; b < buckets; b++) {
      const from = first + Math.floor((b * span) / buckets);
      const to = first + Math.floor(((b + 1) * span) / buckets);
      if (to <= from) continue;
      const [ls, lv] = lowest.get(id, key, from, to) as [number | null, number | null];
      if (ls === null || lv === null) continue;
      const [hs, hv] = highest.get(id, key, from, to) as [number, number];
      pushExtremes(steps, values, ls, lv, hs, hv);
    }
    return { steps, values };
  }

  async runMetrics(id: number): Promise<Map<string, MetricPoint[]>> {
    const rows = await this.#read(() => this.#stmt('SELECT key, step, value, time FROM tracking_points WHERE run = ? ORDER BY key, step, seq').all(id) as PointRow[]);
    return groupByKey(rows, toPoint);
  }

  async metricRanges(id: number): Promise<Map<string, MetricRange>> {
    const rows = await this.#read(() => this.#stmt('SELECT key, min, max, count FROM tracking_ranges WHERE run = ? ORDER BY key').all(id) as Array<MetricRange & { key: string }>);
    return new Map(rows.map((r) => [r.key, { min: r.min, max: r.max, count: r.count }]));
  }

  async insertCheckpoint(c: CheckpointRecord): Promise<void> {
    const rec = checkCheckpoint(c);
    await this.#write(() => {
      this.#stmt('INSERT INTO tracking_checkpoints (run, step, doc) VALUES (?, ?, ?)').run(rec.run, rec.step, JSON.stringify({ ...rec, created: rec.created.getTime() }));
    });
  }

  async listCheckpoints(run: number): Promise<CheckpointRecord[]> {
    return this.#read(() => (this.#stmt('SELECT doc FROM tracking_checkpoints WHERE run = ? ORDER BY step').pluck().all(run) as string[]).map(toCheckpoint));
  }

  async getCheckpoint(run: number, step: number): Promise<CheckpointRecord | null> {
    return this.#read(() => {
      const doc = this.#stmt('SELECT doc FROM tracking_checkpoints WHERE run = ? AND step = ?').pluck().get(run, step) as string | undefined;
      return doc === undefined ? null : toCheckpoint(doc);
    });
  }
}

interface ExperimentRow {
  name: string;
  user: string;
  created: number;
}
interface PointRow {
  key: string;
  step: number;
  value: number;
  time: number;
}

const toExperiment = (r: ExperimentRow): Experiment => ({ name: r.name, user: r.user, created: new Date(r.created) });
const toPoint = (r: PointRow): MetricPoint => ({ key: r.key, step: r.step, value: r.value, time: new Date(r.time) });

function toCheckpoint(doc: string): CheckpointRecord {
  const d = JSON.parse(doc) as Omit<CheckpointRecord, 'created'> & { created: number };
  return { ...d, created: new Date(d.created) };
}

/** The document of a run: all of it but its params and tags, which are rows. */
function toDoc(r: RunHead): string {
  const doc: RunDoc = {
    id: r.id,
    uid: r.uid,
    experiment: r.experiment,
    name: r.name,
    user: r.user,
    status: r.status,
    start: r.start.getTime(),
    end: r.end?.getTime() ?? null,
    metrics: r.metrics,
    metric_steps: r.metric_steps,
    last_step: r.last_step,
    last_time: r.last_time?.getTime() ?? null,
  };
  return JSON.stringify(doc);
}

/** A param's value from its row (sqlite-search.ts's valueRank, undone). */
function fromValueRank(rank: number, value: string | number): ParamValue {
  return rank === 8 ? value !== 0 : value;
}

/** A fresh record: every object in it is new from the parse. */
function fromDoc(text: string): RunHead {
  const d = JSON.parse(text) as RunDoc;
  return { ...d, start: new Date(d.start), end: d.end === null ? null : new Date(d.end), last_time: d.last_time === null ? null : new Date(d.last_time) };
}
