/**
 * Unbundle in one pass: the bundle's tar is read once, with the archive
 * layer's strict reader (every hostile-archive rule: traversal, links,
 * devices, duplicates, truncation …), and each version's archive streams
 * straight from it through inspection into the object store, under a fresh
 * uid and an upload lease, the store hashing the bytes as it writes them and
 * refusing them unless they are the manifest's size and sha256. Nothing is
 * unpacked to disk and no byte is hashed twice at this level.
 *
 * The check-before-publish guarantee holds as it did when bundles were
 * unpacked first: the manifest comes first and its digest second (the order
 * bundle writes; any other is refused), so every digest is known before the
 * first byte of a file; small files are held and hashed; and records are
 * written only after the whole tar has been read and every file, section and
 * fact checked (publish-bundle.ts commitStaged). On any refusal the archives
 * staged so far are deleted and nothing was published.
 */
import { createHash } from 'node:crypto';
import { addAbortSignal, PassThrough, type Readable } from 'node:stream';
import { sourceError } from '../archive/inspect.js';
import { ArchiveDecoder } from '../archive/decode.js';
import { refuse } from '../archive/refuse.js';
import { ArchiveScanner, type FileSink } from '../archive/scan.js';
import { resolveLimits, type ManifestEntry } from '../archive/types.js';
import type { StagedImport } from '../commands/import.js';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { checkModelName } from '../executor/names.js';
import type { ResultTable } from '../result/table.js';
import { sweepStaging } from './staging.js';
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
  type BundleFile,
  type BundleManifest,
  type BundleSection,
  type DeploymentFacts,
  type ModelFacts,
  type VersionFacts,
} from './bundle-format.js';
import { checkStaged, commitStaged, discardStaged, publishedRows, stageArchive, versionsToStage, type PublishSource } from './publish-bundle.js';

/**
 * A bundle is several gigabytes at most a model's worth of archives, so
 * every version's limit times a generous count; the ratio check still stops
 * a compressed bomb.
 */
const BUNDLE_LIMITS = resolveLimits({ maxUnpackedBytes: 256 * 1024 ** 3 });
/** Files other than archives (the manifest, facts, serving history) are held in memory: each at most this. */
const MAX_SMALL_FILE = 64 * 1024 * 1024;
const MAX_SMALL_TOTAL = 256 * 1024 * 1024;
const ARCHIVE_PATH = /^versions\/(\d+)\/archive$/;

/** One archive entry in flight: the bytes go into `pass`; `done` settles when it is staged (or, for a version here already, hashed). */
interface Flow {
  readonly path: string;
  readonly pass: PassThrough;
  readonly done: Promise<void>;
}

class BundleSink implements FileSink {
  files = 0;
  manifest: BundleManifest | undefined;
  manifestSha256 = '';
  listed = new Map<string, BundleFile>();
  readonly small = new Map<string, Buffer>();
  readonly seen = new Map<string, ManifestEntry>();
  model: ModelFacts | undefined;
  /** The versions this registry lacks, once model.json has been read (a first look, without the lock). */
  missing: Promise<Set<number>> | undefined;
  readonly staged = new Map<number, StagedImport>();
  /** Every flow's `done`, to wait for them all when something fails. */
  readonly flows: Array<Promise<void>> = [];
  failure: unknown;
  private chunks: Buffer[] | undefined;
  private smallBytes = 0;
  private flow: Flow | undefined;
  private blocked: Promise<void> | undefined;
  /** Work the synchronous callbacks started (reading model.json's first look), awaited at the next flush. */
  private work: Promise<void> = Promise.resolve();

  /** The name the versions are staged and looked for under: the one given, or the bundle's own once model.json has been read. */
  name: string | undefined;

  constructor(
    private readonly ctx: EngineContext,
    given: string | undefined,
    private readonly expectedSha256: string | undefined,
  ) {
    this.name = given;
  }

  /** Whether the scanner hashes a file: an archive's bytes are hashed by the store that takes them (or by the flow that checks a version here already). */
  hashes = (path: string): boolean => !(this.manifest !== undefined && ARCHIVE_PATH.test(path) && this.listed.has(path));

  directory(): void {}

