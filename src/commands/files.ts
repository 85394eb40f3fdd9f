import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { globMatcher, readManifest } from '../executor/manifest.js';
import { resolveModel } from '../executor/models.js';
import { optionValues } from '../executor/options.js';

const SORTS = ['name', 'mod', 'size'] as const;

const syntax = {
  keywords: ['files'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: {
    include: { type: 'string', summary: 'only paths matching this glob (* within a directory, ** across)' },
    sortby: { type: 'enum', values: SORTS, summary: 'name (default), mod (newest first) or size (largest first)' },
  },
} as const;

export type FilesCommand = CommandAst<typeof syntax>;

export const FILES_COLUMNS = [col('path', 'TEXT'), bytesCol('size'), col('modified', 'DATETIME'), col('sha256', 'TEXT')];

/**
 * `mlmodel files NAME[@V] [include='*.pb'] [sortby=name|mod|size]`: the
 * archive's manifest, like bolt4ds's scan_local with attributes: name sorts
 * by path, mod newest first, size largest first.
 */
export async function executeFiles(ctx: EngineContext, cmd: FilesCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const sortby = o.sortby ?? 'name';
  const record = await resolveModel(ctx, cmd.model);
  const match = o.include === undefined ? () => true : globMatcher(o.include);
  const entries = (await readManifest(ctx, record.uid)).filter((e) => match(e.path));
  entries.sort((a, b) => {
    if (sortby === 'mod') return b.mtime.localeCompare(a.mtime) || cmpPath(a.path, b.path);
    if (sortby === 'size') return b.size - a.size || cmpPath(a.path, b.path);
    return cmpPath(a.path, b.path);
  });
  return { columns: FILES_COLUMNS, rows: entries.map((e) => [e.path, e.size, new Date(e.mtime), e.sha256]) };
}

function cmpPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const filesCommand = defineCommand({
  syntax,
  summary: "The files inside a version's archive: path, size, modified, sha256.",
  examples: ['mlmodel files mnist_v1', "mlmodel files mnist_v1@2 include='variables/*' sortby=size"],
  columns: FILES_COLUMNS,
  writes: false,
  execute: executeFiles,
});
