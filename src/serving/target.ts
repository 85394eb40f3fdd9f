import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extractArchive, type ManifestEntry } from '../archive/index.js';
import { MlmodelError } from '../errors.js';
import type { ObjectStore } from '../store/objects.js';
import { deletePrefix } from '../store/prefix.js';
import { readObject } from '../store/read-object.js';
import { writerState, writerTag, type TemporaryInfo } from '../store/temporaries.js';
import { createReadStream } from 'node:fs';

export const MODELS_CONFIG = 'models.config';

/**
 * Where deployed models are laid out for TensorFlow Serving:
 * `<base>/<serving_name>/<version>/…` plus `<base>/models.config`. A numbered
 * version directory appears only complete, and is never written twice.
 */
export interface ServingTarget {
  /** Printable location, no secrets. */
  readonly location: string;
  /** The base_path TF Serving uses for one served model. */
  basePath(servingName: string): string;
  /**
   * Unpacks an archive (checked against its manifest) and publishes its
   * directory `root` (where saved_model.pb sits; '' for the top) as
   * `<serving_name>/<version>/`. CONFLICT if that exists.
   */
  writeVersion(servingName: string, version: number, archive: Readable, manifest: readonly ManifestEntry[], root: string, signal?: AbortSignal): Promise<void>;
  writeConfig(text: string): Promise<void>;
  readConfig(): Promise<string | null>;
  /**
   * Writes (whole, by rename or one put) or, with null, removes a file beside
   * the version directories: `<serving_name>/<file>` (Triton's config.pbtxt).
   */
  writeModelFile(servingName: string, file: string, text: string | null): Promise<void>;
  readModelFile(servingName: string, file: string): Promise<string | null>;
  /** The bytes of one file of a published version (a model server loads model.onnx from here). */
  readVersionFile(servingName: string, version: number, file: string): Promise<Buffer>;
  /** Whether anything exists under `<serving_name>/<version>/`. */
  hasVersion(servingName: string, version: number): Promise<boolean>;
  /**
   * Removes `<serving_name>/<version>/` (fsck, for a deploy that failed: on an
   * object store it may have copied only some files into place).
   */
  removeVersion(servingName: string, version: number): Promise<void>;
  /** Every numbered version directory under the base (`<serving_name>/<n>/`), for fsck. */
  listVersions(): Promise<ServedVersion[]>;
  /**
   * Temporary directories, files or objects of deploys: what an interrupted
   * deploy left behind, and what a running one is writing (fsck tells them
   * apart by `writer` and age).
   */
  leftovers(): Promise<TemporaryInfo[]>;
  removeLeftover(name: string): Promise<void>;
}

/** The writer's tag lets fsck remove what a killed deploy left, and nothing a running one is writing. */
const tmpName = () => `.tmp-${writerTag()}${randomBytes(8).toString('hex')}`;

export interface ServedVersion {
  readonly servingName: string;
  readonly version: number;
}

/** A version directory's name: a positive whole number, as TF Serving reads it. */
const VERSION_DIR = /^[1-9][0-9]{0,15}$/;

/**
 * `<serving_name>/<version>/` must be two segments under the base, whoever
 * the caller is: a serving name is one path segment (no '/', '\\', NUL or
 * control characters, not '.' or '..') and a version a positive integer.
 */
export function checkServingPath(servingName: string, version: number): void {
  // eslint-disable-next-line no-control-regex
  if (servingName === '.' || servingName === '..' || servingName.length === 0 || /[/\\\u0000-\u001f\u007f]/.test(servingName)) {
    throw new MlmodelError('INVALID_ARGUMENT', `serving name ${JSON.stringify(servingName)} is not one path segment`, { serving_name: servingName });
  }
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new MlmodelError('INVALID_ARGUMENT', `serving version ${String(version)} is not a positive whole number`, { serving_name: servingName, version });
  }
}

/** A local directory: unpack beside the version, then one rename publishes it. */
export class DirectoryServingTarget implements ServingTarget {
  readonly location: string;

  constructor(private readonly base: string) {
    this.location = base;
  }

  basePath(servingName: string): string {
    return join(this.base, servingName);
  }

