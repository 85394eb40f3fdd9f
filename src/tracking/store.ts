/**
 * The tracking store: how a model was trained. Experiments, runs (their
 * parameters, tags and a summary of their metrics), metric points by step,
 * and checkpoints. It lives in the same database as the model records
 * (SQLite file or MongoDB database; see open.ts), beside them, not inside
 * the metadata store: two implementations (sqlite.ts, mongo.ts) pass one
 * conformance suite (test/tracking/conformance.ts).
 *
 * Everything that goes in is checked here first, the same way for both
 * backends (checkRun, checkPoints, …), so what comes out is what went in and
 * a refused write has written nothing.
 */
import { quote } from '../../grammar/index.js';
import { MlmodelError } from '../errors.js';
import type { Series } from './downsample.js';
import { isNestedPath, validateFilter, validateSort, withTieBreak, type FieldType, type FilterDoc, type SortSpec } from '../store/filter.js';

export const RUN_STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** The statuses a run may end with. */
export const END_STATUSES = ['FINISHED', 'FAILED', 'KILLED'] as const;
export type EndStatus = (typeof END_STATUSES)[number];

export type ParamValue = string | number | boolean;

export interface Experiment {
  name: string;
  /** Who created it; anyone may add runs to it. */
  user: string;
  created: Date;
}

/**
 * One training run. `metrics` holds the latest value of each metric (the
 * value at its highest step) so that listings filter and sort on it in the
 * store; the full history is in the metric points.
 */
export interface RunRecord {
  /** 1, 2, 3, … claimed from the metadata store's 'run-id' sequence. */
  id: number;
  /** Immutable; object keys (checkpoints) derive from it. */
  uid: string;
  experiment: string;
  name: string;
  user: string;
  status: RunStatus;
  start: Date;
  end: Date | null;
  params: Record<string, ParamValue>;
  tags: Record<string, string>;
  metrics: Record<string, number>;
  /** The step each entry of `metrics` was logged at. */
  metric_steps: Record<string, number>;
  /** The highest step logged so far (null before the first point). */
  last_step: number | null;
  /** When the last point was written (null before the first point). */
  last_time: Date | null;
}

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
  time: Date;
}

export interface MetricRange {
  min: number;
  max: number;
  count: number;
}

export interface CheckpointRecord {
  run: number;
  step: number;
  /** The archive, stored as a model version's is, under the run's uid. */
  object_key: string;
  size: number;
  sha256: string;
  type: string;
  format: string;
  filename: string;
  created: Date;
}

export interface RunQuery {
  filter?: FilterDoc;
  sort?: SortSpec;
  limit?: number;
}

/** A run query after checkRunQuery: the sort ends with `id`. */
export interface ValidRunQuery {
  filter: FilterDoc;
  sort: SortSpec;
  limit: number | null;
}

/**
 * A run without its params and tags: what a write reads of the run it
 * writes to (who owns it, whether it is RUNNING, its metric summary). The
 * SQLite store keeps params and tags as rows of their own, so a write that
 * needs no more never reads them, however many the run has.
 */
export type RunHead = Omit<RunRecord, 'params' | 'tags'>;

/**
 * A check a write makes of the run it reads inside its own transaction,
 * before the run's state is checked and before anything is written (the
 * ownership rule of runs.ts): it throws to refuse. One read serves both.
 */
export type RunGuard = (run: RunHead) => void;

export interface TrackingStore {
  readonly kind: string;
  init(): Promise<void>;
  close(): Promise<void>;

  /** The experiment called `name`, created for `user` at `at` when there is none yet. */
  ensureExperiment(name: string, user: string, at: Date): Promise<Experiment>;
  listExperiments(): Promise<Experiment[]>;