  fileStart(path: string, size: number): void {
    const index = this.files++;
    if (index === 0 && path !== MANIFEST_PATH) throw refuse('missing-required', `not a bundle: ${MANIFEST_PATH} must come first, then ${MANIFEST_DIGEST_PATH}`, path);
    if (index === 1 && path !== MANIFEST_DIGEST_PATH) throw refuse('missing-required', `not a bundle: ${MANIFEST_DIGEST_PATH} must follow ${MANIFEST_PATH}`, path);
    if (index >= 2) {
      const f = this.listed.get(path);
      if (!f) throw refuse('manifest-mismatch', `bundle holds ${JSON.stringify(path)}, which its manifest does not list`, path);
      if (f.size !== size) throw refuse('manifest-mismatch', `file is ${size} bytes, the manifest says ${f.size}`, path);
    }
    const v = ARCHIVE_PATH.exec(path);
    if (index >= 2 && v) {
      if (!this.model || !this.missing) throw refuse('manifest-mismatch', `bundle ${path} comes before ${MODEL_PATH}, which must precede every archive`, path);
      this.flow = this.startFlow(path, Number(v[1]), this.listed.get(path)!, this.model, this.missing);
      return;
    }
    if (size > MAX_SMALL_FILE || this.smallBytes + size > MAX_SMALL_TOTAL) throw refuse('too-large', `bundle files other than archives are at most ${MAX_SMALL_FILE} bytes each and ${MAX_SMALL_TOTAL} in all`, path);
    if (path === MANIFEST_DIGEST_PATH && size > 1024) throw refuse('manifest-mismatch', `${MANIFEST_DIGEST_PATH} is too large`);
    this.chunks = [];
  }

  fileData(chunk: Buffer): void {
    if (this.flow) {
      if (!this.flow.pass.write(chunk)) this.blocked = this.drainOf(this.flow);
      return;
    }
    this.smallBytes += chunk.length;
    this.chunks!.push(chunk);
  }

  fileEnd(entry: ManifestEntry): void {
    if (this.seen.has(entry.path)) throw refuse('duplicate', `bundle holds ${JSON.stringify(entry.path)} twice`, entry.path);
    this.seen.set(entry.path, entry);
    if (this.flow) {
      this.flow.pass.end();
      this.flow = undefined;
      return;
    }
    const body = Buffer.concat(this.chunks!);
    this.chunks = undefined;
    if (entry.path === MANIFEST_PATH) {
      this.manifestSha256 = entry.sha256;
      this.small.set(entry.path, body);
      return;
    }
    if (entry.path === MANIFEST_DIGEST_PATH) {
      if (!body.equals(digestLine(this.manifestSha256))) {
        throw new MlmodelError('CHECKSUM_MISMATCH', `bundle refused: ${MANIFEST_PATH} has sha256 ${this.manifestSha256}, which ${MANIFEST_DIGEST_PATH} does not name`, { sha256: this.manifestSha256 });
      }
      if (this.expectedSha256 !== undefined && this.expectedSha256.toLowerCase() !== this.manifestSha256) {
        throw new MlmodelError('CHECKSUM_MISMATCH', `bundle refused: its manifest has sha256 ${this.manifestSha256}, not the expected ${this.expectedSha256}`, {
          expected: this.expectedSha256,
          sha256: this.manifestSha256,
        });
      }
      this.manifest = parseManifest(this.small.get(MANIFEST_PATH)!);
      this.listed = new Map(this.manifest.files.map((f) => [f.path, f]));
      return;
    }
    checkDigest(this.listed.get(entry.path)!, entry);
    this.small.set(entry.path, body);
    if (entry.path === MODEL_PATH) {
      this.model = parseModelFacts(body);
      const model = this.model;
      this.name ??= checkModelName(model.name);
      // The versions and their digests are the manifest's; which are missing here is known before the first archive.
      const versions = [...this.listed.values()].flatMap((f) => {
        const m = ARCHIVE_PATH.exec(f.path);
        return m ? [{ facts: { version: Number(m[1]), sha256: f.sha256 } }] : [];
      });
      this.missing = versionsToStage(this.ctx, this.name, { model, versions }).then((ws) => new Set(ws.map((w) => w.facts.version)));
      this.work = this.missing.then(() => undefined);
    }
  }

