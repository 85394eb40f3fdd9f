/**
 * A streaming writer of plain POSIX tar, for the archives mlmodel makes
 * itself (bundles, docs/exchange.md). Deterministic: every header has mode
 * 0644, uid/gid 0, no user names and the mtime the caller gives, so the same
 * entries give the same bytes on every machine. Bodies are streamed, never
 * held whole; a body must deliver exactly the size its entry declared.
 */
import { MlmodelError } from '../errors.js';
import { BLOCK } from './tar-header.js';

export interface TarWriteEntry {
  /** '/'-separated relative path, at most 100 bytes (the ustar name field; bundles use short fixed names). */
  readonly path: string;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime?: number;
  /** The body: a buffer, or a function opening a stream of it (opened only when the entry is written). */
  readonly body: Buffer | (() => Promise<AsyncIterable<Uint8Array>>);
}

/** Sizes at or past 8^11 do not fit the 11 octal digits of the size field; a pax record carries them. */
const OCTAL_SIZE_LIMIT = 8 ** 11;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function headerBlock(name: string, size: number, mtime: number, type: '0' | 'x'): Buffer {
  const b = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new MlmodelError('INTERNAL', `tar entry name ${JSON.stringify(name)} is longer than 100 bytes`);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(0o644, 8), 100, 'ascii');
  b.write(octal(0, 8), 108, 'ascii');
  b.write(octal(0, 8), 116, 'ascii');
  b.write(octal(size < OCTAL_SIZE_LIMIT ? size : 0, 12), 124, 'ascii');
  b.write(octal(mtime, 12), 136, 'ascii');
  b.write(type, 156, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return b;
}

/** A pax record `LEN key=value\n`, where LEN counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(rest) + 1;
  while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
  return `${len}${rest}`;
}

const padding = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** The tar stream of `entries`, in order, ending with the two zero blocks. */
export async function* writeTar(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw new MlmodelError('INTERNAL', `tar entry ${e.path}: bad size ${e.size}`);
    const mtime = e.mtime ?? 0;
    if (e.size >= OCTAL_SIZE_LIMIT) {
      const pax = Buffer.from(paxRecord('size', String(e.size)));
      yield headerBlock(`PaxHeaders/${e.path}`.slice(0, 100), pax.length, mtime, 'x');
      yield pax;
      yield padding(pax.length);
    }
    yield headerBlock(e.path, e.size, mtime, '0');
    let written = 0;
    if (Buffer.isBuffer(e.body)) {
      written = e.body.length;
      if (written === e.size) yield e.body;
    } else {
      for await (const chunk of await e.body()) {
        written += chunk.length;
        if (written > e.size) break;
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    }
    if (written !== e.size) {
      throw new MlmodelError('CHECKSUM_MISMATCH', `${e.path}: ${written > e.size ? 'more' : 'fewer'} bytes than the ${e.size} recorded`, { path: e.path });
    }
    yield padding(e.size);
  }
  yield Buffer.alloc(2 * BLOCK);
}
