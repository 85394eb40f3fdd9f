/**
 * Tracking calls as statements of the language, for the front ends that take
 * them as data — the HTTP endpoints (console/serve/tracking-routes.ts) and
 * the library (tracking/client.ts) — so that every one of them runs through
 * the one run loop like a typed query. Every name is checked before it goes
 * into the text and every value is quoted: a call cannot say more than its
 * statement.
 */
import { quote } from '../../grammar/index.js';
import { logCommand } from '../commands/log.js';
import { runCommand } from '../commands/run.js';
import type { CommandSyntax } from '../../grammar/command-syntax.js';
import { MlmodelError } from '../errors.js';
import { checkKey } from './store.js';

const bad = (message: string) => new MlmodelError('INVALID_ARGUMENT', message);

/**
 * A number JSON cannot carry (±Infinity, NaN: JSON.parse reads 1e999 as
 * Infinity, and a library caller may pass either) is refused here, naming it
 * as given: the statement carries values as JSON, where it would turn into
 * null and be reported as "null is not a number".
 */
function finite(what: string, v: unknown): void {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new MlmodelError('INVALID_ARGUMENT', `${what}: ${String(v)} is not a finite number`, { value: String(v) });
}

/**
 * ` k='v' …`, each name checked; numbers and booleans keep their text, so the
 * command reads them back as such. `command` is the one the pairs go into:
 * a name that is one of its options (`name` in `run start`, `step` in
 * `log params`) would be read as that option, not as a pair, so it is refused.
 */
export function pairsText(what: string, values: Readonly<Record<string, unknown>>, command: { readonly syntax: CommandSyntax }): string {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw bad(`${what}s must be an object of name: value`);
  const options = Object.keys(command.syntax.options ?? {});
  return Object.entries(values)
    .map(([k, v]) => {
      checkKey(what, k);
      if (options.includes(k.toLowerCase())) {
        throw bad(`a ${what} cannot be called ${k} here: ${options.join(', ')} ${options.length === 1 ? 'is an option' : 'are options'} of mlmodel ${command.syntax.keywords[0]}`);
      }
      // A quoted value is text to the language, a bare one a number or boolean: JSON's types are kept.
      if (typeof v === 'string') return ` ${k}=${quote(v)}`;
      if (typeof v === 'boolean') return ` ${k}=${v}`;
      if (typeof v === 'number') {
        finite(`${what} ${k}`, v);
        return ` ${k}=${v}`;
      }
      throw bad(`${what} ${k}: the value must be text, a number or a boolean`);
    })
    .join('');
}

const runId = (id: number) => {
  if (!Number.isSafeInteger(id) || id < 1) throw bad(`${String(id)} is not a run id`);
  return id;
};

export function startRunStatement(start: { experiment?: string | undefined; name?: string | undefined; params?: Readonly<Record<string, unknown>> | undefined }): string {
  const experiment = start.experiment === undefined ? '' : ` experiment=${quote(start.experiment)}`;
  const name = start.name === undefined ? '' : ` name=${quote(start.name)}`;
  return `mlmodel run start${experiment}${name}${pairsText('param', start.params ?? {}, runCommand)}`;
}

export function logParamsStatement(id: number, params: Readonly<Record<string, unknown>>): string {
  return `mlmodel log params ${runId(id)}${pairsText('param', params, logCommand)}`;
}

export function logTagsStatement(id: number, tags: Readonly<Record<string, unknown>>): string {
  return `mlmodel log tags ${runId(id)}${pairsText('tag', tags, logCommand)}`;
}

/** A batch of points `{key, value, step?, time?}`, as JSON: the command checks each value and step (a string "0.5" is refused). */
export function logMetricsStatement(id: number, points: readonly unknown[], step?: unknown): string {
  if (!Array.isArray(points)) throw bad('metrics must be a list of {"key", "value", "step"}');
  finite('"step"', step);
  points.forEach((p: unknown, i) => {
    if (typeof p !== 'object' || p === null) return;
    const o = p as Record<string, unknown>;
    const what = typeof o.key === 'string' ? `metric ${o.key}` : `metrics[${i}]`;
    finite(what, o.value);
    finite(`${what}, step`, o.step);
    finite(`${what}, time`, o.time);
  });
  const s = step === undefined ? '' : ` step=${quote(String(step))}`;
  return `mlmodel log metrics ${runId(id)}${s} batch=${quote(JSON.stringify(points))}`;
}

/** Several metrics at one step. */
export function logValuesStatement(id: number, values: Readonly<Record<string, unknown>>, step: unknown): string {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw bad('values must be an object of name: number');
  finite('"step"', step);
  return logMetricsStatement(
    id,
    Object.entries(values).map(([key, value]) => ({ key: checkKey('metric', key), value, step })),
  );
}

export function endRunStatement(id: number, status?: string): string {
  if (status !== undefined && !/^[A-Za-z]+$/.test(status)) throw bad('status must be FINISHED, FAILED or KILLED');
  return `mlmodel run end ${runId(id)}${status === undefined ? '' : ` status=${status}`}`;
}

/** `mlmodel runs` with its stale= option as typed (a duration, which the command reads), if given. */
const runsText = (stale: string | undefined) => `mlmodel runs${stale === undefined ? '' : ` stale=${quote(stale)}`}`;

export function runsStatement(experiments: readonly string[], stale?: string): string {
  return `${runsText(stale)}${experiments.length > 0 ? ` | where experiment in (${experiments.map((e) => quote(e)).join(', ')})` : ''}`;
}

/** One run as `mlmodel runs` shows it: no row when there is no such run. */
export function runStatement(id: number, stale?: string): string {
  return `${runsText(stale)} | where id = ${runId(id)}`;
}

export function metricStatement(id: number, key: string): string {
  return `mlmodel metric ${runId(id)} ${checkKey('metric', key)}`;
}

export function chartStatement(id: number, metrics: readonly string[], points?: number): string {
  if (metrics.length === 0) throw bad('name the metrics to chart');
  if (points !== undefined && !Number.isSafeInteger(points)) throw bad('points must be a whole number');
  return `mlmodel chart ${runId(id)} ${metrics.map((k) => checkKey('metric', k)).join(', ')}${points === undefined ? '' : ` points=${points}`}`;
}
