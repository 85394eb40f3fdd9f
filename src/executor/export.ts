import { createWriteStream } from 'node:fs';
import { link, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { ExportCommand } from '../../grammar/ast.js';
import type { EngineContext } from '../engine/context.js';
import { ProgressStream, withProgress } from '../engine/progress.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { DigestStream } from '../engine/digest.js';
import { checkLocalRoots, parsePathOption } from './location.js';
import { parseModelRefText, resolveModel } from './models.js';
import { readOptions } from './options.js';

export const EXPORT_COLUMNS = [col('result', 'TEXT'), col('download_url', 'TEXT'), col('expired time (sec)', 'LONG')];

const MAX_EXPIRY = 7 * 24 * 3600;

/**
 * `mlmodel export`: the stored archive, byte for byte, to a connector (with a
 * presigned download URL) or to a local file (its path). An existing
 * destination is never replaced unless `overwrite=true`.
 */
export async function executeExport(ctx: EngineContext, cmd: ExportCommand): Promise<ResultTable> {
  const o = readOptions('export', cmd.options, { required: ['name', 'path'], optional: ['expires', 'overwrite'] });
  const expires = o.expires === undefined ? 3600 : Number(o.expires);
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRY) {
    throw new MlmodelError('INVALID_ARGUMENT', `expires must be a whole number of seconds from 1 to ${MAX_EXPIRY} (7 days)`, { expires: o.expires });
  }
  const overwrite = parseBoolean(o.overwrite ?? 'false', 'overwrite');
  const record = await resolveModel(ctx, parseModelRefText(o.name));
  const target = parsePathOption(o.path);
  const progress = (done: number) => ctx.onProgress?.({ phase: 'export', done, total: record.size });

  let url: string;
  if (target.kind === 'connector') {
    const store = await ctx.connector(target.connector);
    if (!overwrite && (await store.stat(target.key))) {
      throw new MlmodelError('CONFLICT', `${o.path} already exists; add overwrite=true to replace it`, { path: o.path });
    }
    const body = withProgress(await ctx.objects.get(record.object_key), progress);
    await store.put(target.key, body, { size: record.size, sha256: record.sha256 });
    url = await store.presignGet(target.key, expires);
  } else {
    await checkLocalRoots(target.path, ctx.localRoots, o.path);
    await writeLocal(ctx, record.object_key, target.path, { size: record.size, sha256: record.sha256, overwrite, progress });
    url = target.path;
  }
  return { columns: EXPORT_COLUMNS, rows: [['ok', url, expires]] };
}

/**
 * Streams into a temporary file beside the target, checks size and sha256,
 * then links it into place: `link` fails if the target appeared meanwhile,
 * so nothing is replaced by accident; with overwrite a rename replaces it.
 */
async function writeLocal(
  ctx: EngineContext,
  key: string,
  path: string,
  opts: { size: number; sha256: string; overwrite: boolean; progress: (done: number) => void },
): Promise<void> {
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) throw new MlmodelError('INVALID_ARGUMENT', `${path} is a directory; give a file name`, { path });
  if (existing && !opts.overwrite) throw new MlmodelError('CONFLICT', `${path} already exists; add overwrite=true to replace it`, { path });
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.mlmodel-export`);
  const hashing = new DigestStream();
  try {
    await pipeline(await ctx.objects.get(key), new ProgressStream(opts.progress), hashing, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    if (hashing.size !== opts.size || hashing.digest() !== opts.sha256) {
      throw new MlmodelError('CHECKSUM_MISMATCH', `the stored archive does not match its record (${hashing.size} bytes read); run mlmodel verify`, { key });
    }
    if (opts.overwrite) {
      await rename(tmp, path);
    } else {
      await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EEXIST' ? new MlmodelError('CONFLICT', `${path} already exists; add overwrite=true to replace it`, { path }) : e;
      });
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

export function parseBoolean(text: string, what: string): boolean {
  const t = text.toLowerCase();
  if (t === 'true' || t === 'yes' || t === '1') return true;
  if (t === 'false' || t === 'no' || t === '0') return false;
  throw new MlmodelError('INVALID_ARGUMENT', `${what} is true or false, not ${JSON.stringify(text)}`, { [what]: text });
}
