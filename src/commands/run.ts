import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { optionValues } from '../executor/options.js';
import { col, type Cell, type ResultTable } from '../result/table.js';
import { byName, endRun, ownRun, pairs, paramValue, parseRunId, startRun } from '../tracking/runs.js';
import { END_STATUSES, type RunRecord } from '../tracking/store.js';

const syntax = {
  keywords: ['run'],
  args: [
    { kind: 'word', field: 'action', label: 'start or end', words: ['start', 'end'] },
    { kind: 'names', field: 'runs', label: 'a run id', optional: true },
    { kind: 'options', others: { field: 'params', label: 'a parameter' } },
  ],
  options: {
    experiment: { type: 'string', summary: 'start: the experiment the run belongs to (created if new; default "default")' },
    name: { type: 'string', summary: 'start: a name for the run (default run-<id>)' },
    status: { type: 'enum', values: END_STATUSES, summary: 'end: how the run ended (default FINISHED)' },
  },
} as const;

export type RunCommand = CommandAst<typeof syntax>;

export const RUN_COLUMNS = [
  col('id', 'LONG'),
  col('experiment', 'TEXT'),
  col('name', 'TEXT'),
  col('user', 'TEXT'),
  col('status', 'TEXT'),
  col('start', 'DATETIME'),
  col('end', 'DATETIME'),
  col('params', 'JSON'),
];

const row = (r: RunRecord): Cell[] => [r.id, r.experiment, r.name, r.user, r.status, r.start, r.end, byName(r.params)];

/**
 * `run start` claims a run id and records the run as RUNNING, with the
 * parameters given as free pairs; `run end` ends the user's runs, each once.
 * Every id is checked (it exists, it is the user's, it is running) before
 * the first one is ended.
 */
export async function executeRun(ctx: EngineContext, cmd: RunCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  if (cmd.action === 'start') {
    if (cmd.runs !== null) throw new MlmodelError('INVALID_ARGUMENT', 'mlmodel run start takes no run id; it makes a new run', { runs: cmd.runs });
    if (o.status !== undefined) throw new MlmodelError('INVALID_ARGUMENT', 'status= is for mlmodel run end', { option: 'status' });
    const run = await startRun(ctx, { experiment: o.experiment, name: o.name, params: pairs('param', cmd.params, (_k, v, quoted) => paramValue(v, quoted)) });
    return { columns: RUN_COLUMNS, rows: [row(run)] };
  }
  if (cmd.runs === null) throw new MlmodelError('INVALID_ARGUMENT', 'mlmodel run end needs the id of the run to end: mlmodel run end 12', {});
  if (o.experiment !== undefined || o.name !== undefined || cmd.params.length > 0) {
    throw new MlmodelError('INVALID_ARGUMENT', 'mlmodel run end takes only status=…', {});
  }
  const ids = [...new Set(cmd.runs.map(parseRunId))];
  for (const id of ids) {
    const run = await ownRun(ctx, id);
    if (run.status !== 'RUNNING') throw new MlmodelError('CONFLICT', `run ${id} has ended already (${run.status}); a run ends once`, { run: id, status: run.status });
  }
  const rows: Cell[][] = [];
  for (const id of ids) rows.push(row(await endRun(ctx, id, o.status ?? 'FINISHED')));
  return { columns: RUN_COLUMNS, rows };
}

export const runCommand = defineCommand({
  syntax,
  summary: 'Starts a training run (run start, with its parameters as key=value) or ends one (run end ID): a run records parameters, metrics by step and checkpoints.',
  examples: [
    'mlmodel run start experiment=mnist name=baseline lr=0.01 epochs=10',
    'mlmodel run start',
    'mlmodel run end 12',
    "mlmodel run end 12 status=FAILED",
  ],
  notes: [
    'A parameter keeps the value it was first logged with. Values that read as numbers or true/false are stored as such; quote anything else.',
    'Only the run\'s user (or an admin) may end it; a run ends once.',
  ],
  columns: RUN_COLUMNS,
  writes: true,
  execute: executeRun,
});
