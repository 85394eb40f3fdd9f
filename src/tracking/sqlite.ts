/**
 * The tracking store in the registry's SQLite file: its own tables beside the
 * model records, through its own connection to the same file (WAL: readers
 * never wait for a writer). Each write is one IMMEDIATE transaction, so a
 * batch of metric points and the run summary it changes are committed
 * together or not at all. A busy write lock is waited for on timers, never
 * by blocking the event loop, as the metadata store does.
 *
 * Runs are kept whole as JSON next to indexed columns; a run query narrows
 * by experiment, user and status in SQL and runs the rest of its filter and
 * its sort with MongoDB's semantics (store/match.ts, store/order.ts), so both
 * backends answer alike.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MlmodelError } from '../errors.js';
import type { Series } from './downsample.js';
import type { FilterDoc, Scalar } from '../store/filter.js';
import { recordTest } from '../store/match.js';
import { sortRecords } from '../store/order.js';
import {
  checkCheckpoint,
  checkPoints,
  checkRun,
  checkRunQuery,
  checkWritable,
  cloneRun,
  mergeParams,
  summarize,
  checkTag,
  groupByKey,
  type CheckpointRecord,
  type EndStatus,
  type Experiment,
  type MetricPoint,
  type MetricRange,
  type ParamValue,
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

/** Columns SQL narrows a run query by (exact matches at the top level of the filter). */
const SQL_COLUMNS = new Set(['experiment', 'user', 'status', 'id']);

export interface SqliteTrackingOptions {
  path: string;
  busyTimeoutMs?: number;
}

type RunDoc = Omit<RunRecord, 'start' | 'end' | 'last_time'> & { start: number; end: number | null; last_time: number | null };

