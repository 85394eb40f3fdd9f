import { link, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MlmodelError } from '../errors.js';

/**
 * Streams `source` into a temporary file beside `path`, lets `check` see its
 * size and sha256 (and throw), then links it into place: `link` fails if the
 * target appeared meanwhile, so nothing is replaced by accident; with
 * overwrite a rename replaces it. On any failure the target is as it was.
 * What export and bundle write to a local path.
 *
 * The bytes are hashed only when `check` wants the digest (a bundle's
 * archives are checked as they are read, and its manifest's digest names it:
 * a second hash of every byte would be the slowest step). One write is in
 * flight while the next chunk is read (and hashed), so the disk and the
 * reader overlap instead of taking turns.
 */
export async function writeLocalFile(
  source: Readable | AsyncIterable<Uint8Array>,
  path: string,
  opts: { overwrite: boolean; check?: (got: { size: number; sha256: string }) => void },
): Promise<{ size: number }> {
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) throw new MlmodelError('INVALID_ARGUMENT', `${path} is a directory; give a file name`, { path });
  if (existing && !opts.overwrite) throw new MlmodelError('CONFLICT', `${path} already exists; add overwrite=true to replace it`, { path });
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.mlmodel-export`);
  const hash = opts.check ? createHash('sha256') : undefined;
  let size = 0;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    let inFlight: Promise<unknown> = Promise.resolve();
    try {
      for await (const raw of source as AsyncIterable<Uint8Array | string>) {
        const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
        hash?.update(chunk);
        size += chunk.byteLength;
        await inFlight;
        // A stream's chunks are fresh buffers, never reused: the write may outlive this turn of the loop.
        inFlight = writeFully(fh, chunk);
      }
      await inFlight;
    } finally {
      // A failed read leaves a write in flight: it ends before the file is closed (and removed).
      await inFlight.catch(() => undefined);
      await fh.close();
    }
    if (opts.check) opts.check({ size, sha256: hash!.digest('hex') });
    if (opts.overwrite) {
      await rename(tmp, path);
    } else {
      await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EEXIST' ? new MlmodelError('CONFLICT', `${path} already exists; add overwrite=true to replace it`, { path }) : e;
      });
    }
    return { size };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function writeFully(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.byteLength; ) off += (await fh.write(chunk, off, chunk.byteLength - off, null)).bytesWritten;
}