  /** Resolves when the reader may go on: the first look is done, and the archive in flight takes more bytes. */
  async flush(): Promise<void> {
    await this.work;
    if (this.failure !== undefined) throw this.failure;
    const blocked = this.blocked;
    this.blocked = undefined;
    if (blocked) await blocked;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Ends what is in flight after a failure: the reader stops, so every flow is ended and waited for. */
  async abort(e: Error): Promise<void> {
    this.flow?.pass.destroy(e);
    this.flow = undefined;
    await Promise.allSettled([this.work, ...this.flows]);
  }

  private drainOf(flow: Flow): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        flow.pass.off('drain', done);
        flow.pass.off('close', done);
        resolve();
      };
      flow.pass.once('drain', done);
      flow.pass.once('close', done);
      // A flow that failed stops reading: the failure, not a drain, lets the reader go on (and stop).
      flow.done.then(done, done);
    });
  }

  private startFlow(path: string, version: number, listed: BundleFile, model: ModelFacts, missing: Promise<Set<number>>): Flow {
    const pass = new PassThrough({ highWaterMark: 1024 * 1024 });
    // Writes after its reader failed and destroyed it are dropped; the failure is the flow's.
    pass.on('error', () => undefined);
    const done = (async () => {
      const todo = await missing;
      if (this.failure !== undefined) throw this.failure;
      if (!todo.has(version)) {
        // Here already with this sha256 (the first look said so): not stored, but its bytes are still checked.
        const hash = createHash('sha256');
        for await (const c of pass) hash.update(c as Buffer);
        const got = hash.digest('hex');
        if (got !== listed.sha256) throw checksumError(path, listed.sha256, got);
        return;
      }
      if (this.staged.has(version)) throw refuse('duplicate', `bundle holds version ${version}'s archive twice`, path);
      let s: StagedImport;
      try {
        s = await stageArchive(this.ctx, this.name!, model.type, listed, pass);
      } catch (e) {
        // The store hashed the bytes as it wrote them: the mismatch is the bundle entry's, said as a bundle's is.
        if (isMlmodelError(e, 'CHECKSUM_MISMATCH') && typeof e.details.sha256 === 'string') throw checksumError(path, listed.sha256, e.details.sha256);
        throw e;
      }
      this.staged.set(version, s);
    })();
    const watched = done.catch((e: unknown) => {
      this.failure ??= e;
      // Nobody reads it any more: the reader's writes must not wait for it.
      pass.resume();
    });
    this.flows.push(watched);
    return { path, pass, done: watched };
  }
}

function checksumError(path: string, expected: string, actual: string): MlmodelError {
  return new MlmodelError('CHECKSUM_MISMATCH', `bundle entry ${JSON.stringify(path)}: sha256 ${actual} does not match the manifest's ${expected}`, { entry: path, expected, actual });
}

function checkDigest(f: BundleFile, g: ManifestEntry): void {
  if (g.sha256 !== f.sha256) throw checksumError(f.path, f.sha256, g.sha256);
}

/**
 * `mlmodel unbundle`'s work: reads the bundle from `source` once, staging
 * each missing version's archive as it streams by, checks everything, then
 * publishes (as `name`, or the bundle's own name). Refuses the whole bundle
 * on any mismatch, conflict or hostile entry, leaving nothing behind.
 */