export class SqliteTrackingStore implements TrackingStore {
  readonly kind = 'sqlite';
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #db: Database.Database | null = null;

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
        if (!has('tracking_checkpoints') || !has('tracking_ranges')) {
          await this.#busy(() =>
            db
              .transaction(() => {
                db.exec(SCHEMA);
                if (!has('tracking_ranges')) db.exec(RANGES);
              })
              .immediate(),
          );
        }
      } catch (e) {
        db.close();
        throw e;
      }
      this.#db = db;
    } catch (e) {
      throw e instanceof MlmodelError ? e : this.#error(e, 'cannot open');
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = null;
  }

  get #conn(): Database.Database {
    if (!this.#db) throw new MlmodelError('STORE_UNAVAILABLE', 'the tracking store is not open (call init())');
    return this.#db;
  }

  /** Runs `fn` in one IMMEDIATE transaction, again after a timer while the write lock is busy. */
  async #write<T>(fn: (db: Database.Database) => T): Promise<T> {
    const db = this.#conn;
    try {
      return await this.#busy(() => db.transaction(() => fn(db)).immediate());
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
    return this.#write((db) => {
      db.prepare('INSERT OR IGNORE INTO tracking_experiments (name, user, created) VALUES (?, ?, ?)').run(name, user, at.getTime());
      return toExperiment(db.prepare('SELECT name, user, created FROM tracking_experiments WHERE name = ?').get(name) as ExperimentRow);
    });
  }

  async listExperiments(): Promise<Experiment[]> {
    return this.#read((db) => (db.prepare('SELECT name, user, created FROM tracking_experiments ORDER BY name').all() as ExperimentRow[]).map(toExperiment));
  }

  async insertRun(run: RunRecord): Promise<void> {
    const r = checkRun(run);
    await this.#write((db) => {
      db.prepare('INSERT INTO tracking_runs (id, uid, experiment, user, status, doc) VALUES (?, ?, ?, ?, ?, ?)').run(r.id, r.uid, r.experiment, r.user, r.status, toDoc(r));
    });
  }

  async getRun(id: number): Promise<RunRecord | null> {
    return this.#read((db) => runIn(db, id));
  }

  async findRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const q = checkRunQuery(query);
    const { where, params } = narrowing(q.filter);
    const rows = await this.#read((db) => db.prepare(`SELECT doc FROM tracking_runs${where} ORDER BY id`).all(...params) as { doc: string }[]);
    const test = recordTest(q.filter);
    return sortRecords(rows.map((r) => fromDoc(r.doc)).filter(test), q.sort, q.limit);
  }

  async endRun(id: number, status: EndStatus, end: Date): Promise<RunRecord | null> {
    return this.#write((db) => {
      const run = runIn(db, id);
      if (!run || run.status !== 'RUNNING') return null;
      const next: RunRecord = { ...run, status, end: new Date(end.getTime()) };
      db.prepare('UPDATE tracking_runs SET status = ?, doc = ? WHERE id = ?').run(status, toDoc(next), id);
      return next;
    });
  }

  async logParams(id: number, params: Readonly<Record<string, ParamValue>>, tags: Readonly<Record<string, string>>): Promise<RunRecord> {
    for (const [k, v] of Object.entries(tags)) checkTag(k, v);
    return this.#write((db) => {
      const run = checkWritable(id, runIn(db, id));
      const next: RunRecord = { ...run, params: mergeParams(run, params), tags: { ...run.tags, ...tags } };
      db.prepare('UPDATE tracking_runs SET doc = ? WHERE id = ?').run(toDoc(next), id);
      return next;
    });
  }

  async logMetrics(id: number, points: readonly MetricPoint[], at: Date): Promise<RunRecord> {
    const checked = checkPoints(points);
    return this.#write((db) => {
      const run = checkWritable(id, runIn(db, id));
      const insert = db.prepare('INSERT INTO tracking_points (run, key, step, value, time) VALUES (?, ?, ?, ?, ?)');
      const ranges = new Map<string, MetricRange>();
      for (const p of checked) {
        insert.run(id, p.key, p.step, p.value, p.time.getTime());
        const r = ranges.get(p.key);
        if (r) {
          r.min = Math.min(r.min, p.value);
          r.max = Math.max(r.max, p.value);
          r.count++;
        } else ranges.set(p.key, { min: p.value, max: p.value, count: 1 });
      }
      const range = db.prepare(
        'INSERT INTO tracking_ranges (run, key, min, max, count) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run, key) DO UPDATE SET min = MIN(min, excluded.min), max = MAX(max, excluded.max), count = count + excluded.count',
      );
      for (const [key, r] of ranges) range.run(id, key, r.min, r.max, r.count);
      const next: RunRecord = { ...run, ...summarize(run, checked, at) };
      db.prepare('UPDATE tracking_runs SET doc = ? WHERE id = ?').run(toDoc(next), id);
      return next;
    });
  }

  async metricHistory(id: number, key: string): Promise<MetricPoint[]> {
    return this.#read((db) =>
      (db.prepare('SELECT key, step, value, time FROM tracking_points WHERE run = ? AND key = ? ORDER BY step, seq').all(id, key) as PointRow[]).map(toPoint),
    );
  }

  /**
   * The reduction in SQL, so a million points never become objects: buckets
   * are equal ranges of steps (the chart's x axis), and each bucket's
   * lowest and highest point are one indexed range query each (SQLite
   * returns the row a lone MIN or MAX picked). Counting stops at max + 1.
   */
  async metricSeries(id: number, key: string, max: number): Promise<Series> {
    return this.#read((db) => {
      const limit = Math.max(2, Math.floor(max));
      const n = (db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM tracking_points WHERE run = ? AND key = ? LIMIT ?)').get(id, key, limit + 1) as { n: number }).n;
      if (n <= limit) {
        const rows = db.prepare('SELECT step, value FROM tracking_points WHERE run = ? AND key = ? ORDER BY step, seq').raw().all(id, key) as [number, number][];
        return { steps: rows.map((r) => r[0]), values: rows.map((r) => r[1]) };
      }
      const end = (dir: 'ASC' | 'DESC') =>
        db.prepare(`SELECT step, value FROM tracking_points WHERE run = ? AND key = ? ORDER BY step ${dir}, seq ${dir} LIMIT 1`).raw().get(id, key) as [number, number];
      const first = end('ASC');
      const last = end('DESC');
      const buckets = Math.max(1, Math.floor(limit / 2));
      const span = last[0] - first[0] + 1;
      const lowest = db.prepare('SELECT step, MIN(value) FROM tracking_points WHERE run = ? AND key = ? AND step >= ? AND step < ?').raw();
      const highest = db.prepare('SELECT step, MAX(value) FROM tracking_points WHERE run = ? AND key = ? AND step >= ? AND step < ?').raw();
      const steps: number[] = [];
      const values: number[] = [];
      const push = (st: number, v: number) => {
        steps.push(st);
        values.push(v);
      };
      for (let b = 0; b < buckets; b++) {
        const from = first[0] + Math.floor((b * span) / buckets);
        const to = first[0] + Math.floor(((b + 1) * span) / buckets);
        if (to <= from) continue;
        const [ls, lv] = lowest.get(id, key, from, to) as [number | null, number | null];
        if (ls === null || lv === null) continue;
        const [hs, hv] = highest.get(id, key, from, to) as [number, number];
        if (lv === hv && ls === hs) push(ls, lv);
        else if (ls <= hs) {
          push(ls, lv);
          push(hs, hv);
        } else {
          push(hs, hv);
          push(ls, lv);
        }
      }
      // The first and last point always stay: a chart's x axis spans the whole run.
      if (steps[0] !== first[0]) {
        steps.unshift(first[0]);
        values.unshift(first[1]);
      }
      if (steps[steps.length - 1] !== last[0]) push(last[0], last[1]);
      return { steps, values };
    });
  }

  async runMetrics(id: number): Promise<Map<string, MetricPoint[]>> {
    const rows = await this.#read((db) => db.prepare('SELECT key, step, value, time FROM tracking_points WHERE run = ? ORDER BY key, step, seq').all(id) as PointRow[]);
    return groupByKey(rows, toPoint);
  }

  async metricRanges(id: number): Promise<Map<string, MetricRange>> {
    const rows = await this.#read(
      (db) => db.prepare('SELECT key, min, max, count FROM tracking_ranges WHERE run = ? ORDER BY key').all(id) as Array<MetricRange & { key: string }>,
    );
    return new Map(rows.map((r) => [r.key, { min: r.min, max: r.max, count: r.count }]));
  }

  async insertCheckpoint(c: CheckpointRecord): Promise<void> {
    const rec = checkCheckpoint(c);
    await this.#write((db) => {
      db.prepare('INSERT INTO tracking_checkpoints (run, step, doc) VALUES (?, ?, ?)').run(rec.run, rec.step, JSON.stringify({ ...rec, created: rec.created.getTime() }));
    });
  }

  async listCheckpoints(run: number): Promise<CheckpointRecord[]> {
    return this.#read((db) => (db.prepare('SELECT doc FROM tracking_checkpoints WHERE run = ? ORDER BY step').all(run) as { doc: string }[]).map((r) => toCheckpoint(r.doc)));
  }

  async getCheckpoint(run: number, step: number): Promise<CheckpointRecord | null> {
    return this.#read((db) => {
      const row = db.prepare('SELECT doc FROM tracking_checkpoints WHERE run = ? AND step = ?').get(run, step) as { doc: string } | undefined;
      return row ? toCheckpoint(row.doc) : null;
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

function runIn(db: Database.Database, id: number): RunRecord | null {
  const row = db.prepare('SELECT doc FROM tracking_runs WHERE id = ?').get(id) as { doc: string } | undefined;
  return row ? fromDoc(row.doc) : null;
}

function toDoc(r: RunRecord): string {
  const doc: RunDoc = { ...r, start: r.start.getTime(), end: r.end?.getTime() ?? null, last_time: r.last_time?.getTime() ?? null };
  return JSON.stringify(doc);
}

function fromDoc(text: string): RunRecord {
  const d = JSON.parse(text) as RunDoc;
  return cloneRun({ ...d, start: new Date(d.start), end: d.end === null ? null : new Date(d.end), last_time: d.last_time === null ? null : new Date(d.last_time) });
}

const SQL_OPS: Readonly<Record<string, string>> = { $eq: '=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

/**
 * The comparisons of a params./metrics./tags. condition SQL can narrow by
 * without losing a run the filter matches: a number under =, <, <=, >, >=
 * (SQLite orders numbers before text, as the filter's type brackets keep
 * them apart) and text under = only (text order differs). Anything else
 * narrows nothing; the filter is tested in full after.
 */
function jsonConditions(cond: unknown): Array<[string, number | string]> {
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

/** SQL for the top-level exact matches on indexed columns and the comparisons on params, metrics and tags; the whole filter is still tested after. */
function narrowing(filter: FilterDoc): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const conjuncts = filter.$and ? [filter, ...filter.$and] : [filter];
  for (const doc of conjuncts) {
    for (const [field, cond] of Object.entries(doc)) {
      const open = /^(params|metrics|tags)\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(field);
      if (open) {
        for (const [op, value] of jsonConditions(cond)) {
          parts.push(`json_extract(doc, ?) ${op} ?`);
          params.push(`$.${open[1]}."${open[2]}"`, value);
        }
        continue;
      }
      if (!SQL_COLUMNS.has(field)) continue;
      const values: Scalar[] | null =
        cond !== null && typeof cond === 'object' && !(cond instanceof Date) && !Array.isArray(cond)
          ? '$eq' in cond && Object.keys(cond).length === 1
            ? [cond.$eq as Scalar]
            : '$in' in cond && Object.keys(cond).length === 1
              ? (cond.$in as Scalar[])
              : null
          : [cond as Scalar];
      if (values === null || values.some((v) => typeof v !== (field === 'id' ? 'number' : 'string'))) continue;
      parts.push(`"${field}" IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    }
  }
  return { where: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', params };
}
