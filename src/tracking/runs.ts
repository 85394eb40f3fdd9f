/**
 * What the tracking commands share: starting a run, finding one for reading
 * or writing (the ownership rule models have: everyone reads every run; only
 * its user, or an admin, logs to it or ends it), logging, and reading the
 * free `key=value` pairs of a command as parameters, metrics or tags.
 */
import type { OptionAssignment } from '../../grammar/ast.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { quote, readsAsNumber } from '../../grammar/index.js';
import {
  checkKey,
  checkMetricValue,
  checkName,
  checkParamValue,
  checkStep,
  checkTag,
  type EndStatus,
  type MetricPoint,
  type ParamValue,
  type RunGuard,
  type RunRecord,
} from './store.js';

/** The sequence run ids are claimed from, in the metadata store. */
export const RUN_ID_SEQUENCE = 'run-id';
export const DEFAULT_EXPERIMENT = 'default';

/** A run id as typed: a whole number from 1 up. */
export function parseRunId(text: string | number): number {
  const n = typeof text === 'number' ? text : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new MlmodelError('INVALID_ARGUMENT', `${JSON.stringify(String(text))} is not a run id (a whole number from 1 up)`, { run: String(text) });
  return n;
}

export interface StartRun {
  readonly experiment?: string | undefined;
  readonly name?: string | undefined;
  readonly params?: Readonly<Record<string, ParamValue>>;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Starts a run for the context's user: its experiment is created if new; its id is the next of RUN_ID_SEQUENCE. */
export async function startRun(ctx: EngineContext, start: StartRun): Promise<RunRecord> {
  const experiment = checkName('experiment', start.experiment ?? DEFAULT_EXPERIMENT);
  const params: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(start.params ?? {})) params[checkKey('param', k)] = checkParamValue(k, v);
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(start.tags ?? {})) tags[k] = checkTag(k, v);
  if (start.name !== undefined) checkName('run', start.name);
  const tracking = await ctx.tracking();
  const at = ctx.now();
  await tracking.ensureExperiment(experiment, ctx.user, at);
  const uid = ctx.newUid();
  // A claimed id is never handed out again, even if the insert below fails: ids may skip, never repeat.
  const id = await ctx.meta.claimNext(RUN_ID_SEQUENCE, uid);
  const run: RunRecord = {
    id,
    uid,
    experiment,
    name: start.name ?? `run-${id}`,
    user: ctx.user,
    status: 'RUNNING',
    start: at,
    end: null,
    params,
    tags,
    metrics: {},
    metric_steps: {},
    last_step: null,
    last_time: null,
  };
  await tracking.insertRun(run);
  return run;
}

/** Any user's run, for reading. */
export async function readRun(ctx: EngineContext, id: number): Promise<RunRecord> {
  const run = await (await ctx.tracking()).getRun(id);
  if (!run) throw new MlmodelError('NOT_FOUND', `no run ${id}`, { run: id });
  return run;
}

/**
 * The ownership rule of writes, for the store to apply to the run it reads
 * in the write's own transaction: the context user's own run, or any run
 * for an admin.
 */
export function ownerGuard(ctx: EngineContext): RunGuard {
  return (run) => {
    if (run.user !== ctx.user && !ctx.admin) {
      throw new MlmodelError('NOT_FOUND', `no run ${run.id} of yours: run ${run.id} is ${run.user}'s, and only ${run.user} or an admin may log to it or end it`, {
        run: run.id,
        owner: run.user,
      });
    }
  };
}

/** The context user's own run (or any run, for an admin), for logging to or ending. */
export async function ownRun(ctx: EngineContext, id: number): Promise<RunRecord> {
  const run = await readRun(ctx, id);
  ownerGuard(ctx)(run);
  return run;
}

/** Ends the user's run; CONFLICT if it has ended already (the first end stands). */
export async function endRun(ctx: EngineContext, id: number, status: EndStatus): Promise<RunRecord> {
  const ended = await (await ctx.tracking()).endRun(id, status, ctx.now(), ownerGuard(ctx));
  if (!ended) {
    const now = await readRun(ctx, id);
    throw new MlmodelError('CONFLICT', `run ${id} has ended already (${now.status}); a run ends once`, { run: id, status: now.status });
  }
  return ended;
}

/**
 * A run's params, metrics or tags with their names in code-point order: how
 * every table shows them, whichever store read them and in whatever order
 * they were logged.
 */
export function byName<T>(values: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(values).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = values[k]!;
  return out;
}

