import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractArchive } from '../archive/index.js';
import { refuse } from '../archive/refuse.js';
import { MlmodelError } from '../errors.js';
import { makeStaging } from './staging.js';
import {
  digestLine,
  KNOWN_SECTIONS,
  MANIFEST_DIGEST_PATH,
  MANIFEST_PATH,
  MODEL_PATH,
  parseManifest,
  parseModelFacts,
  parseServingFacts,
  parseVersionFacts,
  SERVING_PATH,
  versionArchivePath,
  versionRecordPath,
  type BundleManifest,
  type BundleSection,
  type DeploymentFacts,
  type ModelFacts,
  type VersionFacts,
} from './bundle-format.js';

/** A bundle whose every byte matched its manifest: the facts, and where each version's archive waits. */
export interface CheckedBundle {
  readonly manifest: BundleManifest;
  readonly manifestSha256: string;
  readonly model: ModelFacts;
  /** Oldest first. */
  readonly versions: ReadonlyArray<{ readonly facts: VersionFacts; readonly archivePath: string; open(): Promise<Readable> }>;
  readonly deployments: readonly DeploymentFacts[];
  /** Sections this mlmodel does not know and that said they may be skipped: not carried over. */
  readonly skipped: readonly BundleSection[];
  /** Removes the unpacked files. */
  close(): Promise<void>;
}

/**
 * A bundle is several gigabytes at most a model's worth of archives, so
 * every version's limit times a generous count; the ratio check still stops
 * a compressed bomb.
 */
const BUNDLE_LIMITS = { maxUnpackedBytes: 256 * 1024 ** 3 };

/**
 * Unpacks a bundle into a private staging directory (staging.ts: one a
 * killed unbundle left is removed by the next) with the archive
 * layer's strict reader (every hostile-archive rule: traversal, links,
 * devices, duplicates, truncation …), then checks it whole before anyone
 * uses a byte: the manifest's digest, the files against the manifest (the
 * same set, sizes and sha256s), every section and every fact. Nothing of the
 * registry is touched here; on failure the staging directory is gone.
 */