export async function unbundleStream(ctx: EngineContext, source: Readable, opts: { name?: string; expectedSha256?: string }): Promise<ResultTable> {
  // Directories earlier versions unpacked bundles into, left by killed runs.
  await sweepStaging('unbundle');
  // Without name=, the bundle's own, checked once model.json has been read.
  const sink = new BundleSink(ctx, opts.name === undefined ? undefined : checkModelName(opts.name), opts.expectedSha256);
  const scanner = new ArchiveScanner(BUNDLE_LIMITS, undefined, sink, sink.hashes);
  const decoder = new ArchiveDecoder((chunk) => {
    scanner.write(chunk);
    return sink.flush();
  }, BUNDLE_LIMITS);
  try {
    if (ctx.signal !== undefined) addAbortSignal(ctx.signal, source);
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) await decoder.write(chunk);
      await decoder.end();
      scanner.finish();
      await sink.flush();
      await Promise.all(sink.flows);
      if (sink.failure !== undefined) throw sink.failure;
    } catch (e) {
      decoder.destroy(e instanceof Error ? e : new Error(String(e)));
      if (ctx.signal?.aborted) throw new MlmodelError('CANCELLED', 'unbundle cancelled', {}, { cause: e });
      // A flow's own failure (a store's CHECKSUM_MISMATCH, a hostile archive) says more than the reader's stop.
      throw sink.failure ?? (isMlmodelError(e) ? e : sourceError(e));
    }
    const bundle = checkBundle(sink);
    for (const w of bundle.versions) {
      const s = sink.staged.get(w.facts.version);
      if (s) await checkStaged(ctx, s, w.facts, bundle.deployments);
    }
    const publishAs = sink.name!;
    if (sink.staged.size === 0) return publishedRows(publishAs, bundle, new Set());
    return await commitStaged(ctx, publishAs, bundle, sink.staged);
  } catch (e) {
    await sink.abort(e instanceof Error ? e : new Error(String(e)));
    for (const s of sink.staged.values()) await discardStaged(ctx, s).catch(() => undefined);
    throw e;
  }
}

/** The whole bundle read: exactly the files its manifest lists, each with its size and digest; every section and fact checked. */
function checkBundle(sink: BundleSink): PublishSource {
  const manifest = sink.manifest;
  if (!manifest) throw refuse('missing-required', `not a bundle: ${MANIFEST_PATH} and ${MANIFEST_DIGEST_PATH} are required`);
  for (const f of manifest.files) {
    const g = sink.seen.get(f.path);
    if (!g) throw refuse('manifest-mismatch', `bundle lacks ${JSON.stringify(f.path)}, which its manifest lists`, f.path);
    // An archive's digest was checked by the store that took it (or the flow that hashed it): its entry has none.
    if (g.sha256 !== '') checkDigest(f, g);
  }
  const small = (p: string) => sink.small.get(p)!;
  const skipped: BundleSection[] = [];
  let model: ModelFacts | undefined;
  let deployments: DeploymentFacts[] = [];
  const versions: Array<{ facts: VersionFacts; open(): Promise<Readable> }> = [];
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
      model = sink.model!;
    } else if (s.type === 'serving') {
      expectFiles(s, [SERVING_PATH]);
      deployments = parseServingFacts(small(SERVING_PATH));
    } else {
      const v = s.version!;
      expectFiles(s, [versionRecordPath(v), versionArchivePath(v)]);
      const facts = parseVersionFacts(small(versionRecordPath(v)), versionRecordPath(v));
      const archive = sink.listed.get(versionArchivePath(v))!;
      if (facts.version !== v) throw refuse('manifest-mismatch', `${versionRecordPath(v)} says it is version ${facts.version}`);
      if (facts.size !== archive.size || facts.sha256 !== archive.sha256) {
        throw new MlmodelError('CHECKSUM_MISMATCH', `bundle version ${v}: its record names an archive of ${facts.size} bytes and sha256 ${facts.sha256}, the bundle holds another`, { version: v });
      }
      versions.push({
        facts,
        open: () => Promise.reject(new MlmodelError('INTERNAL', `bundle version ${v} was streamed, not kept`)),
      });
    }
  }
  if (!model) throw refuse('missing-required', 'bundle has no model section');
  if (versions.length === 0) throw refuse('missing-required', 'bundle holds no version');
  versions.sort((a, b) => a.facts.version - b.facts.version);
  const numbers = new Set(versions.map((v) => v.facts.version));
  for (const a of model.aliases) if (!numbers.has(a.version)) throw refuse('manifest-mismatch', `bundle alias ${JSON.stringify(a.alias)} points at version ${a.version}, which it does not hold`);
  for (const d of deployments) if (!numbers.has(d.model_version)) throw refuse('manifest-mismatch', `bundle deployment ${d.serving_name}/${d.serving_version} names version ${d.model_version}, which it does not hold`);
  return { model, versions, deployments, skipped };
}
