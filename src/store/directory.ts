/**
 * Objects in a local directory tree: key `a/b/c` is the file `<root>/a/b/c`.
 * A write goes to a temporary name in the target directory, is flushed to
 * disk, then renamed into place, so a reader sees the whole object or none.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, constants as fsConstants, fsync, mkdirSync, openSync, renameSync, unlinkSync, write as fsWrite, writeSync, type Dirent } from 'node:fs';
import { copyFile, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { MlmodelError } from '../errors.js';
import {
  checkExpected,
  checkExpiry,
  checkKey,
  checkPrefix,
  checkPutOptions,
  compareKeys,
  TEMP_MARKER,
  type ObjectInfo,
  type ObjectStore,
  type PrefixInfo,
  type PutOptions,
  type PutResult,
} from './objects.js';
import { SharedFlush } from './shared-flush.js';
import { writerState, writerTag, type TemporaryInfo } from './temporaries.js';

export interface DirectoryObjectOptions {
  root: string;
}

export class DirectoryObjectStore implements ObjectStore {
  readonly kind = 'directory';
  readonly location: string;
  readonly #root: string;
  /**
   * Directories a `deferEntry` put wrote into and left unflushed, with the
   * topmost directory it created (if any): the next put there flushes them.
   */
  readonly #deferredDirs = new Map<string, string>();
  /** One flush of a directory at a time, shared by every put that asks for it meanwhile (SharedFlush). */
  readonly #dirFlushes = new Map<string, SharedFlush>();

  constructor(options: DirectoryObjectOptions) {
    this.#root = resolve(options.root);
    this.location = this.#root;
  }

  async init(): Promise<void> {
    try {
      // Once per open, and one system call when the directory exists: the
      // asynchronous mkdir would start libuv's thread pool for a one-shot query.
      mkdirSync(this.#root, { recursive: true });
    } catch (e) {
      throw fsError(e, `cannot create the object directory ${this.#root}`);
    }
  }

  async close(): Promise<void> {}

  #path(key: string): string {
    return join(this.#root, ...key.split('/'));
  }

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    checkPutOptions(opts);
    const final = this.#path(key);
    const dir = dirname(final);
    // The quick metadata steps (mkdir, open, small writes, close, rename) are
    // direct system calls: each is microseconds on a local file system, less
    // than a round trip through the thread pool, which matters when a batch
    // stores thousands of small archives. Only the flushes, which wait for
    // the disk, and big writes go through the pool.
    const { fd, tmp, created } = this.#openTemp(dir, key, opts.newPrefix === true);
    let fdOpen = true;
    try {
      const got = await writeAll(fd, body);
      checkExpected(key, got, opts);
      await fsyncFd(fd);
      fdOpen = false;
      closeSync(fd);
      try {
        renameSync(tmp, final);
      } catch (e) {
        throw keyConflict(e, key) ?? e;
      }
      if (opts.deferEntry === true) {
        // The next put in this directory flushes it, and the parents of what this one created.
        if (created !== undefined && !this.#deferredDirs.has(dir)) this.#deferredDirs.set(dir, created);
        return { key, ...got };
      }
      const deferred = this.#deferredDirs.get(dir);
      this.#deferredDirs.delete(dir);
      // Both are needed before the object counts as stored, in no order: flushed at the same time.
      await Promise.all([this.#syncDir(dir), this.#syncNewDirs(topmost(created, deferred), dir)]);
      return { key, ...got };
    } catch (e) {
      if (fdOpen) closeQuietly(fd);
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
      throw e instanceof MlmodelError ? e : fsError(e, `cannot write object ${key}`);
    }
  }

  /**
   * Creates the directory and a fresh temp file; retried because a concurrent
   * delete may prune the directory. `created` is the topmost directory this
   * call made, if any: its entry, and those below it, are durable only once
   * their parents are flushed (syncNewDirs). `missing`: the directory is
   * not expected to exist (PutOptions.newPrefix), so it is made first.
   */
  #openTemp(dir: string, key: string, missing = false): { fd: number; tmp: string; created: string | undefined } {
    let created: string | undefined;
    for (let attempt = 0; ; attempt++) {
      // The writer's tag lets fsck remove what a killed process left, and nothing a running one is writing.
      const tmp = join(dir, `${TEMP_MARKER}${writerTag()}${randomUUID()}`);
      try {
        // The directory usually exists (a manifest after its archive): try first, create only when missing.
        if (attempt > 0 || missing) created ??= mkdirSync(dir, { recursive: true });
        return { fd: openSync(tmp, 'wx', 0o644), tmp, created };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && attempt < 6) continue;
        throw keyConflict(e, key) ?? fsError(e, `cannot write object ${key}`);
      }
    }
  }

  /**
   * Flushes a directory, sharing the flush with every concurrent put into it:
   * the many imports of a batch all create their version's directory in
   * `models/`, and one fsync of it serves all that asked while the previous
   * one ran, instead of one each.
   */
  #syncDir(dir: string): Promise<void> {
    let f = this.#dirFlushes.get(dir);
    if (!f) {
      f = new SharedFlush(() => syncDir(dir), () => this.#dirFlushes.delete(dir));
      this.#dirFlushes.set(dir, f);
    }
    return f.request();
  }

  /**
   * Flushes the parents of the directories a put created, from `dir`'s parent
   * up to the parent of the topmost new one: a new directory's own entry is
   * written in its parent, and a crash could otherwise lose the whole subtree
   * with the object the put acknowledged (ext4's journal usually covers it;
   * POSIX does not promise it). Only the first objects under a new prefix (a
   * version's archive and manifest) pay for it, and concurrent puts share it.
   */
  async #syncNewDirs(created: string | undefined, dir: string): Promise<void> {
    if (created === undefined) return;
    const parents: string[] = [];
    for (let d = dirname(dir); ; d = dirname(d)) {
      parents.push(d);
      if (d === dirname(created) || d === dirname(d)) break;
    }
    await Promise.all(parents.map((d) => this.#syncDir(d)));
  }

  async get(key: string): Promise<Readable> {
    checkKey(key);
    let fh: FileHandle;
    try {
      fh = await open(this.#path(key), 'r');
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw notFound(key);
      }
    } catch (e) {
      if (e instanceof MlmodelError) throw e;
      if (isMissing(e)) throw notFound(key);
      throw fsError(e, `cannot read object ${key}`);
    }
    return fh.createReadStream({ highWaterMark: 1 << 20 });
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    checkKey(key);
    try {
      const st = await stat(this.#path(key));
      return st.isFile() ? { key, size: st.size, modified: st.mtime } : null;
    } catch (e) {
      if (isMissing(e)) return null;
      throw fsError(e, `cannot stat object ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    const path = this.#path(key);
    // A deferred put whose follower never came (a failed import) leaves nothing to flush once its object goes.
    this.#deferredDirs.delete(dirname(path));
    try {
      await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') return;
      if (!isMissing(e)) throw fsError(e, `cannot delete object ${key}`);
      // Missing: a put that failed may still have left its (now empty) directory.
    }
    await this.#prune(dirname(path));
  }

  /**
   * Removes directories a delete left empty, so listing stays cheap; stops
   * at the first non-empty one (or the root).
   */
  async #prune(from: string): Promise<void> {
    let dir = from;
    while (dir.startsWith(this.#root + sep) && dir !== this.#root) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  async *temporaries(): AsyncIterable<TemporaryInfo> {
    yield* this.#walkTemporaries(this.#root, '');
  }

  async *#walkTemporaries(dir: string, rel: string): AsyncGenerator<TemporaryInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw fsError(e, `cannot list ${dir}`);
    }
    for (const e of entries.sort((a, b) => compareKeys(a.name, b.name))) {
      const name = rel + e.name;
      if (e.isDirectory()) {
        yield* this.#walkTemporaries(join(dir, e.name), `${name}/`);
      } else if (e.isFile() && e.name.startsWith(TEMP_MARKER)) {
        try {
          const st = await stat(join(dir, e.name));
          yield { name, size: st.size, modified: st.mtime, writer: writerState(e.name) };
        } catch (err) {
          // Renamed into place or removed while listing: not a leftover.
          if (!isMissing(err)) throw fsError(err, `cannot stat ${name}`);
        }
      }
    }
  }

  async removeTemporary(name: string): Promise<void> {
    const segments = name.split('/');
    const last = segments.pop()!;
    // Only a temporary file goes this way, in a directory a key may name: nothing outside the store, nothing stored.
    // eslint-disable-next-line no-control-regex
    if (!last.startsWith(TEMP_MARKER) || last.length === TEMP_MARKER.length || /[\u0000-\u001f\u007f\\]/.test(last)) {
      throw new MlmodelError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not a temporary file of the object store`, { name });
    }
    if (segments.length > 0) checkKey(segments.join('/'), 'temporary file directory');
    segments.push(last);
    const path = join(this.#root, ...segments);
    try {
      await unlink(path);
    } catch (e) {
      if (!isMissing(e)) throw fsError(e, `cannot remove ${name}`);
    }
    await this.#prune(dirname(path));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    yield* this.#walk(base === '' ? this.#root : this.#path(base.slice(0, -1)), base, prefix);
  }

  async *#walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw fsError(e, `cannot list objects under ${keyPrefix || '/'}`);
    }
    // A directory sorts as "name/", so the walk yields keys in the same
    // byte order as an S3 listing (e.g. "a-b" before "a/c").
    const items = entries
      .filter((e) => !e.name.startsWith(TEMP_MARKER) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), sortKey: keyPrefix + e.name + (e.isDirectory() ? '/' : '') }))
      .filter((i) => (i.isDir ? i.sortKey.startsWith(prefix) || prefix.startsWith(i.sortKey) : i.sortKey.startsWith(prefix)))
      .sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const item of items) {
      const path = join(dir, item.name);
      if (item.isDir) {
        yield* this.#walk(path, item.sortKey, prefix);
        continue;
      }
      try {
        const st = await stat(path);
        if (st.isFile()) yield { key: item.sortKey, size: st.size, modified: st.mtime };
      } catch (e) {
        // Deleted while listing: as if listed a moment later.
        if (!isMissing(e)) throw fsError(e, `cannot list object ${item.sortKey}`);
      }
    }
  }

  async *browse(prefix: string, recursive: boolean): AsyncIterable<ObjectInfo | PrefixInfo> {
    checkPrefix(prefix);
    await this.#checkRoot();
    if (recursive) {
      yield* this.list(prefix);
      return;
    }
    const slash = prefix.lastIndexOf('/');
    const base = prefix.slice(0, slash + 1);
    const start = prefix.slice(slash + 1);
    const dir = base === '' ? this.#root : this.#path(base.slice(0, -1));
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw fsError(e, `cannot list objects under ${prefix || '/'}`);
    }
    // Links are neither objects nor levels here (list() skips them too): a browse never leads out of the root.
    const items = entries
      .filter((e) => e.name.startsWith(start) && !e.name.startsWith(TEMP_MARKER) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), sortKey: base + e.name + (e.isDirectory() ? '/' : '') }))
      .sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const item of items) {
      if (item.isDir) {
        yield { prefix: item.sortKey };
        continue;
      }
      try {
        const st = await stat(join(dir, item.name));
        if (st.isFile()) yield { key: item.sortKey, size: st.size, modified: st.mtime };
      } catch (e) {
        if (!isMissing(e)) throw fsError(e, `cannot list object ${item.sortKey}`);
      }
    }
  }

  /** BUCKET_NOT_FOUND unless the root is a directory: the directory store's bucket. */
  async #checkRoot(): Promise<void> {
    let why: string | null = null;
    try {
      if (!(await stat(this.#root)).isDirectory()) why = 'is not a directory';
    } catch (e) {
      if (!isMissing(e)) throw fsError(e, `cannot open the object directory ${this.#root}`);
      why = 'does not exist';
    }
    if (why !== null) throw new MlmodelError('BUCKET_NOT_FOUND', `the directory ${this.#root} ${why}`, { directory: this.#root });
  }

  async copy(srcKey: string, dstKey: string): Promise<ObjectInfo> {
    checkKey(srcKey, 'source key');
    checkKey(dstKey, 'destination key');
    const src = this.#path(srcKey);
    const final = this.#path(dstKey);
    const dir = dirname(final);
    const { fd, tmp, created } = this.#openTemp(dir, dstKey);
    try {
      closeSync(fd);
      // A reflink where the file system offers one, a plain copy elsewhere.
      await copyFile(src, tmp, fsConstants.COPYFILE_FICLONE);
      const out = await open(tmp, 'r+');
      try {
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(tmp, final).catch((e: unknown) => {
        throw keyConflict(e, dstKey) ?? e;
      });
      await Promise.all([this.#syncDir(dir), this.#syncNewDirs(created, dir)]);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if (e instanceof MlmodelError) throw e;
      if (isMissing(e)) throw notFound(srcKey);
      throw fsError(e, `cannot copy object ${srcKey} to ${dstKey}`);
    }
    const info = await this.stat(dstKey);
    if (!info) throw notFound(dstKey);
    return info;
  }

  async presignGet(key: string, expirySec: number): Promise<string> {
    checkKey(key);
    checkExpiry(expirySec);
    if (!(await this.stat(key))) throw notFound(key);
    // A local store has nothing to sign: the file path is the download.
    return this.#path(key);
  }
}

/** Chunks up to this size are written with a direct call; bigger ones through the thread pool. */
const SYNC_WRITE_MAX = 64 * 1024;

/**
 * Writes a stream into an open file, hashing as it goes. Each chunk is
 * written before the next is read, so memory holds one chunk at a time.
 */
async function writeAll(fd: number, body: Readable | AsyncIterable<Uint8Array>): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const raw of body as AsyncIterable<Uint8Array | string>) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    hash.update(chunk);
    size += chunk.byteLength;
    let off = 0;
    while (off < chunk.byteLength) {
      off +=
        chunk.byteLength - off <= SYNC_WRITE_MAX
          ? writeSync(fd, chunk, off, chunk.byteLength - off)
          : await writeFd(fd, chunk, off, chunk.byteLength - off);
    }
  }
  return { size, sha256: hash.digest('hex') };
}

const writeFd = (fd: number, b: Uint8Array, off: number, len: number) =>
  new Promise<number>((res, rej) => fsWrite(fd, b, off, len, null, (e, n) => (e ? rej(e) : res(n))));
const fsyncFd = (fd: number) => new Promise<void>((res, rej) => fsync(fd, (e) => (e ? rej(e) : res())));

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable. Some file systems refuse fsync on a
  // directory (EINVAL); the data is still safely written then.
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    await fsyncFd(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** The higher of two directories on one path (the shorter), either possibly absent. */
function topmost(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.length <= b.length ? a : b;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function notFound(key: string): MlmodelError {
  return new MlmodelError('OBJECT_NOT_FOUND', `object not found: ${key}`, { key });
}

function keyConflict(e: unknown, key: string): MlmodelError | null {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
    return new MlmodelError(
      'OBJECT_KEY_INVALID',
      `object key "${key}" collides with another key used as a directory (a directory store cannot hold both "a" and "a/b")`,
      { key },
    );
  }
  return null;
}

function fsError(e: unknown, what: string): MlmodelError {
  const code = (e as NodeJS.ErrnoException).code;
  const message = e instanceof Error ? e.message : String(e);
  return new MlmodelError(
    code === 'EACCES' || code === 'EROFS' || code === 'ENOSPC' ? 'STORE_UNAVAILABLE' : 'STORE_ERROR',
    `${what}: ${message}`,
    { errno: code },
  );
}
