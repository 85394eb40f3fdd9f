import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { withProgress } from '../engine/progress.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { writeLocalFile } from '../executor/local-file.js';
import { checkLocalRoots, parsePathOption } from '../executor/location.js';
import { resolveModel } from '../executor/models.js';
import { optionValues } from '../executor/options.js';

/** Presigned URLs are valid for at most 7 days (S3's own limit). */
const MAX_EXPIRY = 7 * 24 * 3600;

const syntax = {
  keywords: ['export'],
  args: [{ kind: 'options' }],
  options: {
    name: { type: 'model', required: true, summary: 'the model: NAME, NAME@VERSION or NAME@ALIAS' },
    path: { type: 'path', required: true, summary: 'where to write the archive: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path' },
    expires: { type: 'integer', min: 1, max: MAX_EXPIRY, summary: 'seconds the download URL stays valid (default 3600)' },
    overwrite: { type: 'boolean', summary: 'replace an existing destination (default false)' },
  },
} as const;

export type ExportCommand = CommandAst<typeof syntax>;

export const EXPORT_COLUMNS = [col('result', 'TEXT'), col('download_url', 'TEXT'), col('expired time (sec)', 'LONG')];

/**
 * `mlmodel export`: the stored archive, byte for byte, to a connector (with a
 * presigned download URL) or to a local file (its path). An existing
 * destination is never replaced unless `overwrite=true`.
 */
export async function executeExport(ctx: EngineContext, cmd: ExportCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const expires = o.expires ?? 3600;
  const overwrite = o.overwrite ?? false;
  const record = await resolveModel(ctx, o.name);
  const url = await exportObject(ctx, { key: record.object_key, size: record.size, sha256: record.sha256 }, o.path, { expires, overwrite });
  return { columns: EXPORT_COLUMNS, rows: [['ok', url, expires]] };
}

/**
 * Writes a stored archive, byte for byte, to what a `path=` names: a
 * connector's key (answering with a presigned URL valid `expires` seconds)
 * or a local file (answering with its path). An existing destination is
 * never replaced unless `overwrite`. Exports of model versions and of run
 * checkpoints go through here.
 */
export async function exportObject(
  ctx: EngineContext,
  object: { key: string; size: number; sha256: string },
  pathText: string,
  opts: { expires: number; overwrite: boolean },
): Promise<string> {
  const { expires, overwrite } = opts;
  const target = parsePathOption(pathText);
  const progress = (done: number) => ctx.onProgress?.({ phase: 'export', done, total: object.size });
  if (target.kind === 'connector') {
    const store = await ctx.connector(target.connector);
    if (!overwrite && (await store.stat(target.key))) {
      throw new MlmodelError('CONFLICT', `${pathText} already exists; add overwrite=true to replace it`, { path: pathText });
    }
    const body = withProgress(await ctx.objects.get(object.key), progress);
    await store.put(target.key, body, { size: object.size, sha256: object.sha256 });
    return store.presignGet(target.key, expires);
  }
  await checkLocalRoots(target.path, ctx.localRoots, pathText);
  await writeLocal(ctx, object.key, target.path, { size: object.size, sha256: object.sha256, overwrite, progress });
  return target.path;
}

/** The stored archive into a local file, checked against its record on the way. */
async function writeLocal(
  ctx: EngineContext,
  key: string,
  path: string,
  opts: { size: number; sha256: string; overwrite: boolean; progress: (done: number) => void },
): Promise<void> {
  await writeLocalFile(withProgress(await ctx.objects.get(key), opts.progress), path, {
    overwrite: opts.overwrite,
    check: (got) => {
      if (got.size !== opts.size || got.sha256 !== opts.sha256) {
        throw new MlmodelError('CHECKSUM_MISMATCH', `the stored archive does not match its record (${got.size} bytes read); run mlmodel verify`, { key });
      }
    },
  });
}

export const exportCommand = defineCommand({
  syntax,
  summary: "Writes a model's archive to a connector or a local path and answers with a download URL and its expiry.",
  examples: ['mlmodel export name=mnist_v1 path=OBJECTSTORAGE.MINIO:out/mnist.tar expires=600', 'mlmodel export name=mnist_v1@2 path=/tmp/mnist.tar overwrite=true'],
  columns: EXPORT_COLUMNS,
  // It writes the archive to a connector's bucket or a local directory.
  writes: true,
  execute: executeExport,
});