  async writeVersion(servingName: string, version: number, archive: Readable, manifest: readonly ManifestEntry[], root: string, signal?: AbortSignal): Promise<void> {
    checkServingPath(servingName, version);
    const dir = this.basePath(servingName);
    const target = join(dir, String(version));
    if (await exists(target)) throw versionExists(servingName, version);
    const staging = join(dir, tmpName());
    try {
      await extractArchive(archive, staging, { manifest, ...(signal ? { signal } : {}) });
      // rename() would replace an empty directory: check once more right before.
      if (await exists(target)) throw versionExists(servingName, version);
      await rename(root === '' ? staging : join(staging, ...root.split('/')), target);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async hasVersion(servingName: string, version: number): Promise<boolean> {
    checkServingPath(servingName, version);
    return exists(join(this.basePath(servingName), String(version)));
  }

  async removeVersion(servingName: string, version: number): Promise<void> {
    checkServingPath(servingName, version);
    await rm(join(this.basePath(servingName), String(version)), { recursive: true, force: true });
  }

  async writeConfig(text: string): Promise<void> {
    await mkdir(this.base, { recursive: true });
    const tmp = join(this.base, `${MODELS_CONFIG}${tmpName()}`);
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, join(this.base, MODELS_CONFIG));
  }

  async readConfig(): Promise<string | null> {
    return readFile(join(this.base, MODELS_CONFIG), 'utf8').catch(() => null);
  }

  async writeModelFile(servingName: string, file: string, text: string | null): Promise<void> {
    checkServingPath(servingName, 1);
    const dir = this.basePath(servingName);
    if (text === null) {
      await rm(join(dir, file), { force: true });
      return;
    }
    await mkdir(dir, { recursive: true });
    // A staging name fsck knows (`.tmp-<writer>…` in the model's directory), renamed over the old file.
    const tmp = join(dir, tmpName());
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, join(dir, file));
  }

  async readModelFile(servingName: string, file: string): Promise<string | null> {
    checkServingPath(servingName, 1);
    return readFile(join(this.basePath(servingName), file), 'utf8').catch(() => null);
  }

  async readVersionFile(servingName: string, version: number, file: string): Promise<Buffer> {
    checkServingPath(servingName, version);
    try {
      return await readFile(join(this.basePath(servingName), String(version), ...file.split('/')));
    } catch (e) {
      throw missingFile(servingName, version, file, e);
    }
  }

  async listVersions(): Promise<ServedVersion[]> {
    const found: ServedVersion[] = [];
    for (const e of await readdir(this.base, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      for (const inner of await readdir(join(this.base, e.name)).catch(() => [])) {
        if (VERSION_DIR.test(inner)) found.push({ servingName: e.name, version: Number(inner) });
      }
    }
    return found;
  }

  async leftovers(): Promise<TemporaryInfo[]> {
    const found: string[] = [];
    for (const e of await readdir(this.base, { withFileTypes: true }).catch(() => [])) {
      if (e.name.startsWith(`${MODELS_CONFIG}.tmp-`)) found.push(e.name);
      if (!e.isDirectory()) continue;
      for (const inner of await readdir(join(this.base, e.name)).catch(() => [])) {
        if (inner.startsWith('.tmp-') || inner.includes('.extract-')) found.push(`${e.name}/${inner}`);
      }
    }
    const out: TemporaryInfo[] = [];
    for (const name of found.sort()) {
      const tree = await treeStat(join(this.base, ...name.split('/')));
      // Gone since the listing: the deploy finished (or cleaned up) meanwhile.
      if (tree) out.push({ name, ...tree, writer: writerState(name) });
    }
    return out;
  }

  async removeLeftover(name: string): Promise<void> {
    await rm(join(this.base, ...name.split('/')), { recursive: true, force: true });
  }
}

/**
 * A bucket (MinIO/S3): files are unpacked locally, uploaded under a
 * temporary prefix, then copied server-side to `<version>/`. Object stores
 * have no atomic directory rename, so a version is listed in models.config
 * (what TF Serving loads) only after every file is in place.
 */
export class ObjectServingTarget implements ServingTarget {
  constructor(
    private readonly store: ObjectStore,
    /** `s3://bucket/prefix` as TF Serving addresses the base. */
    private readonly url: string,
  ) {}

  get location(): string {
    return this.store.location;
  }

  basePath(servingName: string): string {
    return `${this.url.replace(/\/+$/, '')}/${servingName}`;
  }

  async writeVersion(servingName: string, version: number, archive: Readable, manifest: readonly ManifestEntry[], root: string, signal?: AbortSignal): Promise<void> {
    checkServingPath(servingName, version);
    const final = `${servingName}/${version}/`;
    const under = root === '' ? '' : `${root}/`;
    if (await hasAny(this.store, final)) throw versionExists(servingName, version);
    const local = await mkdtemp(join(tmpdir(), 'mlmodel-deploy-'));
    const temp = `${servingName}/${tmpName()}/`;
    try {
      const report = await extractArchive(archive, join(local, 'tree'), { manifest, ...(signal ? { signal } : {}) });
      const files = report.files.filter((f) => f.path.startsWith(under)).map((f) => ({ ...f, rel: f.path.slice(under.length) }));
      for (const f of files) {
        await this.store.put(temp + f.rel, createReadStream(join(local, 'tree', f.path)), { size: f.size, sha256: f.sha256 });
      }
      if (await hasAny(this.store, final)) throw versionExists(servingName, version);
      for (const f of files) await this.store.copy(temp + f.rel, final + f.rel);
    } finally {
      await deletePrefix(this.store, temp);
      await rm(local, { recursive: true, force: true });
    }
  }

