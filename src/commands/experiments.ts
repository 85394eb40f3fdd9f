import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type ResultTable } from '../result/table.js';

const syntax = { keywords: ['experiments'], args: [] } as const;

export type ExperimentsCommand = CommandAst<typeof syntax>;

export const EXPERIMENTS_COLUMNS = [col('name', 'TEXT'), col('user', 'TEXT'), col('created', 'DATETIME'), col('runs', 'LONG'), col('running', 'LONG')];

/** Every experiment, with how many runs it has and how many are still running. */
export async function executeExperiments(ctx: EngineContext, _cmd: ExperimentsCommand): Promise<ResultTable> {
  const tracking = await ctx.tracking();
  const [experiments, runs] = await Promise.all([tracking.listExperiments(), tracking.findRuns({})]);
  return {
    columns: EXPERIMENTS_COLUMNS,
    rows: experiments.map((e) => {
      const mine = runs.filter((r) => r.experiment === e.name);
      return [e.name, e.user, e.created, mine.length, mine.filter((r) => r.status === 'RUNNING').length];
    }),
  };
}

export const experimentsCommand = defineCommand({
  syntax,
  summary: 'Every experiment: who created it, when, and how many runs it has (running ones apart). `run start experiment=NAME` creates one.',
  examples: ['mlmodel experiments', 'mlmodel experiments | where running > 0'],
  columns: EXPERIMENTS_COLUMNS,
  writes: false,
  execute: executeExperiments,
});