/** A free pair's value as a parameter: a quoted one (OptionAssignment.quoted) is text; a bare one a number if it reads as one, true/false a boolean, else text. */
export function paramValue(text: string, quoted = false): ParamValue {
  if (quoted) return text;
  if (readsAsNumber(text) && Number.isFinite(Number(text))) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

/** A free pair's value as a metric: a finite number written bare, or INVALID_ARGUMENT naming the metric. */
export function metricValue(key: string, text: string, quoted = false): number {
  if (quoted) {
    throw new MlmodelError('INVALID_ARGUMENT', `metric ${key}: ${quote(text)} is quoted text, and a metric is a number${readsAsNumber(text) ? `: write it bare, ${key}=${text}` : ''}`, { key, value: text });
  }
  const n = readsAsNumber(text.trim()) ? Number(text) : /^[+-]?(nan|inf|infinity)$/i.test(text.trim()) ? Number(text.replace(/inf$/i, 'Infinity')) : undefined;
  if (n === undefined) throw new MlmodelError('INVALID_ARGUMENT', `metric ${key}: ${JSON.stringify(text)} is not a number`, { key, value: text });
  return checkMetricValue(key, n);
}

/** The free pairs as named values, each key checked; a key given twice is refused. */
export function pairs<T>(what: string, given: readonly OptionAssignment[], read: (key: string, text: string, quoted: boolean) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const { key, value, quoted } of given) {
    checkKey(what, key);
    if (Object.hasOwn(out, key)) throw new MlmodelError('INVALID_ARGUMENT', `${what} ${key} is given twice`, { key });
    out[key] = read(key, value, quoted === true);
  }
  return out;
}

/** The fields a batch point may have. */
const POINT_FIELDS: readonly string[] = ['key', 'value', 'step', 'time'];

/**
 * A batch point's metric name: a name (checkKey), and none of `options`,
 * the options of `log metrics` (step, batch) — `log metrics 3 step=1` could
 * never log a metric called step, so no entry point may.
 */
function checkMetricName(key: string, options: readonly string[]): string {
  checkKey('metric', key);
  if (options.includes(key.toLowerCase())) {
    throw new MlmodelError('INVALID_ARGUMENT', `${key} is not a metric name: ${options.join(' and ')} are the options of log metrics`, { key });
  }
  return key;
}

/**
 * Metric points from the JSON a client sends in one batch: a list of
 * `{key, value, step?, time?}` (time: ISO 8601 or milliseconds), no key one
 * of `options` (the command's own). Every point is checked before anything
 * is written.
 */
export function batchPoints(json: string, defaultStep: number | undefined, at: Date, options: readonly string[]): MetricPoint[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new MlmodelError('INVALID_ARGUMENT', 'batch= is not JSON: give a list of {"key": …, "value": …, "step": …}');
  }
  if (!Array.isArray(parsed)) throw new MlmodelError('INVALID_ARGUMENT', 'batch= must be a JSON list of {"key": …, "value": …, "step": …}');
  return parsed.map((p: unknown, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new MlmodelError('INVALID_ARGUMENT', `batch point ${i} is not an object`, { index: i });
    const o = p as Record<string, unknown>;
    // A misspelt field ("val", "stpe") would otherwise be dropped and the point stored without it.
    const unknown = Object.keys(o).find((f) => !POINT_FIELDS.includes(f));
    if (unknown !== undefined) {
      throw new MlmodelError('INVALID_ARGUMENT', `batch point ${i} has a field ${JSON.stringify(unknown)}; a point has ${POINT_FIELDS.join(', ')}`, { index: i, field: unknown });
    }
    if (typeof o.key !== 'string') throw new MlmodelError('INVALID_ARGUMENT', `batch point ${i}: "key" must be a metric name`, { index: i });
    const key = checkMetricName(o.key, options);
    const step = o.step === undefined ? defaultStep : o.step;
    if (step === undefined) throw new MlmodelError('INVALID_ARGUMENT', `batch point ${i} (${key}) has no step, and the command gives none`, { index: i });
    let time = at;
    if (o.time !== undefined) {
      time = new Date(typeof o.time === 'number' || typeof o.time === 'string' ? o.time : NaN);
      if (Number.isNaN(time.getTime())) throw new MlmodelError('INVALID_ARGUMENT', `batch point ${i} (${key}): time is not a date`, { index: i });
      if (time.getTime() < 0) throw new MlmodelError('INVALID_ARGUMENT', `batch point ${i} (${key}): time is before 1970 (epoch milliseconds are from 0 up)`, { index: i });
    }
    // A JSON string value is a mistake to report, not a number to guess at.
    return { key, step: checkStep(step), value: checkMetricValue(key, o.value), time };
  });
}
