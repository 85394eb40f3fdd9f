import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { DEFAULT_STALE_AFTER_SECONDS } from '../config/index.js';
import { optionValues } from '../executor/options.js';
import { applyRunStages, runQuery, WHOLE_RUNS, type PushedRunStages } from '../planner/runs.js';
import { col, type Cell, type Column, type ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { byName } from '../tracking/runs.js';
import { checkKey, checkName, type RunRecord } from '../tracking/store.js';

const syntax = {
  keywords: ['runs'],
  args: [{ kind: 'names', field: 'experiments', label: 'an experiment name', optional: true }, { kind: 'options' }],
  options: {
    stale: { type: 'duration', summary: 'a RUNNING run with no point for this long shows stale=true (default: config tracking.stale_after, else 10m)' },
    trend: { type: 'string', summary: 'a metric to draw as a sparkline in a trend column' },
  },
} as const;

export type RunsCommand = CommandAst<typeof syntax>;

/** Points kept per sparkline: more than a terminal cell row shows. */
const TREND_POINTS = 64;

export const RUNS_COLUMNS: readonly Column[] = [
  col('id', 'LONG'),
  col('experiment', 'TEXT'),
  col('name', 'TEXT'),
  col('user', 'TEXT'),
  col('status', 'TEXT'),
  col('start', 'DATETIME'),
  col('end', 'DATETIME'),
  col('last_step', 'LONG'),
  col('last_time', 'DATETIME'),
  col('idle', 'DOUBLE'),
  col('stale', 'BOOLEAN'),
  col('params', 'JSON'),
  col('metrics', 'JSON'),
  col('tags', 'JSON'),
];
const TREND_COLUMN: Column = { name: 'trend', type: 'JSON', display: 'sparkline' };

/**
 * Seconds since a RUNNING run's last point (or its start, before any), and
 * whether that is longer than `staleAfter`: a writer that stopped sending
 * without ending its run (bolt4ds's "training in progress"). Null once ended.
 */
export function idleness(r: RunRecord, now: Date, staleAfter: number): { idle: number | null; stale: boolean | null } {
  if (r.status !== 'RUNNING') return { idle: null, stale: null };
  const idle = Math.max(0, (now.getTime() - (r.last_time ?? r.start).getTime()) / 1000);
  return { idle, stale: idle > staleAfter };
}

export function runRow(r: RunRecord, now: Date, staleAfter: number): Cell[] {
  const { idle, stale } = idleness(r, now, staleAfter);
  return [r.id, r.experiment, r.name, r.user, r.status, r.start, r.end, r.last_step, r.last_time, idle, stale, byName(r.params), byName(r.metrics), byName(r.tags)];
}

/** Every user's runs, or those of the experiments named; the planner's folded stages run in the store. */
export async function executeRuns(ctx: EngineContext, cmd: RunsCommand, pushed: PushedRunStages = WHOLE_RUNS): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const trend = o.trend === undefined ? undefined : checkKey('metric', o.trend);
  const experiments = cmd.experiments?.map((e) => checkName('experiment', e)) ?? null;
  const tracking = await ctx.tracking();
  const found = await tracking.findRuns(runQuery(pushed, experiments ? F.in('experiment', experiments) : null));
  const records = applyRunStages(found, pushed.records);
  const now = ctx.now();
  const staleAfter = o.stale ?? ctx.staleAfter ?? DEFAULT_STALE_AFTER_SECONDS;
  const rows: Cell[][] = [];
  for (const r of records) {
    const row = runRow(r, now, staleAfter);
    if (trend !== undefined) {
      row.push((await tracking.metricSeries(r.id, trend, TREND_POINTS)).values as number[]);
    }
    rows.push(row);
  }
  return { columns: trend === undefined ? RUNS_COLUMNS : [...RUNS_COLUMNS, TREND_COLUMN], rows };
}

export const runsCommand = defineCommand({
  syntax,
  summary: 'Every training run, or the runs of the experiments named: status, steps, parameters, latest metrics; where/sort/head on params.*, metrics.* and tags.* run in the store.',
  examples: [
    'mlmodel runs',
    'mlmodel runs mnist | where params.lr < 0.01 and metrics.acc > 0.9 | sort -metrics.acc | head 5',
    'mlmodel runs mnist, iris trend=loss',
    'mlmodel runs stale=5m | where status = RUNNING',
  ],
  notes: [
    'metrics.<name> is the value at the highest step logged; idle is the seconds since a RUNNING run\'s last point, and stale says it is longer than stale= (10 minutes unless given).',
    'Every user\'s runs are listed; add `where user = …` for one user\'s.',
  ],
  columns: RUNS_COLUMNS,
  writes: false,
  execute: (ctx, cmd, run) => executeRuns(ctx, cmd, run.runs ?? undefined),
});
