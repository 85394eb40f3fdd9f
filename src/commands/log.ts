import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { optionValues } from '../executor/options.js';
import { col, type Cell, type ResultTable } from '../result/table.js';
import { batchPoints, metricValue, ownerGuard, pairs, paramValue, parseRunId } from '../tracking/runs.js';
import type { MetricPoint } from '../tracking/store.js';

const syntax = {
  keywords: ['log'],
  args: [
    { kind: 'word', field: 'what', label: 'params, metrics or tags', words: ['params', 'metrics', 'tags'] },
    { kind: 'word', field: 'run', label: 'a run id' },
    { kind: 'options', others: { field: 'values', label: 'a name=value pair' } },
  ],
  options: {
    step: { type: 'integer', min: 0, summary: 'metrics: the step (epoch, iteration) the values belong to' },
    batch: { type: 'string', summary: 'metrics: a JSON list of {"key", "value", "step", "time"} points, written together' },
  },
} as const;

export type LogCommand = CommandAst<typeof syntax>;

export const LOG_COLUMNS = [col('run', 'LONG'), col('key', 'TEXT'), col('value', 'JSON'), col('step', 'LONG')];

/**
 * Logs to the user's own running run. Everything given is checked first —
 * every name, every value a finite number (for metrics), the step a whole
 * number — and then written in one store call: all of it, or nothing. The
 * store checks that the run is the user's (ownerGuard) and still RUNNING on
 * the one read its write makes.
 */
export async function executeLog(ctx: EngineContext, cmd: LogCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const id = parseRunId(cmd.run);
  const guard = ownerGuard(ctx);
  const tracking = await ctx.tracking();
  if (cmd.what !== 'metrics') {
    if (o.step !== undefined || o.batch !== undefined) throw new MlmodelError('INVALID_ARGUMENT', `step= and batch= are for log metrics, not log ${cmd.what}`, {});
    if (cmd.values.length === 0) throw new MlmodelError('INVALID_ARGUMENT', `mlmodel log ${cmd.what} needs name=value pairs`, {});
    if (cmd.what === 'params') {
      const params = pairs('param', cmd.values, (_k, v, quoted) => paramValue(v, quoted));
      await tracking.logParams(id, params, {}, guard);
      return { columns: LOG_COLUMNS, rows: Object.entries(params).map(([k, v]) => [id, k, v, null]) };
    }
    const tags = pairs('tag', cmd.values, (_k, v) => v);
    await tracking.logParams(id, {}, tags, guard);
    return { columns: LOG_COLUMNS, rows: Object.entries(tags).map(([k, v]) => [id, k, v, null]) };
  }
  const at = ctx.now();
  if (o.batch !== undefined && cmd.values.length > 0) {
    // Both at once could log one metric twice at one step from one call.
    throw new MlmodelError('INVALID_ARGUMENT', 'mlmodel log metrics takes name=value pairs or batch=, not both', {});
  }
  const points: MetricPoint[] = o.batch !== undefined ? batchPoints(o.batch, o.step, at, Object.keys(syntax.options)) : [];
  if (cmd.values.length > 0) {
    if (o.step === undefined) throw new MlmodelError('INVALID_ARGUMENT', 'mlmodel log metrics needs step=N for its name=value pairs', {});
    const values = pairs('metric', cmd.values, metricValue);
    for (const [key, value] of Object.entries(values)) points.push({ key, step: o.step, value, time: at });
  }
  if (points.length === 0) {
    throw new MlmodelError('INVALID_ARGUMENT', o.batch !== undefined ? 'batch= is an empty list: give at least one {"key", "value", "step"}' : 'mlmodel log metrics needs name=value pairs with step=N, or batch=…', {});
  }
  await tracking.logMetrics(id, points, at, guard);
  const rows: Cell[][] = points.length <= 1000 ? points.map((p) => [id, p.key, p.value, p.step]) : [[id, `${points.length} points`, null, null]];
  return { columns: LOG_COLUMNS, rows };
}

export const logCommand = defineCommand({
  syntax,
  summary: 'Logs parameters, metrics (at a step) or tags to one of your running runs, all of a call or none of it.',
  examples: [
    'mlmodel log metrics 12 step=3 loss=0.25 acc=0.91',
    'mlmodel log params 12 lr=0.01 optimizer=adam',
    'mlmodel log tags 12 team=vision',
    `mlmodel log metrics 12 batch='[{"key":"loss","value":0.5,"step":1},{"key":"loss","value":0.4,"step":2}]'`,
  ],
  notes: [
    'Metric values must be finite numbers: NaN and Infinity are refused (MLflow accepts them), so sorts, best values and charts stay meaningful.',
    'A step is a whole number from 0 up. The same step may be logged again: the history keeps both, and the run shows the later one.',
    'Names are a letter or _ then letters, digits, _ or -, up to 64 characters; step and batch are option names, not metric names.',
  ],
  columns: LOG_COLUMNS,
  writes: true,
  execute: executeLog,
});
