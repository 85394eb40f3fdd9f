import type { FilesCommand } from '../../grammar/ast.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { globMatcher, readManifest } from './manifest.js';
import { resolveModel } from './models.js';
import { readOptions } from './options.js';

export const FILES_COLUMNS = [col('path', 'TEXT'), col('size', 'LONG'), col('modified', 'DATETIME'), col('sha256', 'TEXT')];

const SORTS = ['name', 'mod', 'size'] as const;

/**
 * `mlmodel files NAME[@V] [include='*.pb'] [sortby=name|mod|size]`: the
 * archive's manifest, like bolt4ds's scan_local with attributes: name sorts
 * by path, mod newest first, size largest first.
 */
export async function executeFiles(ctx: EngineContext, cmd: FilesCommand): Promise<ResultTable> {
  const o = readOptions('files', cmd.options, { required: [], optional: ['include', 'sortby'] });
  const sortby = (o.sortby ?? 'name').toLowerCase();
  if (!(SORTS as readonly string[]).includes(sortby)) {
    throw new MlmodelError('INVALID_ARGUMENT', `sortby is one of ${SORTS.join(', ')}`, { sortby: o.sortby });
  }
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
