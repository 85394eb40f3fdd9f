import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { browseLocation } from '../executor/browse.js';
import { optionValues } from '../executor/options.js';
import { bytesCol, col, type Cell, type ResultTable } from '../result/table.js';

const syntax = {
  keywords: ['objects'],
  args: [{ kind: 'options' }],
  options: {
    path: {
      type: 'path',
      required: true,
      summary: 'what to list: OBJECTSTORAGE.<CONNECTOR>:<PREFIX> (the prefix may be empty or end in /), or a local /dir/ or /dir/prefix',
    },
    recursive: { type: 'boolean', summary: 'every object under the prefix, not one level (default false)' },
  },
} as const;

export type ObjectsCommand = CommandAst<typeof syntax>;

export const OBJECTS_COLUMNS = [col('key', 'TEXT'), col('kind', 'TEXT'), bytesCol('size'), col('modified', 'DATETIME')];

/**
 * `mlmodel objects path=OBJECTSTORAGE.X:models/ [recursive=true]`: what a
 * connector (or a local directory) holds under a prefix, as `mc ls` shows
 * it — objects with size and time, and a `prefix` row for each level below
 * (size and time empty) — in the byte order S3 lists keys. A key it shows
 * can be given to `mlmodel import path=OBJECTSTORAGE.X:<key>` as is.
 */
export async function executeObjects(ctx: EngineContext, cmd: ObjectsCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const rows: Cell[][] = [];
  for await (const e of browseLocation(ctx, o.path, o.recursive ?? false)) {
    rows.push(e.kind === 'object' ? [e.key, 'object', e.size, e.modified] : [e.key, 'prefix', null, null]);
  }
  return { columns: OBJECTS_COLUMNS, rows };
}

export const objectsCommand = defineCommand({
  syntax,
  summary: "The keys under a prefix of a connector (or a local directory), like mc ls: key, kind (object or prefix), size, modified.",
  examples: [
    'mlmodel objects path=OBJECTSTORAGE.LAKE:',
    'mlmodel objects path=OBJECTSTORAGE.LAKE:USERS/root/ recursive=true | where size > 1000000 | sort -modified | head 10',
  ],
  notes: [
    'The prefix is a string prefix, as in S3: models/ lists inside models, mod lists what starts with mod at that level.',
    'A connector whose bucket (or directory) does not exist is BUCKET_NOT_FOUND; a name that is not a configured connector is CONNECTOR_UNKNOWN, with the nearest configured name.',
  ],
  columns: OBJECTS_COLUMNS,
  writes: false,
  execute: executeObjects,
});
