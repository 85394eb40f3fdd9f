/**
 * Safe extraction for pull/deploy. The archive goes through the same
 * checks as import, into a fresh private staging directory (mode 0700)
 * next to destDir; only when every file is written and verified are the
 * files renamed into destDir. On any failure the staging directory is
 * removed and destDir is left as it was.
 *
 * Assumes nobody else modifies destDir while we move files in: conflicts
 * and symlinks in destDir are checked once, just before the moves.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, realpath, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { addAbortSignal, finished, type Readable } from 'node:stream';
import { MlmodelError, isMlmodelError } from '../errors.js';
import { ArchiveDecoder } from './decode.js';
import { sourceError } from './inspect.js';
import { refuse } from './refuse.js';
import { parseModelType } from './required-files.js';
import { ArchiveScanner, type FileSink } from './scan.js';
import { resolveLimits, type ExtractOptions, type ExtractReport, type ManifestEntry } from './types.js';

/** Writes accepted entries under the staging root and checks them against an expected manifest. */
class StagingWriter implements FileSink {
  readonly dirs: string[] = [];
  readonly files: ManifestEntry[] = [];
  private current: WriteStream | undefined;
  private pending: Promise<void>[] = [];
  private failure: Error | undefined;
  private readonly expected: Map<string, ManifestEntry> | undefined;

  constructor(
    private readonly root: string,
    manifest: readonly ManifestEntry[] | undefined,
  ) {
    this.expected = manifest === undefined ? undefined : new Map(manifest.map((m) => [m.path, m]));
  }

  directory(path: string): void {
    const target = this.target(path);
    staged(path, () => mkdirSync(target, { recursive: true, mode: 0o755 }));
    this.dirs.push(path);
  }

  fileStart(path: string, size: number): void {
    if (this.expected !== undefined) {
      const want = this.expected.get(path);
      if (want === undefined) throw refuse('manifest-mismatch', 'file is not in the expected manifest', path);
      if (want.size !== size) {
        throw refuse('manifest-mismatch', `file is ${size} bytes, the manifest says ${want.size}`, path, { expected: want.size, actual: size });
      }
    }
    const target = this.target(path);
    staged(path, () => mkdirSync(dirname(target), { recursive: true, mode: 0o755 }));
    // 'wx': never open something that already exists (nothing should, in a fresh staging dir).
    const ws = createWriteStream(target, { flags: 'wx', mode: 0o644 });
    ws.on('error', (e) => {
      this.failure ??= new MlmodelError('INTERNAL', `writing ${JSON.stringify(path)} during extraction failed: ${e.message}`, { path }, { cause: e });
    });
    this.current = ws;
  }

  fileData(chunk: Buffer): void {
    const ws = this.current;
    if (ws !== undefined && !ws.write(chunk)) this.pending.push(drained(ws));
  }

  fileEnd(entry: ManifestEntry): void {
    const want = this.expected?.get(entry.path);
    if (want !== undefined && want.sha256 !== entry.sha256) {
      throw new MlmodelError('CHECKSUM_MISMATCH', `archive entry ${JSON.stringify(entry.path)}: sha256 ${entry.sha256} does not match the manifest's ${want.sha256}`, {
        entry: entry.path,
        expected: want.sha256,
        actual: entry.sha256,
      });
    }
    const ws = this.current;
    this.current = undefined;
    if (ws !== undefined) {
      this.pending.push(new Promise<void>((res, rej) => finished(ws, (e) => (e ? rej(e) : res()))));
      ws.end();
    }
    this.files.push(entry);
  }

