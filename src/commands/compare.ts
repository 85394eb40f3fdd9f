import { defineCommand, type CommandAst } from './command.js';
import { readModelRef } from '../../grammar/visitor.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { resolveModel } from '../executor/models.js';
import { col, type Cell, type Column, type JsonValue, type ResultTable } from '../result/table.js';
import type { ModelRecord } from '../store/metadata.js';
import { parseRunId, readRun } from '../tracking/runs.js';
import type { MetricRange, RunRecord } from '../tracking/store.js';

const syntax = {
  keywords: ['compare'],
  args: [{ kind: 'names', field: 'items', label: 'a run id or a model version' }],
} as const;

export type CompareCommand = CommandAst<typeof syntax>;

/** Metrics whose best value is the lowest; every other metric is best at its highest. */
const LOWER_IS_BETTER = /loss|err|mse|mae|rmse|perplexity|time|latency/i;
const MAX_ITEMS = 50;

/** What one column of a comparison shows: a run, or a model version (through its run when it names one). */
interface Compared {
  readonly label: string;
  readonly fields: Map<string, JsonValue>;
}

function runFields(run: RunRecord, ranges: Map<string, MetricRange>): Map<string, JsonValue> {
  const f = new Map<string, JsonValue>([
    ['experiment', run.experiment],
    ['name', run.name],
    ['user', run.user],
    ['status', run.status],
    ['start', run.start.toISOString()],
    ['elapsed', run.end ? (run.end.getTime() - run.start.getTime()) / 1000 : null],
    ['last_step', run.last_step],
  ]);
  for (const [k, v] of Object.entries(run.params)) f.set(`params.${k}`, v);
  // The store computes each metric's range: compare never loads the histories.
  for (const [k, range] of ranges) {
    f.set(`metrics.${k}.last`, run.metrics[k] ?? null);
    f.set(`metrics.${k}.best`, LOWER_IS_BETTER.test(k) ? range.min : range.max);
  }
  return f;
}

/**
 * A model version's recorded parameter and evaluation options, over `f` (its
 * run's fields, or none): what the import recorded explicitly wins, as in
 * summary, so the two never show one version two ways. A recorded
 * `parameter` replaces the run's params, a recorded `evaluation` its metrics.
 */
function versionFields(r: ModelRecord, f = new Map<string, JsonValue>([['user', r.user]])): Map<string, JsonValue> {
  const drop = (prefix: string) => {
    for (const k of [...f.keys()]) if (k.startsWith(prefix)) f.delete(k);
  };
  const parameter = r.options.parameter;
  if (parameter && typeof parameter === 'object' && !Array.isArray(parameter)) {
    drop('params.');
    for (const [k, v] of Object.entries(parameter)) f.set(`params.${k}`, v);
  }
  const evaluation = r.options.evaluation;
  if (evaluation && typeof evaluation === 'object' && !Array.isArray(evaluation)) {
    drop('metrics.');
    for (const [k, v] of Object.entries(evaluation)) f.set(`metrics.${k}.last`, v);
  }
  return f.set('name', `${r.name}@${r.version}`);
}

async function compared(ctx: EngineContext, item: string): Promise<Compared> {
  const tracking = await ctx.tracking();
  if (/^\d+$/.test(item)) {
    const run = await readRun(ctx, parseRunId(item));
    return { label: item, fields: runFields(run, await tracking.metricRanges(run.id)) };
  }
  const { ref, problem } = readModelRef(item);
  if (problem) throw new MlmodelError('INVALID_ARGUMENT', `${item}: ${problem.message}`, { item });
  const version = await resolveModel(ctx, ref);
  const runId = version.options.run;
  if (typeof runId === 'number') {
    const run = await readRun(ctx, runId);
    return { label: item, fields: versionFields(version, runFields(run, await tracking.metricRanges(run.id))) };
  }
  return { label: item, fields: versionFields(version) };
}

/** Orders rows: the run's own fields first, then params, then metrics, each by name. */
function rank(field: string): [number, string] {
  if (field.startsWith('params.')) return [1, field];
  if (field.startsWith('metrics.')) return [2, field];
  return [0, ''];
}

/**
 * Runs or model versions side by side: a row per field (the run's fields,
 * each parameter, each metric's last and best value), a column per item, and
 * `changed`, true where the items differ (a field one of them lacks differs).
 */
export async function executeCompare(ctx: EngineContext, cmd: CompareCommand): Promise<ResultTable> {
  if (cmd.items.length > MAX_ITEMS) throw new MlmodelError('INVALID_ARGUMENT', `compare takes at most ${MAX_ITEMS} runs or versions`, { count: cmd.items.length });
  const seen = new Set<string>();
  for (const item of cmd.items) {
    if (seen.has(item)) throw new MlmodelError('INVALID_ARGUMENT', `${item} is named twice`, { item });
    if (item === 'field' || item === 'changed') throw new MlmodelError('INVALID_ARGUMENT', `${item} is neither a run id nor a model`, { item });
    seen.add(item);
  }
  const items = await Promise.all(cmd.items.map((i) => compared(ctx, i)));
  const order: string[] = [];
  for (const it of items) for (const k of it.fields.keys()) if (!order.includes(k)) order.push(k);
  const base = order.filter((k) => rank(k)[0] === 0);
  const rest = order.filter((k) => rank(k)[0] > 0).sort((a, b) => rank(a)[0] - rank(b)[0] || (a < b ? -1 : a > b ? 1 : 0));
  const columns: Column[] = [col('field', 'TEXT'), ...items.map((i) => col(i.label, 'JSON')), { name: 'changed', type: 'BOOLEAN', display: 'marks-row' }];
  const rows: Cell[][] = [...base, ...rest].map((field) => {
    const values = items.map((i) => (i.fields.has(field) ? i.fields.get(field)! : null));
    const texts = items.map((i) => (i.fields.has(field) ? JSON.stringify(i.fields.get(field)) : undefined));
    const changed = field !== 'name' && field !== 'start' && texts.some((t) => t !== texts[0]);
    return [field, ...values, changed];
  });
  return { columns, rows };
}

export const compareCommand = defineCommand({
  syntax,
  summary: 'Runs or model versions side by side: their parameters and each metric\'s last and best value as rows, a column each; `changed` marks what differs.',
  examples: ['mlmodel compare 12, 13, 14', 'mlmodel compare mnist@1, mnist@2 | where changed = true', 'mlmodel compare 12, mnist@3 | where field like \'params.%\''],
  notes: [
    'A model version imported with run=ID compares as that run; one without shows its parameter and evaluation options.',
    'best is the lowest value of metrics named like loss, error, mse, mae, rmse, perplexity, time or latency, and the highest of any other.',
  ],
  columns: [col('field', 'TEXT'), col('<item>', 'JSON'), col('changed', 'BOOLEAN')],
  writes: false,
  execute: executeCompare,
});