  async writeConfig(text: string): Promise<void> {
    await this.store.put(MODELS_CONFIG, Readable.from([Buffer.from(text)]));
  }

  async writeModelFile(servingName: string, file: string, text: string | null): Promise<void> {
    checkServingPath(servingName, 1);
    // One put: an object appears whole or not at all.
    if (text === null) await this.store.delete(`${servingName}/${file}`);
    else await this.store.put(`${servingName}/${file}`, Readable.from([Buffer.from(text)]));
  }

  async readModelFile(servingName: string, file: string): Promise<string | null> {
    checkServingPath(servingName, 1);
    if (!(await this.store.stat(`${servingName}/${file}`))) return null;
    return (await readObject(this.store, `${servingName}/${file}`)).toString('utf8');
  }

  async readVersionFile(servingName: string, version: number, file: string): Promise<Buffer> {
    checkServingPath(servingName, version);
    try {
      return await readObject(this.store, `${servingName}/${version}/${file}`);
    } catch (e) {
      throw missingFile(servingName, version, file, e);
    }
  }

  async hasVersion(servingName: string, version: number): Promise<boolean> {
    checkServingPath(servingName, version);
    return hasAny(this.store, `${servingName}/${version}/`);
  }

  async removeVersion(servingName: string, version: number): Promise<void> {
    checkServingPath(servingName, version);
    await deletePrefix(this.store, `${servingName}/${version}/`);
  }

  async listVersions(): Promise<ServedVersion[]> {
    const found = new Map<string, ServedVersion>();
    for await (const o of this.store.list('')) {
      const [servingName, version, ...rest] = o.key.split('/');
      if (rest.length > 0 && servingName && version && VERSION_DIR.test(version)) found.set(`${servingName}/${version}`, { servingName, version: Number(version) });
    }
    return [...found.values()];
  }

  async leftovers(): Promise<TemporaryInfo[]> {
    const found = new Map<string, { size: number; modified: Date }>();
    for await (const o of this.store.list('')) {
      // `<serving_name>/.tmp-<tag><hex>/…`; names from before tags hold only hex.
      const m = /^([^/]+\/\.tmp-[0-9a-f.]+)\//.exec(o.key);
      if (!m) continue;
      const seen = found.get(m[1]!);
      found.set(m[1]!, {
        size: (seen?.size ?? 0) + o.size,
        modified: seen && seen.modified > o.modified ? seen.modified : o.modified,
      });
    }
    const staged = [...found.keys()].sort().map((name) => ({ name, ...found.get(name)!, writer: writerState(name) }));
    // A file of a killed deploy that was still uploading (MinIO: an incomplete
    // multipart upload) is not listed as an object: the store lists it.
    const uploads: TemporaryInfo[] = [];
    for await (const t of this.store.temporaries()) uploads.push(t);
    return [...staged, ...uploads];
  }

  async removeLeftover(name: string): Promise<void> {
    // `<serving_name>/.tmp-…` is a staging prefix; anything else listed is one of the store's temporaries.
    if (/^[^/]+\/\.tmp-[0-9a-f.]+$/.test(name)) await deletePrefix(this.store, `${name}/`);
    else await this.store.removeTemporary(name);
  }

  async readConfig(): Promise<string | null> {
    if (!(await this.store.stat(MODELS_CONFIG))) return null;
    return (await readObject(this.store, MODELS_CONFIG)).toString('utf8');
  }
}

/**
 * Bytes under a path and its newest change (lstat: a link is not followed),
 * or null when it is gone. The newest change inside, not the directory's
 * own: a deploy unpacking one big file changes only that file.
 */
async function treeStat(path: string): Promise<{ size: number; modified: Date } | null> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return null;
  }
  let size = st.isFile() ? st.size : 0;
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const inner = await treeStat(join(path, name));
      if (!inner) continue;
      size += inner.size;
      newest = Math.max(newest, inner.modified.getTime());
    }
  }
  return { size, modified: new Date(newest) };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function hasAny(store: ObjectStore, prefix: string): Promise<boolean> {
  for await (const _ of store.list(prefix)) return true;
  return false;
}

function missingFile(servingName: string, version: number, file: string, cause: unknown): MlmodelError {
  return new MlmodelError('NOT_FOUND', `serving version ${servingName}/${version} has no ${file}`, { serving_name: servingName, version, file }, { cause });
}

function versionExists(servingName: string, version: number): MlmodelError {
  return new MlmodelError('CONFLICT', `serving version ${servingName}/${version} already exists and is never overwritten`, {
    serving_name: servingName,
    version,
  });
}
