import { createWriteStream } from 'node:fs';
import { link, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from '../engine/digest.js';
import { MlmodelError } from '../errors.js';

/**
 * Streams `source` into a temporary file beside `path`, lets `check` see its
 * size and sha256 (and throw), then links it into place: `link` fails if the
 * target appeared meanwhile, so nothing is replaced by accident; with
 * overwrite a rename replaces it. On any failure the target is as it was.
 * What export and bundle write to a local path.
 */
export async function writeLocalFile(
  source: Readable | AsyncIterable<Uint8Array>,
  path: string,
  opts: { overwrite: boolean; check?: (got: { size: number; sha256: string }) => void },
): Promise<{ size: number; sha256: string }> {
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) throw new MlmodelError('INVALID_ARGUMENT', `${path} is a directory; give a file name`, { path });
  if (existing && !opts.overwrite) throw new MlmodelError('CONFLICT', `${path} already exists; add overwrite=true to replace it`, { path });
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.mlmodel-export`);
  const hashing = new DigestStream();
  try {
    await pipeline(source, hashing, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    const got = { size: hashing.size, sha256: hashing.digest() };
    opts.check?.(got);
    if (opts.overwrite) {
      await rename(tmp, path);
    } else {
      await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EEXIST' ? new MlmodelError('CONFLICT', `${path} already exists; add overwrite=true to replace it`, { path }) : e;
      });
    }
    return got;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
