import { defineCommand } from './command.js';
import type { EngineContext } from '../engine/context.js';
import type { PushedStages } from '../planner/plan.js';
import { listQuery, WHOLE_LIST } from '../planner/plan.js';
import { MODEL_SCHEMA } from '../planner/schema.js';
import { col, streamedTable, type Cell, type Column, type ColumnType, type ResultTable, type Row, type StreamedTable } from '../result/table.js';
import { applyRecordStages, type Listing } from '../stage/records.js';
import { streamRecordStages } from '../stage/record-stream.js';
import { Pacer } from '../stage/pace.js';
import { MODEL_FIELD_TABLE, type FieldType, type ModelField } from '../store/model-fields.js';
import type { ModelRecord } from '../store/metadata.js';
import { valueAt } from '../store/order.js';

const syntax = { keywords: ['list'], args: [], bareDefault: true } as const;

/** Every model field holding numbers holds whole numbers. */
const COLUMN_TYPES: Readonly<Record<FieldType, ColumnType>> = {
  number: 'LONG',
  string: 'TEXT',
  boolean: 'BOOLEAN',
  date: 'DATETIME',
  'string[]': 'JSON',
  any: 'JSON',
};

/** IRIS's `mlmodel list` columns, in its order; their types come from the field table. */
const LIST_FIELDS = ['id', 'user', 'name', 'type', 'category', 'algorithm', 'serving', 'create', 'modified'] as const satisfies readonly ModelField[];

export const LIST_COLUMNS: readonly Column[] = LIST_FIELDS.map((f) => col(f, COLUMN_TYPES[MODEL_FIELD_TABLE[f].type]));

export function listRow(r: ModelRecord): Cell[] {
  return LIST_FIELDS.map((f) => r[f]);
}

/**
 * The latest version of every model: the store runs the folded where/sort/head,
 * the other stages run over the whole records it returns, and only then are
 * the columns chosen — the list's own, or the ones a `fields` stage named.
 */
export async function executeList(ctx: EngineContext, pushed: PushedStages = WHOLE_LIST): Promise<ResultTable> {
  const records = await ctx.meta.findModels(listQuery(pushed));
  return listingTable(applyRecordStages({ records, view: pushed.view }, pushed.rest));
}

/**
 * executeList's result read a page at a time (store/metadata.ts
 * streamModels): the folded stages run in the store's query, the rest as
 * transforms over the pages (stage/record-stream.ts), the columns chosen as
 * executeList chooses them. Every stage is compiled before the first read.
 */
export async function streamList(ctx: EngineContext, pushed: PushedStages = WHOLE_LIST): Promise<StreamedTable> {
  const listing = streamRecordStages({ pages: ctx.meta.streamModels(listQuery(pushed), { signal: ctx.signal }), view: pushed.view }, pushed.rest, ctx.signal);
  const { columns, row } = listingColumns(listing.view);
  // Reading and writing may never wait on I/O (SQLite reads, a pipe written
  // synchronously): the event loop gets a turn now and then, so that Ctrl-C,
  // a time limit and other requests are heard while a million rows go out.
  const pacer = new Pacer(ctx.signal);
  async function* rows(): AsyncGenerator<readonly Row[], void, undefined> {
    for await (const page of listing.pages) {
      yield page.map(row);
      if (pacer.due(page.length)) await pacer.pause();
    }
  }
  return streamedTable(columns, rows());
}

/** A listing as a table: the list columns, or the fields its view kept, named as they were written. */
export function listingTable(listing: Listing): ResultTable {
  const { columns, row } = listingColumns(listing.view);
  return { columns, rows: listing.records.map(row) };
}

/** A view's columns, and how a record becomes a row of them. */
function listingColumns(view: Listing['view']): { columns: readonly Column[]; row: (r: ModelRecord) => Cell[] } {
  if (view === null) return { columns: LIST_COLUMNS, row: listRow };
  const fields = view.map((name) => ({ name, spec: MODEL_SCHEMA.resolve(name) }));
  return {
    columns: fields.map((f) => col(f.name, COLUMN_TYPES[f.spec.type])),
    row: (r) => fields.map((f) => (valueAt(r, f.spec.path) ?? null) as Cell),
  };
}

export const listCommand = defineCommand({
  syntax,
  summary: 'Every model (its latest version): id, user, name, type, category, algorithm, serving, create, modified.',
  examples: ['mlmodel list', 'mlmodel list | where type = tf | sort -modified | head 5', 'mlmodel'],
  notes: ['A bare `mlmodel` lists too, as in IRIS.'],
  columns: LIST_COLUMNS,
  writes: false,
  execute: (ctx, _cmd, run) => executeList(ctx, run.pushed ?? undefined),
  stream: (ctx, _cmd, run) => streamList(ctx, run.pushed ?? undefined),
});