  /** Resolves when every write issued so far has been accepted; undefined when nothing waits. */
  flush(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending.length === 0) return undefined;
    const waiting = this.pending;
    this.pending = [];
    return Promise.all(waiting).then(
      () => {
        if (this.failure !== undefined) throw this.failure;
      },
      (e: unknown) => {
        throw this.failure ?? e;
      },
    );
  }

  /** After the last entry: the manifest's files that never came. */
  missing(): string[] {
    if (this.expected === undefined) return [];
    const seen = new Set(this.files.map((f) => f.path));
    return [...this.expected.keys()].filter((p) => !seen.has(p));
  }

  abort(): void {
    this.current?.destroy();
  }

  target(path: string): string {
    const t = join(this.root, ...path.split('/'));
    // Names were normalised already; this is the last line of defence.
    const rel = relative(this.root, t);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw refuse('parent-traversal', 'path resolves outside the destination', path);
    return t;
  }
}

/** Local file-system failures while staging are ours, not the source's: say so. */
function staged(path: string, op: () => void): void {
  try {
    op();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new MlmodelError('INTERNAL', `staging ${JSON.stringify(path)} during extraction failed: ${message}`, { path }, { cause: e });
  }
}

/** Resolves when `ws` can take more. A stream ended meanwhile never emits 'drain', so 'finish' counts too. */
function drained(ws: WriteStream): Promise<void> {
  return new Promise<void>((res, rej) => {
    const done = (e?: Error): void => {
      ws.off('drain', onOk);
      ws.off('finish', onOk);
      ws.off('close', onOk);
      ws.off('error', done);
      if (e) rej(e);
      else res();
    };
    const onOk = (): void => done();
    ws.once('drain', onOk);
    ws.once('finish', onOk);
    ws.once('close', onOk);
    ws.once('error', done);
  });
}

/**
 * Extracts `source` (plain or gzip tar) into `destDir`. Returns once every
 * file is in place. Errors: ARCHIVE_INVALID (refused archive),
 * CHECKSUM_MISMATCH (a file differs from `opts.manifest`), CONFLICT (a
 * target exists and `overwrite` is not set, or destDir holds a symlink or
 * a file where the archive needs a directory), CANCELLED.
 */
