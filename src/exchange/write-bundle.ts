import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { aliasesOf } from '../commands/alias.js';
import { readObject } from '../store/read-object.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { servingHistoryKey } from '../executor/object-keys.js';
import { checkLocalRoots, parsePathOption } from '../executor/location.js';
import { writeLocalFile } from '../executor/local-file.js';
import type { ModelRecord } from '../store/metadata.js';
import { writeTar, type TarWriteEntry } from '../archive/tar-writer.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  digestLine,
  encodeJson,
  MANIFEST_DIGEST_PATH,
  MANIFEST_PATH,
  MODEL_PATH,
  parseServingFacts,
  SERVING_PATH,
  versionArchivePath,
  versionRecordPath,
  type BundleFile,
  type BundleManifest,
  type BundleSection,
  type DeploymentFacts,
  type ModelFacts,
  type VersionFacts,
} from './bundle-format.js';

/** A bundle ready to be written: its manifest (and digest) and the tar entries in order. */
export interface BundleContent {
  readonly manifest: BundleManifest;
  readonly manifestSha256: string;
  readonly versions: readonly number[];
  readonly entries: readonly TarWriteEntry[];
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The facts of `versions` (records of one model, oldest first; `head` its
 * latest) as a bundle. Only facts that mean the same in any registry go in:
 * never uids, ids, object keys or the serving state of this registry, so a
 * round trip through another registry gives the same manifest.
 */
export async function collectBundle(ctx: EngineContext, head: ModelRecord, versions: readonly ModelRecord[]): Promise<BundleContent> {
  const model = await modelFacts(ctx, head, versions);
  const deployments = await deploymentsOf(ctx, head.model_uid, versions);
  const files: Array<BundleFile & { body: TarWriteEntry['body'] }> = [];
  const addJson = (path: string, value: unknown) => {
    const body = encodeJson(value);
    files.push({ path, size: body.length, sha256: sha256(body), body });
  };
  addJson(MODEL_PATH, model);
  addJson(SERVING_PATH, { deployments });
  const sections: BundleSection[] = [
    { type: 'model', schema: 1, critical: true, files: [MODEL_PATH] },
    // History: a registry that did not know it could still take the model.
    { type: 'serving', schema: 1, critical: false, files: [SERVING_PATH] },
  ];
  for (const r of versions) {
    addJson(versionRecordPath(r.version), versionFacts(r));
    files.push({ path: versionArchivePath(r.version), size: r.size, sha256: r.sha256, body: () => Promise.resolve(checkedArchive(ctx, r)) });
    sections.push({ type: 'version', schema: 1, critical: true, version: r.version, files: [versionRecordPath(r.version), versionArchivePath(r.version)] });
  }
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    format_version: BUNDLE_FORMAT_VERSION,
    files: files.map(({ path, size, sha256: digest }) => ({ path, size, sha256: digest })),
    sections,
  };
  const manifestBytes = encodeJson(manifest);
  const manifestSha256 = sha256(manifestBytes);
  const digest = digestLine(manifestSha256);
  return {
    manifest,
    manifestSha256,
    versions: versions.map((v) => v.version),
    entries: [
      // The manifest first: a reader knows every digest before the first byte of a file.
      { path: MANIFEST_PATH, size: manifestBytes.length, body: manifestBytes },
      { path: MANIFEST_DIGEST_PATH, size: digest.length, body: digest },
      ...files.map((f) => ({ path: f.path, size: f.size, body: f.body })),
    ],
  };
}

/** The model's facts as a bundle of `versions` carries them: its aliases that point at one of those versions, by name. */
export async function modelFacts(ctx: EngineContext, head: ModelRecord, versions: readonly ModelRecord[]): Promise<ModelFacts> {
  const numbers = new Set(versions.map((v) => v.version));
  const aliases = (await aliasesOf(ctx, head.model_uid)).filter((a) => numbers.has(a.version)).sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  return {
    name: head.name,
    user: head.user,
    type: head.type as ModelFacts['type'],
    category: head.category,
    algorithm: head.algorithm,
    create: head.create.toISOString(),
    aliases,
  };
}

/** A version record's facts that mean the same in any registry. */
export function versionFacts(r: ModelRecord): VersionFacts {
  return {
    version: r.version,
    format: r.format,
    filename: r.filename,
    category: r.category,
    algorithm: r.algorithm,
    create: r.create.toISOString(),
    modified: r.modified.toISOString(),
    imported: r.imported.toISOString(),
    size: r.size,
    sha256: r.sha256,
    tags: [...r.tags],
    options: r.options,
  };
}

/**
 * Writes a bundle to `to` (a `path=` location): to a connector, where the
 * object appears complete or not at all, or to a local file, written beside
 * it and linked into place. CONFLICT if it exists, unless `overwrite`. The
 * bundle's own bytes are not hashed: its manifest's digest names them (the
 * manifest holds every file's size and sha256, and the tar around them is
 * deterministic), and each archive was hashed on its way in.
 */
export async function writeBundle(ctx: EngineContext, content: BundleContent, to: string, overwrite: boolean): Promise<{ size: number }> {
  const target = parsePathOption(to);
  if (target.kind === 'connector') {
    const store = await ctx.connector(target.connector);
    if (!overwrite && (await store.stat(target.key))) throw new MlmodelError('CONFLICT', `${to} already exists; add overwrite=true to replace it`, { path: to });
    return store.put(target.key, bundleStream(content));
  }
  await checkLocalRoots(target.path, ctx.localRoots, to);
  return writeLocalFile(writeTar(content.entries), target.path, { overwrite });
}

/** The bundle's bytes, as one stream. */
export function bundleStream(content: BundleContent): Readable {
  return Readable.from(writeTar(content.entries));
}

/**
 * This registry's own deployments of the bundled versions, and the history
 * that came with them from the registry they were imported from, oldest first.
 */
export async function deploymentsOf(ctx: EngineContext, modelUid: string, versions: readonly ModelRecord[]): Promise<DeploymentFacts[]> {
  const byUid = new Map(versions.map((v) => [v.uid, v]));
  const out: DeploymentFacts[] = [];
  for (const v of versions) {
    const key = servingHistoryKey(v.uid);
    if (!(await ctx.objects.stat(key))) continue;
    out.push(...parseServingFacts(await readObject(ctx.objects, key)));
  }
  for (const s of await ctx.meta.findServings({ model_uid: modelUid })) {
    const v = byUid.get(s.record_uid);
    if (!v) continue;
    out.push({
      serving_name: s.serving_name,
      serving_version: s.version,
      model_version: s.model_version,
      label: s.label,
      state: s.state,
      deployed_at: s.deployed_at.toISOString(),
      updated_at: s.updated_at.toISOString(),
    });
  }
  const key = (d: DeploymentFacts) => `${d.deployed_at}\u0000${d.serving_name}\u0000${String(d.serving_version).padStart(16, '0')}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * A version's stored archive, failing the bundle if its bytes are not the
 * ones recorded: hashed as they pass, the one hash export makes of them.
 */
async function* checkedArchive(ctx: EngineContext, r: ModelRecord): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await ctx.objects.get(r.object_key) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  const got = hash.digest('hex');
  if (size !== r.size || got !== r.sha256) {
    throw new MlmodelError('CHECKSUM_MISMATCH', `the stored archive of ${r.name}@${r.version} does not match its record (${size} bytes, sha256 ${got}); run mlmodel verify`, { name: r.name, version: r.version });
  }
}
