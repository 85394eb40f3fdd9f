import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type ResultTable } from '../result/table.js';
import { pushStatuses } from '../exchange/model-store.js';

const syntax = { keywords: ['remotes'], args: [] } as const;

export type RemotesCommand = CommandAst<typeof syntax>;

export const REMOTES_COLUMNS = [
  col('name', 'TEXT'),
  col('user', 'TEXT'),
  col('version', 'LONG'),
  col('state', 'TEXT'),
  col('attempts', 'LONG'),
  col('location', 'TEXT'),
  col('manifest_sha256', 'TEXT'),
  col('error', 'TEXT'),
  col('at', 'DATETIME'),
];

/**
 * `mlmodel remotes`: what became of each push of a deployed version to the
 * model store (config `model_store`): pending, pushed, or failed after every
 * attempt, with the last error. Pipe it: `mlmodel remotes | where state = failed`.
 */
export async function executeRemotes(ctx: EngineContext): Promise<ResultTable> {
  const rows = (await pushStatuses(ctx))
    .filter((s) => ctx.admin || ctx.localRoots === null || s.user === ctx.user)
    .map((s) => [s.name, s.user, s.version, s.state, s.attempts, s.location, s.manifest_sha256, s.error, new Date(s.at)]);
  return { columns: REMOTES_COLUMNS, rows };
}

export const remotesCommand = defineCommand({
  syntax,
  summary: 'Shows each push of a deployed version to the model store (config model_store): pending, pushed, or failed with its last error.',
  examples: ['mlmodel remotes', 'mlmodel remotes | where state = failed'],
  columns: REMOTES_COLUMNS,
  writes: false,
  execute: executeRemotes,
});