  /** DUPLICATE_KEY when its id or uid is taken. */
  insertRun(run: RunRecord): Promise<void>;
  getRun(id: number): Promise<RunRecord | null>;
  /** Filter, sort (ending with id) and limit, run by the store. */
  findRuns(query?: RunQuery): Promise<RunRecord[]>;
  /** Ends a run that is RUNNING (and passes `guard`); null when it is not (ended already, or no such run). */
  endRun(id: number, status: EndStatus, end: Date, guard?: RunGuard): Promise<RunRecord | null>;
  /**
   * Adds parameters and tags to a RUNNING run. A parameter, once logged,
   * keeps its value: a different value is CONFLICT and nothing is written.
   * Tags may change. NOT_FOUND / CONFLICT when the run is missing or ended;
   * whatever `guard` throws when it refuses the run. Logging a param again
   * with the value it has writes nothing. It answers nothing: what a run's
   * params are is getRun's to say, so a call costs the same however many
   * params the run has.
   */
  logParams(id: number, params: Readonly<Record<string, ParamValue>>, tags: Readonly<Record<string, string>>, guard?: RunGuard): Promise<void>;
  /**
   * Appends metric points to a RUNNING run and updates its summary: all of
   * them or none (one transaction on SQLite; on MongoDB the batch is removed
   * again if any insert fails). Refused as logParams is. Answers the run's
   * summary after the points, without its params and tags.
   */
  logMetrics(id: number, points: readonly MetricPoint[], at: Date, guard?: RunGuard): Promise<RunHead>;
  /** One metric's points by step (ties in the order they were logged). */
  metricHistory(id: number, key: string): Promise<MetricPoint[]>;
  /**
   * One metric's points by step reduced to about `max` (max ≥ 2) for a
   * chart: the whole history when it has at most `max` points, otherwise
   * each of max/2 buckets' lowest and highest point, in step order, and
   * the first and last point (downsample.ts says how; SQLite does it in SQL).
   */
  metricSeries(id: number, key: string, max: number): Promise<Series>;
  /** Every metric of a run, by key, each by step. */
  runMetrics(id: number): Promise<Map<string, MetricPoint[]>>;
  /** Each metric's lowest and highest value and its number of points, computed by the store (compare's best values). */
  metricRanges(id: number): Promise<Map<string, MetricRange>>;

  /** DUPLICATE_KEY when the run already has a checkpoint at that step. */
  insertCheckpoint(c: CheckpointRecord): Promise<void>;
  listCheckpoints(run: number): Promise<CheckpointRecord[]>;
  getCheckpoint(run: number, step: number): Promise<CheckpointRecord | null>;
}

// ---------------------------------------------------------------------------
// Checks shared by both backends.

/** A parameter, metric or tag name: the segment a `where params.<name>` may name. */
export const KEY_RULE = 'a letter or _ then up to 63 letters, digits, _ or -';
const KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Experiment and run names: printable, no control characters, not empty. */
const NAME = /^[^\p{Cc}]{1,200}$/u;
const MAX_BATCH = 100_000;
const MAX_TEXT = 5000;

function bad(message: string, details: Record<string, unknown> = {}): MlmodelError {
  return new MlmodelError('INVALID_ARGUMENT', message, details);
}

export function checkKey(what: string, key: string): string {
  if (!KEY.test(key) || !isNestedPath([key])) throw bad(`${what} name ${JSON.stringify(key)} is not allowed: ${KEY_RULE}`, { key });
  return key;
}

export function checkName(what: string, name: string): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.trim() !== name) {
    throw bad(`${what} name ${JSON.stringify(name)} is not allowed: 1 to 200 characters, no control characters, no surrounding spaces`, { name });
  }
  return name;
}

/** A step is a whole number from 0 up. */
export function checkStep(step: unknown): number {
  if (typeof step === 'number' && Number.isInteger(step) && step > Number.MAX_SAFE_INTEGER) {
    throw bad(`step ${describe(step)} is too large: a step is at most ${Number.MAX_SAFE_INTEGER}`, { step: describe(step) });
  }
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw bad(`step ${describe(step)} is not a whole number from 0 up`, { step: describe(step) });
  }
  return step;
}

/**
 * A metric value is a finite number. NaN and ±Infinity are refused (MLflow
 * stores them): a where, a sort, a best value or a chart over them would
 * mean nothing, and JSON cannot carry them.
 */
export function checkMetricValue(key: string, value: unknown): number {
  if (typeof value !== 'number') throw bad(`metric ${key}: ${describe(value)} is not a number`, { key, value: describe(value) });
  if (!Number.isFinite(value)) throw bad(`metric ${key}: ${String(value)} is not a finite number (NaN and Infinity are refused)`, { key, value: String(value) });
  return value;
}

