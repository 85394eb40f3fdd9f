import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import type { PushedStages } from '../planner/plan.js';
import { listQuery } from '../planner/plan.js';
import { col, type ResultTable } from '../result/table.js';
import type { ModelRecord } from '../store/metadata.js';

const syntax = { keywords: ['list'], args: [], bareDefault: true } as const;

/** IRIS's `mlmodel list` columns. */
export const LIST_COLUMNS = [
  col('id', 'LONG'),
  col('user', 'TEXT'),
  col('name', 'TEXT'),
  col('type', 'TEXT'),
  col('category', 'TEXT'),
  col('algorithm', 'TEXT'),
  col('serving', 'TEXT'),
  col('create', 'DATETIME'),
  col('modified', 'DATETIME'),
];

export function listRow(r: ModelRecord) {
  return [r.id, r.user, r.name, r.type, r.category, r.algorithm, r.serving, r.create, r.modified];
}

/** The latest version of every model, with the pushed-down where/sort/head applied by the store. */
export async function executeList(ctx: EngineContext, pushed: PushedStages = { conditions: [], sort: null, limit: null }): Promise<ResultTable> {
  const records = await ctx.meta.findModels(listQuery(pushed));
  return { columns: LIST_COLUMNS, rows: records.map(listRow) };
}

export const listCommand = defineCommand({
  syntax,
  summary: 'Every model (its latest version): id, user, name, type, category, algorithm, serving, create, modified.',
  examples: ['mlmodel list', 'mlmodel list | where type = tf | sort -modified | head 5', 'mlmodel'],
  notes: ['A bare `mlmodel` lists too, as in IRIS.'],
  columns: LIST_COLUMNS,
  writes: false,
  execute: (ctx, _cmd, run) => executeList(ctx, run.pushed ?? undefined),
});
