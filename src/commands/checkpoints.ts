import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { parseRunId, readRun } from '../tracking/runs.js';

const syntax = { keywords: ['checkpoints'], args: [{ kind: 'word', field: 'run', label: 'a run id' }] } as const;

export type CheckpointsCommand = CommandAst<typeof syntax>;

export const CHECKPOINTS_COLUMNS = [
  col('step', 'LONG'),
  col('type', 'TEXT'),
  col('format', 'TEXT'),
  col('filename', 'TEXT'),
  bytesCol('size'),
  col('sha256', 'TEXT'),
  col('created', 'DATETIME'),
];

/** A run's checkpoints by step (FATE's `checkpoint list`); anyone may read any run's. */
export async function executeCheckpoints(ctx: EngineContext, cmd: CheckpointsCommand): Promise<ResultTable> {
  const id = parseRunId(cmd.run);
  await readRun(ctx, id);
  const list = await (await ctx.tracking()).listCheckpoints(id);
  return { columns: CHECKPOINTS_COLUMNS, rows: list.map((c) => [c.step, c.type, c.format, c.filename, c.size, c.sha256, c.created]) };
}

export const checkpointsCommand = defineCommand({
  syntax,
  summary: "A run's checkpoints by step: type, format, model file, size, sha256, when stored.",
  examples: ['mlmodel checkpoints 12', 'mlmodel checkpoints 12 | where step >= 10 | fields step, size'],
  columns: CHECKPOINTS_COLUMNS,
  writes: false,
  execute: executeCheckpoints,
});