export async function readBundle(source: Readable, opts: { expectedSha256?: string; signal?: AbortSignal } = {}): Promise<CheckedBundle> {
  const staging = await makeStaging('unbundle');
  const close = () => rm(staging, { recursive: true, force: true });
  try {
    const root = join(staging, 'bundle');
    const report = await extractArchive(source, root, { limits: BUNDLE_LIMITS, ...(opts.signal ? { signal: opts.signal } : {}) });
    const got = new Map(report.files.map((f) => [f.path, f]));
    const file = (p: string) => join(root, ...p.split('/'));
    const manifestEntry = got.get(MANIFEST_PATH);
    const digestEntry = got.get(MANIFEST_DIGEST_PATH);
    if (!manifestEntry || !digestEntry) throw refuse('missing-required', `not a bundle: ${MANIFEST_PATH} and ${MANIFEST_DIGEST_PATH} are required`);
    if (digestEntry.size > 1024) throw refuse('manifest-mismatch', `${MANIFEST_DIGEST_PATH} is too large`);
    const digestText = await readFile(file(MANIFEST_DIGEST_PATH));
    if (!digestText.equals(digestLine(manifestEntry.sha256))) {
      throw new MlmodelError('CHECKSUM_MISMATCH', `bundle refused: ${MANIFEST_PATH} has sha256 ${manifestEntry.sha256}, which ${MANIFEST_DIGEST_PATH} does not name`, {
        sha256: manifestEntry.sha256,
      });
    }
    if (opts.expectedSha256 !== undefined && opts.expectedSha256.toLowerCase() !== manifestEntry.sha256) {
      throw new MlmodelError('CHECKSUM_MISMATCH', `bundle refused: its manifest has sha256 ${manifestEntry.sha256}, not the expected ${opts.expectedSha256}`, {
        expected: opts.expectedSha256,
        sha256: manifestEntry.sha256,
      });
    }
    const manifest = parseManifest(await readFile(file(MANIFEST_PATH)));

    // Exactly the files the manifest lists, each with its size and digest.
    const listed = new Map(manifest.files.map((f) => [f.path, f]));
    for (const path of got.keys()) {
      if (path !== MANIFEST_PATH && path !== MANIFEST_DIGEST_PATH && !listed.has(path)) throw refuse('manifest-mismatch', `bundle holds ${JSON.stringify(path)}, which its manifest does not list`, path);
    }
    for (const f of manifest.files) {
      const g = got.get(f.path);
      if (!g) throw refuse('manifest-mismatch', `bundle lacks ${JSON.stringify(f.path)}, which its manifest lists`, f.path);
      if (g.size !== f.size) throw refuse('manifest-mismatch', `file is ${g.size} bytes, the manifest says ${f.size}`, f.path);
      if (g.sha256 !== f.sha256) {
        throw new MlmodelError('CHECKSUM_MISMATCH', `bundle entry ${JSON.stringify(f.path)}: sha256 ${g.sha256} does not match the manifest's ${f.sha256}`, {
          entry: f.path,
          expected: f.sha256,
          actual: g.sha256,
        });
      }
    }

    // Sections: the ones known here, each holding exactly its files.
    const skipped: BundleSection[] = [];
    let model: ModelFacts | undefined;
    let deployments: DeploymentFacts[] = [];
    const versions: Array<CheckedBundle['versions'][number]> = [];
    const expectFiles = (s: BundleSection, want: string[]) => {
      if (s.files.length !== want.length || s.files.some((p, i) => p !== want[i])) {
        throw refuse('manifest-mismatch', `bundle section ${s.type} must hold ${want.join(', ')}`);
      }
    };
    for (const s of manifest.sections) {
      if (KNOWN_SECTIONS[s.type] !== s.schema) {
        if (s.critical) throw refuse('manifest-mismatch', `bundle section ${JSON.stringify(s.type)} (schema ${s.schema}) is not one this mlmodel reads, and the bundle says it may not be skipped`);
        skipped.push(s);
        continue;
      }
      if (s.type === 'model') {
        if (model) throw refuse('duplicate', 'bundle has two model sections');
        expectFiles(s, [MODEL_PATH]);
        model = parseModelFacts(await readFile(file(MODEL_PATH)));
      } else if (s.type === 'serving') {
        expectFiles(s, [SERVING_PATH]);
        deployments = parseServingFacts(await readFile(file(SERVING_PATH)));
      } else {
        const v = s.version!;
        expectFiles(s, [versionRecordPath(v), versionArchivePath(v)]);
        const facts = parseVersionFacts(await readFile(file(versionRecordPath(v))), versionRecordPath(v));
        const archive = listed.get(versionArchivePath(v))!;
        if (facts.version !== v) throw refuse('manifest-mismatch', `${versionRecordPath(v)} says it is version ${facts.version}`);
        if (facts.size !== archive.size || facts.sha256 !== archive.sha256) {
          throw new MlmodelError('CHECKSUM_MISMATCH', `bundle version ${v}: its record names an archive of ${facts.size} bytes and sha256 ${facts.sha256}, the bundle holds another`, { version: v });
        }
        const archivePath = file(versionArchivePath(v));
        versions.push({ facts, archivePath, open: () => Promise.resolve(createReadStream(archivePath)) });
      }
    }
    if (!model) throw refuse('missing-required', 'bundle has no model section');
    if (versions.length === 0) throw refuse('missing-required', 'bundle holds no version');
    versions.sort((a, b) => a.facts.version - b.facts.version);
    const numbers = new Set(versions.map((v) => v.facts.version));
    for (const a of model.aliases) if (!numbers.has(a.version)) throw refuse('manifest-mismatch', `bundle alias ${JSON.stringify(a.alias)} points at version ${a.version}, which it does not hold`);
    for (const d of deployments) if (!numbers.has(d.model_version)) throw refuse('manifest-mismatch', `bundle deployment ${d.serving_name}/${d.serving_version} names version ${d.model_version}, which it does not hold`);
    return { manifest, manifestSha256: manifestEntry.sha256, model, versions, deployments, skipped, close };
  } catch (e) {
    await close();
    throw e;
  }
}
