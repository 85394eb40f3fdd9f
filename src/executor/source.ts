import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { checkBucket, namingBucket } from './browse.js';
import { checkLocalRoots, parsePathOption } from './location.js';

export interface OpenedSource {
  readonly stream: Readable;
  /** Bytes to expect, when the source knows. */
  readonly size: number | null;
  readonly describe: string;
}

/**
 * Opens what an import's `path=` names, after checking the path itself.
 * `readChunk`: the bytes of each read of a local file (Node's 64 KiB unless given).
 */
export async function openSource(ctx: EngineContext, text: string, readChunk?: number): Promise<OpenedSource> {
  const target = parsePathOption(text);
  if (target.kind === 'connector') {
    const store = await ctx.connector(target.connector);
    const info = await namingBucket(`connector ${target.connector}`, store.stat(target.key));
    if (!info) {
      await checkBucket(store, `connector ${target.connector}`);
      throw new MlmodelError('OBJECT_NOT_FOUND', `no object ${target.key} in connector ${target.connector}`, {
        connector: target.connector,
        key: target.key,
      });
    }
    return { stream: await store.get(target.key), size: info.size, describe: text };
  }
  await checkLocalRoots(target.path, ctx.localRoots, text);
  let info;
  try {
    info = await stat(target.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MlmodelError('OBJECT_NOT_FOUND', `cannot read ${target.path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code)}`, {
      path: target.path,
    });
  }
  if (!info.isFile()) throw new MlmodelError('INVALID_ARGUMENT', `${target.path} is not a regular file`, { path: target.path });
  const small = readChunk === undefined && info.size <= SMALL_FILE ? readSmall(target.path, info.size) : null;
  if (small) return { stream: Readable.from([small]), size: small.length, describe: target.path };
  return { stream: createReadStream(target.path, readChunk === undefined ? {} : { highWaterMark: readChunk }), size: info.size, describe: target.path };
}

/** Files up to this size are read whole at once (readSmall); bigger ones stream. */
const SMALL_FILE = 64 * 1024;

/**
 * A small local file read with direct system calls (open, one read, close:
 * microseconds on a local disk) instead of a read stream's four trips
 * through the thread pool (open, read, the read that finds the end, close),
 * which were most of what reading a batch's small archives cost. null when
 * it cannot be read that way or has grown since its stat: the caller
 * streams it then, and reports the error the stream meets.
 */
function readSmall(path: string, size: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    // One byte more than its size tells a file that grew from one that ends there.
    const buf = Buffer.allocUnsafe(size + 1);
    let got = 0;
    for (let n; got < buf.length && (n = readSync(fd, buf, got, buf.length - got, null)) > 0; ) got += n;
    return got > size ? null : buf.subarray(0, got);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
