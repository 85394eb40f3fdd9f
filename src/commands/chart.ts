import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { nearest } from '../../grammar/suggest.js';
import { MlmodelError } from '../errors.js';
import { optionValues } from '../executor/options.js';
import { col, type Cell, type ResultTable } from '../result/table.js';
import { parseRunId, readRun } from '../tracking/runs.js';
import { checkKey } from '../tracking/store.js';

const syntax = {
  keywords: ['chart'],
  args: [
    { kind: 'word', field: 'run', label: 'a run id' },
    { kind: 'names', field: 'metrics', label: 'a metric name' },
    { kind: 'options' },
  ],
  options: {
    points: { type: 'integer', min: 2, max: 100_000, summary: 'at most this many points per metric, keeping extremes (default 2000)' },
  },
} as const;

export type ChartCommand = CommandAst<typeof syntax>;

export const CHART_COLUMNS = [col('metric', 'TEXT'), col('step', 'LONG'), col('value', 'DOUBLE')];
const DEFAULT_POINTS = 2000;

/**
 * A chart of one or more metrics of a run over steps, as data: each metric's
 * points, reduced to `points` by min/max buckets (so spikes survive), and
 * the chart they make. The console draws it (a braille line chart in a
 * terminal, SVG for --format html); every other format gets the points.
 */
export async function executeChart(ctx: EngineContext, cmd: ChartCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const id = parseRunId(cmd.run);
  const keys = [...new Set(cmd.metrics.map((k) => checkKey('metric', k)))];
  const run = await readRun(ctx, id);
  // A misspelt name would draw nothing for it under a title that names it.
  const missing = keys.find((k) => !Object.hasOwn(run.metrics, k));
  if (missing !== undefined) {
    const logged = Object.keys(run.metrics).sort();
    const suggestion = nearest(missing, logged);
    throw new MlmodelError(
      'NOT_FOUND',
      `run ${run.id} has no metric ${missing}${suggestion ? `. Did you mean ${suggestion}?` : ''}${logged.length > 0 ? ` It has ${logged.join(', ')}` : ' It has no metrics yet'}`,
      { run: run.id, metric: missing, ...(suggestion ? { suggestion } : {}) },
    );
  }
  const tracking = await ctx.tracking();
  const rows: Cell[][] = [];
  for (const key of keys) {
    // Reduced by the store: a million points never travel as objects.
    const reduced = await tracking.metricSeries(id, key, o.points ?? DEFAULT_POINTS);
    for (let i = 0; i < reduced.steps.length; i++) rows.push([key, reduced.steps[i]!, reduced.values[i]!]);
  }
  return { columns: CHART_COLUMNS, rows, chart: { title: `run ${run.id} (${run.name}): ${keys.join(', ')}`, series: 'metric', x: 'step', y: 'value' } };
}

export const chartCommand = defineCommand({
  syntax,
  summary: 'Charts metrics of a run over steps: a line chart that fits the terminal, SVG with --format html, the points in every other format.',
  examples: ['mlmodel chart 12 loss', 'mlmodel chart 12 loss, val_loss points=500'],
  notes: ['Long histories are reduced to each bucket\'s lowest and highest point, so a million points draw at once and no spike is lost.'],
  columns: CHART_COLUMNS,
  writes: false,
  execute: executeChart,
});