export async function extractArchive(source: Readable, destDir: string, opts: ExtractOptions = {}): Promise<ExtractReport> {
  // The awaits below run before the loop listens to the source: an error it
  // emits meanwhile (a store's stream failing) would otherwise be uncaught
  // and end the process. The loop still sees it, as the stream's `errored`.
  source.on('error', ignoreError);
  const type = opts.type === undefined ? undefined : parseModelType(opts.type);
  const limits = resolveLimits(opts.limits);
  const dest = await resolveDest(destDir);
  const parent = dirname(dest);
  const firstCreated = await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(dest)}.extract-`));
  const root = join(staging, 'tree');
  const writer = new StagingWriter(root, opts.manifest);
  let succeeded = false;
  try {
    await mkdir(root, { mode: 0o700 });
    const scanner = new ArchiveScanner(limits, type, writer);
    const decoder = new ArchiveDecoder((chunk) => {
      scanner.write(chunk);
      return writer.flush();
    }, limits);
    const hash = createHash('sha256');
    let size = 0;
    if (opts.signal !== undefined) addAbortSignal(opts.signal, source);
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        await decoder.write(chunk);
      }
      await decoder.end();
    } catch (e) {
      writer.abort();
      decoder.destroy(e instanceof Error ? e : new Error(String(e)));
      if (opts.signal?.aborted) throw new MlmodelError('CANCELLED', 'extraction cancelled', {}, { cause: e });
      throw isMlmodelError(e) ? e : sourceError(e);
    }
    scanner.finish();
    await writer.flush();
    const missing = writer.missing();
    if (missing.length > 0) {
      throw refuse('manifest-mismatch', `archive lacks ${missing.length} file(s) of the manifest: ${missing.slice(0, 5).map((m) => JSON.stringify(m)).join(', ')}`, undefined, {
        missing,
      });
    }
    await moveIntoPlace(root, dest, writer.dirs, writer.files, staging, opts.overwrite === true);
    succeeded = true;
    return { destDir: dest, files: writer.files, size, sha256: hash.digest('hex'), compressed: decoder.compressed };
  } finally {
    writer.abort();
    await rm(staging, { recursive: true, force: true });
    if (!succeeded && firstCreated !== undefined) await removeCreatedParents(parent, firstCreated);
  }
}

function ignoreError(): void {
  // Heard here, reported by the read loop (see extractArchive).
}

/** Undoes mkdir -p of destDir's parents after a failure; stops at the first one something else now uses. */
async function removeCreatedParents(parent: string, firstCreated: string): Promise<void> {
  for (let d = parent; ; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
    if (d === firstCreated || dirname(d) === d) return;
  }
}

async function resolveDest(destDir: string): Promise<string> {
  const abs = resolve(destDir);
  try {
    return await realpath(abs);
  } catch {
    return abs;
  }
}

async function lstatOrNull(p: string): Promise<Awaited<ReturnType<typeof lstat>> | null> {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function conflict(message: string, path: string): MlmodelError {
  return new MlmodelError('CONFLICT', message, { path });
}

/** Checks every target first, so a conflict changes nothing; then renames, undoing on failure. */
async function moveIntoPlace(root: string, dest: string, dirs: string[], files: ManifestEntry[], staging: string, overwrite: boolean): Promise<void> {
  const destStat = await lstatOrNull(dest);
  if (destStat !== null && !destStat.isDirectory()) throw conflict(`destination ${dest} exists and is not a directory`, dest);

  // Every directory the archive needs, parents first.
  const needDirs = new Set<string>();
  const addParents = (p: string, self: boolean): void => {
    const segs = p.split('/');
    for (let i = 1; i <= (self ? segs.length : segs.length - 1); i++) needDirs.add(segs.slice(0, i).join('/'));
  };
  for (const d of dirs) addParents(d, true);
  for (const f of files) addParents(f.path, false);
  const sortedDirs = [...needDirs].sort((a, b) => a.split('/').length - b.split('/').length);
  const missingDirs: string[] = [];
  for (const d of sortedDirs) {
    const st = await lstatOrNull(join(dest, ...d.split('/')));
    if (st === null) missingDirs.push(d);
    else if (st.isSymbolicLink()) throw conflict(`destination ${JSON.stringify(d)} is a symbolic link; refusing to write through it`, d);
    else if (!st.isDirectory()) throw conflict(`destination ${JSON.stringify(d)} exists and is not a directory`, d);
  }
  const replaced = new Set<string>();
  for (const f of files) {
    const st = await lstatOrNull(join(dest, ...f.path.split('/')));
    if (st === null) continue;
    if (st.isDirectory()) throw conflict(`destination ${JSON.stringify(f.path)} is a directory; the archive has a file there`, f.path);
    if (!overwrite) throw conflict(`destination ${JSON.stringify(f.path)} already exists (pass overwrite to replace it)`, f.path);
    replaced.add(f.path);
  }

  const createdDirs: string[] = [];
  const moved: Array<{ target: string; from: string; backup?: string }> = [];
  const backups = join(staging, 'replaced');
  try {
    if (destStat === null) {
      await mkdir(dest, { recursive: true });
      createdDirs.push(dest);
    }
    for (const d of missingDirs) {
      const p = join(dest, ...d.split('/'));
      await mkdir(p);
      createdDirs.push(p);
    }
    if (replaced.size > 0) await mkdir(backups, { mode: 0o700 });
    let n = 0;
    for (const f of files) {
      const target = join(dest, ...f.path.split('/'));
      const from = join(root, ...f.path.split('/'));
      const record: { target: string; from: string; backup?: string } = { target, from };
      if (replaced.has(f.path)) {
        record.backup = join(backups, String(n++));
        await rename(target, record.backup);
      }
      moved.push(record);
      await rename(from, target);
    }
  } catch (e) {
    await undo(moved, createdDirs);
    throw e;
  }
}

async function undo(moved: Array<{ target: string; from: string; backup?: string }>, createdDirs: string[]): Promise<void> {
  for (const m of moved.reverse()) {
    await unlink(m.target).catch(() => {});
    if (m.backup !== undefined) await rename(m.backup, m.target).catch(() => {});
  }
  for (const d of createdDirs.reverse()) await rmdir(d).catch(() => {});
}
