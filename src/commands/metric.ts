import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type ResultTable } from '../result/table.js';
import { parseRunId, readRun } from '../tracking/runs.js';
import { checkKey } from '../tracking/store.js';

const syntax = {
  keywords: ['metric'],
  args: [
    { kind: 'word', field: 'run', label: 'a run id' },
    { kind: 'word', field: 'metric', label: 'a metric name' },
  ],
} as const;

export type MetricCommand = CommandAst<typeof syntax>;

export const METRIC_COLUMNS = [col('step', 'LONG'), col('value', 'DOUBLE'), col('time', 'DATETIME')];

/** One metric's history, by step: any user's run may be read. */
export async function executeMetric(ctx: EngineContext, cmd: MetricCommand): Promise<ResultTable> {
  const id = parseRunId(cmd.run);
  const key = checkKey('metric', cmd.metric);
  await readRun(ctx, id);
  const points = await (await ctx.tracking()).metricHistory(id, key);
  return { columns: METRIC_COLUMNS, rows: points.map((p) => [p.step, p.value, p.time]) };
}

export const metricCommand = defineCommand({
  syntax,
  summary: "One metric of a run, every point by step: step, value, time (a step logged twice shows twice, in the order logged).",
  examples: ['mlmodel metric 12 loss', 'mlmodel metric 12 acc | where step >= 100 | sort -value | head 3'],
  columns: METRIC_COLUMNS,
  writes: false,
  execute: executeMetric,
});