export function checkParamValue(key: string, value: unknown): ParamValue {
  if (typeof value === 'string') {
    if (value.length > MAX_TEXT) throw bad(`param ${key}: longer than ${MAX_TEXT} characters`, { key });
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw bad(`param ${key}: ${describe(value)} is not text, a finite number or a boolean`, { key });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'a list' : typeof v;
}

export function checkPoints(points: readonly MetricPoint[]): MetricPoint[] {
  if (!Array.isArray(points)) throw bad('metric points must be a list');
  if (points.length > MAX_BATCH) throw bad(`at most ${MAX_BATCH} metric points in one batch`, { count: points.length });
  return points.map((p) => {
    const key = checkKey('metric', p.key);
    if (!(p.time instanceof Date) || Number.isNaN(p.time.getTime())) throw bad(`metric ${key}: the time is not a date`, { key });
    return { key, step: checkStep(p.step), value: checkMetricValue(key, p.value), time: new Date(p.time.getTime()) };
  });
}

export function checkRun(r: RunRecord): RunRecord {
  if (!Number.isSafeInteger(r.id) || r.id < 1) throw bad('run id must be a whole number from 1 up', { id: r.id });
  if (typeof r.uid !== 'string' || r.uid.length === 0) throw bad('run uid must be text');
  checkName('experiment', r.experiment);
  checkName('run', r.name);
  if (typeof r.user !== 'string' || r.user.length === 0) throw bad('run user must be text');
  if (!(RUN_STATUSES as readonly string[]).includes(r.status)) throw bad(`run status ${r.status} is not one of ${RUN_STATUSES.join(', ')}`);
  for (const [k, v] of Object.entries(r.params)) checkParamValue(checkKey('param', k), v);
  for (const [k, v] of Object.entries(r.tags)) checkTag(k, v);
  return cloneRun(r);
}

export function checkTag(key: string, value: unknown): string {
  checkKey('tag', key);
  if (typeof value !== 'string' || value.length > MAX_TEXT) throw bad(`tag ${key}: the value must be text up to ${MAX_TEXT} characters`, { key });
  return value;
}

export function cloneRun(r: RunRecord): RunRecord {
  return {
    ...r,
    start: new Date(r.start.getTime()),
    end: r.end === null ? null : new Date(r.end.getTime()),
    last_time: r.last_time === null ? null : new Date(r.last_time.getTime()),
    params: { ...r.params },
    tags: { ...r.tags },
    metrics: { ...r.metrics },
    metric_steps: { ...r.metric_steps },
  };
}

/** Fields of a run a filter or sort may name, with their types. */
export const RUN_FIELDS: Readonly<Record<string, FieldType>> = Object.freeze({
  id: 'number',
  uid: 'string',
  experiment: 'string',
  name: 'string',
  user: 'string',
  status: 'string',
  start: 'date',
  end: 'date',
  last_step: 'number',
  last_time: 'date',
});
const OPEN_FIELDS = ['params', 'tags', 'metrics', 'metric_steps'];

/** The type of a run field a filter or sort names, or FILTER_INVALID naming the valid ones. */
export function runFieldType(field: string): FieldType {
  if (Object.hasOwn(RUN_FIELDS, field)) return RUN_FIELDS[field]!;
  const [head = '', ...rest] = field.split('.');
  if (OPEN_FIELDS.includes(head) && rest.length === 1 && isNestedPath(rest)) return 'any';
  throw new MlmodelError('FILTER_INVALID', `unknown run field "${field}"; valid fields: ${[...Object.keys(RUN_FIELDS), ...OPEN_FIELDS.map((f) => `${f}.<name>`)].join(', ')}`, {
    field,
  });
}

/** Validates a run query with the metadata filter's allow-list of operators over run fields. */
export function checkRunQuery(q: RunQuery = {}): ValidRunQuery {
  const filter = validateFilter(q.filter, runFieldType);
  const sort = withTieBreak(validateSort(q.sort, runFieldType));
  let limit: number | null = null;
  if (q.limit !== undefined) {
    if (!Number.isSafeInteger(q.limit) || q.limit < 0) throw new MlmodelError('FILTER_INVALID', 'limit must be a non-negative integer', { limit: q.limit });
    limit = q.limit;
  }
  return { filter, sort, limit };
}

/**
 * The run summary after a batch: each metric's latest value is the one at
 * its highest step (a later point at the same step wins), so a batch logged
 * out of order, or a step logged again, leaves the right value.
 */
export function summarize(run: RunHead, points: readonly MetricPoint[], at: Date): Pick<RunRecord, 'metrics' | 'metric_steps' | 'last_step' | 'last_time'> {
  const metrics = { ...run.metrics };
  const steps = { ...run.metric_steps };
  let last = run.last_step;
  for (const p of points) {
    const seen = steps[p.key];
    if (seen === undefined || p.step >= seen) {
      metrics[p.key] = p.value;
      steps[p.key] = p.step;
    }
    if (last === null || p.step > last) last = p.step;
  }
  // The latest write time, whichever writer took the run last (concurrent writers' clocks interleave).
  const time = points.length === 0 || (run.last_time !== null && run.last_time.getTime() > at.getTime()) ? run.last_time : new Date(at.getTime());
  return { metrics, metric_steps: steps, last_step: last, last_time: time };
}

/** Points ordered by key (then step), as one list per key in that order: what runMetrics answers on both stores. */
export function groupByKey<R extends { key: string }>(rows: readonly R[], toPoint: (row: R) => MetricPoint): Map<string, MetricPoint[]> {
  const out = new Map<string, MetricPoint[]>();
  for (const r of rows) {
    let list = out.get(r.key);
    if (!list) out.set(r.key, (list = []));
    list.push(toPoint(r));
  }
  return out;
}

/** NOT_FOUND or CONFLICT for a write to a run that is missing or no longer RUNNING, or what `guard` throws. */
export function checkWritable<R extends RunHead>(id: number, run: R | null, guard?: RunGuard): R {
  if (!run) throw new MlmodelError('NOT_FOUND', `no run ${id}`, { run: id });
  guard?.(run);
  if (run.status !== 'RUNNING') throw new MlmodelError('CONFLICT', `run ${id} is ${run.status}: nothing more can be logged to it`, { run: id, status: run.status });
  return run;
}

/**
 * CONFLICT if param `key` of run `run`, which has the value `had` (undefined
 * when it has none yet), would be logged with another value `value`: a
 * param keeps the value it was first logged with (MLflow's rule). The same
 * value again is allowed and changes nothing.
 */
export function checkParamKept(run: number, key: string, had: ParamValue | undefined, value: ParamValue): void {
  if (had !== undefined && had !== value) {
    // Written as the language writes it: text quoted, so 5 and '5' read apart.
    const shown = (v: ParamValue) => (typeof v === 'string' ? quote(v) : String(v));
    throw new MlmodelError('CONFLICT', `run ${run} already has param ${key}=${shown(had)}, not ${shown(value)}; a param keeps the value it was first logged with`, {
      run,
      param: key,
    });
  }
}

/** Each param checked (name, value), in a new object. */
export function checkParams(params: Readonly<Record<string, ParamValue>>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(params)) out[checkKey('param', k)] = checkParamValue(k, v);
  return out;
}

/** CONFLICT if a parameter would change its value; the merged parameters otherwise. */
export function mergeParams(run: RunRecord, params: Readonly<Record<string, ParamValue>>): Record<string, ParamValue> {
  const out = { ...run.params };
  for (const [k, v] of Object.entries(checkParams(params))) {
    checkParamKept(run.id, k, Object.hasOwn(out, k) ? out[k] : undefined, v);
    out[k] = v;
  }
  return out;
}

/** A record's params or tags by name in code-point order, as both stores answer them. */
export function byName<V>(values: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(values).sort()) out[k] = values[k]!;
  return out;
}

export function checkCheckpoint(c: CheckpointRecord): CheckpointRecord {
  if (!Number.isSafeInteger(c.run) || c.run < 1) throw bad('checkpoint run must be a run id');
  checkStep(c.step);
  return { ...c, created: new Date(c.created.getTime()) };
}
