/**
 * The object store: model archives and serving files, moved as streams and
 * never held whole in memory. Two implementations pass the same conformance
 * suite: MinIO (minio.ts) and a local directory (directory.ts).
 *
 * Keys are '/'-separated paths built from a model's immutable uid, never its
 * name, so a rename touches metadata only.
 */
import type { Readable } from 'node:stream';
import { MlmodelError } from '../errors.js';
import type { TemporaryInfo } from './temporaries.js';

export interface PutOptions {
  /** Expected size in bytes: checked; also lets MinIO size its parts. */
  size?: number;
  /** Expected sha256 (hex): checked before the object becomes visible. */
  sha256?: string;
  contentType?: string;
  /**
   * The object's bytes are durable when put returns, but its directory entry
   * only once a later put under the same prefix (the same directory) without
   * this option has returned: the directory store then flushes the directory
   * once for both. For an object always followed by another beside it (an
   * archive by its manifest); until then a crash may lose it, so nothing may
   * name it yet. MinIO ignores it: its put is durable when it returns.
   */
  deferEntry?: boolean;
  /**
   * Nothing is stored under this key's prefix yet (a fresh uid's first
   * object): the directory store creates the directory before opening the
   * file in it, instead of first trying an open that fails. A hint only:
   * the put is the same whether it holds or not. MinIO ignores it.
   */
  newPrefix?: boolean;
}

export interface PutResult {
  key: string;
  size: number;
  /** sha256 of the bytes stored, hex, computed by us while streaming. */
  sha256: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
}

/** A common prefix of a delimited listing: the keys below it share `prefix`, which ends in '/'. */
export interface PrefixInfo {
  prefix: string;
}

export interface ObjectStore {
  /** 'minio' or 'directory'. */
  readonly kind: string;
  /** Printable location without secrets. */
  readonly location: string;

  /** Creates the bucket/directory if missing; idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;

  /**
   * Streams `body` into `key`. Readers never see a partial object: it
   * appears complete or not at all. CHECKSUM_MISMATCH (and nothing stored)
   * when opts.size or opts.sha256 do not match what was read.
   */
  put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<PutResult>;
  /** A stream of the object's bytes; OBJECT_NOT_FOUND if missing. */
  get(key: string): Promise<Readable>;
  /** Size and time of an object, or null if missing. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** Removes an object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in byte order of keys. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * What a person browses, as S3 lists with delimiter '/': the objects whose
   * key starts with `prefix` and has no further '/', and one PrefixInfo for
   * each deeper level (`prefix` up to and with the next '/'), in byte order;
   * with `recursive`, every object under `prefix` as list() gives them.
   * BUCKET_NOT_FOUND when the bucket (the directory) does not exist: a
   * browse is never silently empty for a store that is not there.
   */
  browse(prefix: string, recursive: boolean): AsyncIterable<ObjectInfo | PrefixInfo>;
  /** Copies inside the store without streaming through this process. */
  copy(srcKey: string, dstKey: string): Promise<ObjectInfo>;
  /**
   * Where a plain HTTP GET (MinIO: a presigned URL valid for expirySec) or
   * a file read (directory: the absolute file path) fetches the object.
   */
  presignGet(key: string, expirySec: number): Promise<string>;
  /**
   * What writes that never finished left in the store — a put whose process
   * was killed: the directory store's temporary files, MinIO's incomplete
   * multipart uploads. A write still running shows up too (fsck tells them
   * apart by `writer` and age).
   */
  temporaries(): AsyncIterable<TemporaryInfo>;
  /** Removes one of `temporaries()` by its name; one already gone is not an error. */
  removeTemporary(name: string): Promise<void>;
}

const MAX_KEY_LENGTH = 1024;
/** Names the directory store uses for in-flight writes; never valid in a key. */
export const TEMP_MARKER = '.mlmodel-tmp-';

/**
 * Keys: 1–1024 characters, '/'-separated, no empty, '.' or '..' segment, no
 * backslash or control character, no segment starting with the temp marker.
 * The same rule on both stores, so a key that works on one works on the other.
 */
export function checkKey(key: string, what = 'key'): void {
  const fail = (why: string) =>
    new MlmodelError('OBJECT_KEY_INVALID', `object ${what} "${key}" is not valid: ${why}`, { key });
  if (typeof key !== 'string' || key.length === 0) throw fail('empty');
  if (key.length > MAX_KEY_LENGTH) throw fail(`longer than ${MAX_KEY_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(key)) throw fail('control characters and backslashes are not allowed');
  for (const seg of key.split('/')) {
    if (seg === '') throw fail("empty path segment (leading, trailing or doubled '/')");
    if (seg === '.' || seg === '..') throw fail("'.' and '..' segments are not allowed");
    if (seg.startsWith(TEMP_MARKER)) throw fail(`segments may not start with ${TEMP_MARKER}`);
  }
}

/** A prefix for list(): like a key, but may be empty and may end in '/'. */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  checkKey(prefix.endsWith('/') ? `${prefix}x` : prefix, 'prefix');
}

export function checkExpected(key: string, got: { size: number; sha256: string }, opts: PutOptions): void {
  if (opts.size !== undefined && opts.size !== got.size) {
    throw new MlmodelError('CHECKSUM_MISMATCH', `object ${key}: expected ${opts.size} bytes, read ${got.size}`, {
      key,
      expectedSize: opts.size,
      size: got.size,
    });
  }
  if (opts.sha256 !== undefined && opts.sha256.toLowerCase() !== got.sha256) {
    throw new MlmodelError('CHECKSUM_MISMATCH', `object ${key}: sha256 ${got.sha256} does not match the expected ${opts.sha256}`, {
      key,
      expected: opts.sha256,
      sha256: got.sha256,
    });
  }
}

export function checkPutOptions(opts: PutOptions): void {
  if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size < 0)) {
    throw new MlmodelError('INVALID_ARGUMENT', 'put: size must be a non-negative integer');
  }
  if (opts.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) {
    throw new MlmodelError('INVALID_ARGUMENT', 'put: sha256 must be 64 hex digits');
  }
}

export function checkExpiry(expirySec: number): void {
  // S3 presigned URLs are valid for at most 7 days.
  if (!Number.isInteger(expirySec) || expirySec < 1 || expirySec > 604_800) {
    throw new MlmodelError('INVALID_ARGUMENT', 'expiry must be a whole number of seconds between 1 and 604800 (7 days)', {
      expirySec,
    });
  }
}

/** Byte order of UTF-8 keys: how S3 lists keys, so both stores list alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
