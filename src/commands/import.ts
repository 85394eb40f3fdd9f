import { Readable } from 'node:stream';
import { defineCommand, type CommandAst } from './command.js';
import { inspectArchive, MODEL_TYPES, parseModelType, type ArchiveReport } from '../archive/index.js';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import type { JsonValue, ModelRecord } from '../store/metadata.js';
import { claimModelName, nameScope } from '../executor/models.js';
import { withLock, withModelLock } from '../engine/lock.js';
import { acquireLease, LEASE_SCOPE, LEASE_TTL_MS, tryLease, uploadLease, type Lease } from '../engine/lease.js';
import { checkModelName } from '../executor/names.js';
import { optionValues } from '../executor/options.js';
import { OPTION_FIELDS } from '../planner/schema.js';
import { openSource, type OpenedSource } from '../executor/source.js';
import { readRun } from '../tracking/runs.js';

const syntax = {
  keywords: ['import'],
  args: [{ kind: 'options' }],
  options: {
    name: { type: 'string', required: true, summary: 'the model name (a new name, or a new version of an existing model)' },
    type: { type: 'enum', values: MODEL_TYPES, required: true, summary: 'the kind of model, which says what the archive must hold' },
    path: { type: 'path', required: true, summary: 'where the archive is: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path' },
    category: { type: 'string', summary: 'e.g. classification' },
    algorithm: { type: 'string', summary: 'e.g. deep' },
    format: { type: 'string', summary: 'the format the archive must hold (inferred when absent): saved_model, h5, pickle, onnx, …' },
    ...Object.fromEntries(OPTION_FIELDS.map((f) => [f, { type: 'string', summary: `recorded as ${f}` } as const])),
    run: { type: 'integer', min: 1, summary: "the training run that made this version: summary's parameter, evaluation and elapsed come from it" },
  },
} as const;

export type ImportCommand = CommandAst<typeof syntax>;

export { archiveKey, manifestKey, objectPrefix } from '../executor/object-keys.js';
import { archiveKey, manifestKey } from '../executor/object-keys.js';
import { allRecordsOf, finishDelete } from './delete.js';

const NUMERIC_OPTIONS = new Set(['train_cnt', 'elapsed']);
const JSON_OPTIONS = new Set(['parameter', 'evaluation', 'cross_validation', 'grid_info']);

export const IMPORT_COLUMNS = [col('result', 'TEXT'), col('name', 'TEXT'), col('version', 'LONG'), bytesCol('size'), col('sha256', 'TEXT')];

/**
 * `mlmodel import`: the source is read once, through archive inspection and
 * hashing, straight into the object store under a fresh uid. Only when the
 * object is complete and the archive passed every check are a version number
 * and an id claimed and the record written; on any failure the object is
 * removed and no record exists.
 */
export async function executeImport(ctx: EngineContext, cmd: ImportCommand): Promise<ResultTable> {
  return commitImport(ctx, await stageImport(ctx, cmd));
}

/** An import whose archive is checked and stored, and whose record is not written yet. */
export interface StagedImport {
  readonly uid: string;
  readonly key: string;
  readonly name: string;
  readonly type: (typeof MODEL_TYPES)[number];
  readonly o: Partial<Record<string, string>>;
  readonly report: ArchiveReport;
  /** The training run the version names (import run=ID), checked to exist before anything is stored. */
  readonly run: number | null;
  /** Held from before the first byte is stored until the record is written: fsck leaves these objects alone. */
  readonly lease: Lease;
}

/**
 * The first half of an import: checks the options, streams the archive
 * through inspection into the object store and writes its manifest. No
 * record exists yet; `commitImport` writes it, `discardImport` removes the
 * objects instead. On failure nothing is left behind.
 */
export async function stageImport(ctx: EngineContext, cmd: ImportCommand, opts: { checkTypeFirst?: boolean } = {}): Promise<StagedImport> {
  const { run: runOption, ...texts } = optionValues(syntax, cmd.options);
  const o: Partial<Record<string, string>> & { name: string; type: string; path: string } = texts;
  const run = runOption ?? null;
  if (run !== null) await readRun(ctx, run);
  const name = checkModelName(o.name);
  const type = parseModelType(o.type.toLowerCase());
  // Checked again when the record is written; checking now saves storing an
  // archive for nothing. A batch skips it: its commit checks in order anyway.
  if (opts.checkTypeFirst !== false) checkSameType(name, type, await latestOf(ctx, name));

  return storeArchive(ctx, { name, type, o, run, source: await openSource(ctx, o.path) });
}

/**
 * Streams one archive through inspection into the object store under a fresh
 * uid, with its per-file manifest beside it, holding an upload lease: what
 * `stageImport` does once its options are read, and what a bundle's import
 * does for each version (exchange/publish-bundle.ts). `expect` makes the store
 * refuse bytes whose size or sha256 differ. On failure nothing is left behind.
 */
export async function storeArchive(
  ctx: EngineContext,
  a: {
    name: string;
    type: (typeof MODEL_TYPES)[number];
    o: Partial<Record<string, string>>;
    /** The training run the version names, if any (checked by the caller). */
    run?: number | null;
    source: Pick<OpenedSource, 'stream' | 'size'>;
    expect?: { size: number; sha256: string };
  },
): Promise<StagedImport> {
  const { name, type, o, source } = a;
  const run = a.run ?? null;
  const uid = ctx.newUid();
  const key = archiveKey(uid);
  // Claimed before the first byte is stored and renewed while it streams, so
  // fsck, even with grace=0, never takes these objects for an orphan while
  // this import is alive (its uid is fresh: nobody else holds the lease).
  const lease = (await tryLease(ctx, LEASE_SCOPE, uploadLease(uid)))!;
  try {
    // The manifest's put, beside it, flushes the directory once for both; the uid is fresh, so its directory is new.
    const report = await storeInspected(ctx, source, type, key, 'import', a.expect, { deferEntry: true, newPrefix: true });
    if (o.format !== undefined && o.format.toLowerCase() !== report.format) {
      throw new MlmodelError('INVALID_ARGUMENT', `format=${o.format} does not match the archive, which holds a ${report.format} model (${report.filename})`, {
        format: o.format,
        inferred: report.format,
      });
    }
    await ctx.objects.put(manifestKey(uid), Readable.from([JSON.stringify(report.manifest)]));
    return { uid, key, name, type, o, report, run, lease };
  } catch (e) {
    await removeObjects(ctx, uid);
    await lease.release().catch(() => undefined);
    throw importError(e);
  }
}

/**
 * Streams a source through archive inspection into the object store under
 * `key`: the archive must pass every check for `type`, and the report's
 * sha256 is the store's, over exactly the bytes it stored. Throws
 * ARCHIVE_INVALID for a refused archive, the store's error for a failed
 * write; the caller removes the object on failure. Imports and run
 * checkpoints store their archives this way.
 */
export async function storeInspected(
  ctx: EngineContext,
  source: Pick<OpenedSource, 'stream' | 'size'>,
  type: (typeof MODEL_TYPES)[number],
  key: string,
  phase: string,
  /** The size and sha256 the stored bytes must have (a bundle's records), refused by the store otherwise. */
  expect: { size: number; sha256: string } | undefined = undefined,
  /** deferEntry: another object is put beside this one next; newPrefix: it is the first under its prefix (store/objects.ts PutOptions). */
  put: { deferEntry?: boolean; newPrefix?: boolean } = {},
): Promise<ArchiveReport> {
  const { passthrough, result } = inspectArchive(source.stream, {
    type,
    // The store hashes what it stores; hashing the same bytes here too would be a second pass.
    hashArchive: false,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (done) => ctx.onProgress?.({ phase, done, total: source.size }),
  });
  // Both must finish: the store gets every byte, the inspector passes the archive.
  // A refusal errors the passthrough, possibly before the store has started
  // reading it; `result` carries that error, so the event needs no handler of its own.
  passthrough.on('error', () => undefined);
  // If the store gives up first, stop the inspection too, or it would wait forever for a reader.
  const storing = ctx.objects.put(key, passthrough, { ...expect, ...put }).catch((e: unknown) => {
    passthrough.destroy(e instanceof Error ? e : new Error(String(e)));
    throw e;
  });
  const [stored, inspected] = await Promise.allSettled([storing, result]);
  // A refused archive is the answer; otherwise a failed store write (a full
  // disk, a server gone) is the cause, and the inspection merely saw its
  // stream torn down ("The operation was aborted").
  if (inspected.status === 'rejected' && (isMlmodelError(inspected.reason, 'ARCHIVE_INVALID') || stored.status !== 'rejected')) throw inspected.reason;
  if (stored.status === 'rejected') throw stored.reason;
  if (inspected.status === 'rejected') throw inspected.reason;
  // The record's sha256 is the store's, taken over exactly the bytes it stored.
  const report = { ...inspected.value, sha256: stored.value.sha256 };
  if (stored.value.size !== report.size) {
    throw new MlmodelError('CHECKSUM_MISMATCH', `the stored archive differs from what was read (${stored.value.size} bytes stored, ${report.size} read)`);
  }
  return report;
}

/**
 * The second half: claims the version and the id and writes the record (the
 * object is complete by now). On failure the staged objects are removed.
 */
export async function commitImport(ctx: EngineContext, staged: StagedImport, opts: { lockWaitMs?: number } = {}): Promise<ResultTable> {
  const state = { registered: false };
  try {
    return await registerStaged(ctx, staged, opts, state);
  } catch (e) {
    // Once a record names them the objects stay (keepOrUndo removed the record
    // if it must go); before that, a failed import leaves nothing.
    if (!state.registered) await removeUnlessRecorded(ctx, staged.uid);
    throw e;
  }
}

/**
 * commitImport's metadata work alone, under the lock of (user, name), so a
 * delete, rename or deploy of the name never interleaves with this version's
 * registration. On failure before the record is written the objects stay,
 * for the caller to discard — a batch does so after its transaction, which
 * then never waits for the object store.
 */
export async function registerStaged(
  ctx: EngineContext,
  staged: StagedImport,
  opts: { lockWaitMs?: number } = {},
  state: { registered: boolean } = { registered: false },
): Promise<ResultTable> {
  try {
    return await withModelLock(
      ctx,
      ctx.user,
      [staged.name],
      async () => {
        // A lease lost while streaming means fsck took these objects for an
        // orphan (this process stalled past the lease): nothing is registered.
        if (!(await staged.lease.renew())) {
          throw new MlmodelError('CONFLICT', `the import of ${staged.name} stalled and fsck removed its archive meanwhile; import again`, { name: staged.name });
        }
        const existing = await latestOf(ctx, staged.name);
        checkSameType(staged.name, staged.type, existing);
        const done = await register(ctx, { ...staged, existing });
        state.registered = true;
        await keepOrUndo(ctx, staged, done.modelUid);
        return done.table;
      },
      opts.lockWaitMs === undefined ? {} : { waitMs: opts.lockWaitMs },
    );
  } catch (e) {
    await staged.lease.release().catch(() => undefined);
    throw importError(e);
  }
}

/**
 * The record is written; releasing the upload lease hands the objects over to
 * it. If the lease was taken meanwhile (this import stalled past it, and a
 * fsck decided it was dead), that fsck may have removed the objects: wait for
 * the lease, look, and keep the record only if both objects are intact, so an
 * `ok` never names a missing archive.
 */
async function keepOrUndo(ctx: EngineContext, staged: StagedImport, modelUid: string): Promise<void> {
  if (await staged.lease.release()) return;
  const again = await acquireLease(ctx, LEASE_SCOPE, uploadLease(staged.uid), { ttlMs: LEASE_TTL_MS, waitMs: 2 * LEASE_TTL_MS, what: staged.name });
  try {
    const [archive, manifest] = await Promise.all([ctx.objects.stat(staged.key), ctx.objects.stat(manifestKey(staged.uid))]);
    if (archive?.size === staged.report.size && manifest) return;
    await ctx.meta.deleteModel(staged.uid);
    const rest = await ctx.meta.findModels({ filter: F.and(F.eq('model_uid', modelUid), F.eq('state', 'ACTIVE')), sort: [['version', -1]], limit: 1 });
    if (rest[0] && !rest[0].latest) await ctx.meta.updateModel(rest[0].uid, { latest: true });
    throw new MlmodelError('CONFLICT', `the import of ${staged.name} stalled and fsck removed its archive meanwhile; import again`, { name: staged.name });
  } finally {
    await again.release();
  }
}

/** Removes a staged import's objects (its record was never written). */
export async function discardImport(ctx: EngineContext, staged: StagedImport): Promise<void> {
  await removeUnlessRecorded(ctx, staged.uid);
  await staged.lease.release().catch(() => undefined);
}

/**
 * Removes a failed import's objects only once it is certain that no record
 * names them. A write whose answer was lost (the metadata store died after
 * committing it: PostgreSQL killed under FerretDB) may have registered the
 * version all the same; removing its archive then left a record without one
 * (found by test/integration/restart-pg-servers.test.ts). If the store cannot
 * be asked, the objects stay: fsck removes them as orphans once their lease
 * is dead, and only if no record points to them.
 */
async function removeUnlessRecorded(ctx: EngineContext, uid: string): Promise<void> {
  const recorded = await ctx.meta.getModel(uid).then(
    (r) => r !== null,
    () => true,
  );
  if (!recorded) await removeObjects(ctx, uid);
}

async function removeObjects(ctx: EngineContext, uid: string): Promise<void> {
  await Promise.allSettled([ctx.objects.delete(archiveKey(uid)), ctx.objects.delete(manifestKey(uid))]);
}

function importError(e: unknown): MlmodelError {
  return isMlmodelError(e) ? e : new MlmodelError('INTERNAL', `import failed: ${(e as Error).message}`, {}, { cause: e });
}

function checkSameType(name: string, type: string, existing: ModelRecord | undefined): void {
  if (existing && existing.type !== type) {
    throw new MlmodelError('CONFLICT', `${name} is a ${existing.type} model; a new version must be ${existing.type} too, not ${type}`, {
      name,
    });
  }
}

async function latestOf(ctx: EngineContext, name: string): Promise<ModelRecord | undefined> {
  const [r] = await ctx.meta.findModels({
    filter: F.and(F.eq('user', ctx.user), F.eq('name', name), F.eq('latest', true), F.eq('state', 'ACTIVE')),
    limit: 1,
  });
  return r;
}

interface Registration {
  uid: string;
  key: string;
  name: string;
  type: (typeof MODEL_TYPES)[number];
  o: Partial<Record<string, string>>;
  report: ArchiveReport;
  run: number | null;
  existing: ModelRecord | undefined;
}

async function register(ctx: EngineContext, r: Registration): Promise<{ table: ResultTable; modelUid: string }> {
  // The name's claim maps it to the model: whoever claims a new name first
  // creates the model, and everyone else adds versions to that one.
  const fresh = ctx.newUid();
  const modelUid = await claimModelName(ctx, ctx.user, r.name, fresh, finishStaleDelete);
  try {
    return await registerAs(ctx, r, modelUid);
  } catch (e) {
    // A name this import claimed for a new model goes back if the model was not made.
    if (modelUid === fresh) await ctx.meta.releaseName(nameScope(ctx.user), r.name, fresh).catch(() => undefined);
    throw e;
  }
}

/**
 * A model whose delete died half-way still holds its records (out of sight)
 * under the name: the next command that claims the name finishes that delete
 * first, as fsck would, so its numbers do not clash with the dead ones.
 */
export async function finishStaleDelete(ctx: EngineContext, modelUid: string): Promise<void> {
  const records = await allRecordsOf(ctx, modelUid);
  // Only a model whose delete had begun (its latest record marked): a model that
  // is alive under another name (a rename that died half-way) keeps everything.
  const head = records.find((r) => r.latest && r.state === 'DELETING');
  if (head) await finishDelete(ctx, modelUid, [...records.filter((r) => r !== head), head], true);
}

async function registerAs(ctx: EngineContext, r: Registration, modelUid: string): Promise<{ table: ResultTable; modelUid: string }> {
  const version = await ctx.meta.claimNext(`version:${modelUid}`, r.uid);
  const id = await ctx.meta.claimNext('model-id', r.uid);
  const now = ctx.now();
  const record: ModelRecord = {
    uid: r.uid,
    model_uid: modelUid,
    id,
    user: ctx.user,
    name: r.name,
    version,
    type: r.type,
    category: r.o.category ?? r.existing?.category ?? null,
    algorithm: r.o.algorithm ?? r.existing?.algorithm ?? null,
    format: r.report.format,
    filename: r.report.filename,
    serving: r.existing?.serving ?? 'off',
    serving_name: r.existing?.serving_name ?? null,
    state: 'ACTIVE',
    latest: true,
    create: r.existing?.create ?? now,
    modified: now,
    imported: now,
    size: r.report.size,
    sha256: r.report.sha256,
    object_key: r.key,
    tags: [],
    options: { ...recordedOptions(r.o), ...(r.run === null ? {} : { run: r.run }) },
  };
  await ctx.meta.insertModel(record);
  await settleLatest(ctx, modelUid, version, r.uid);
  return { table: { columns: IMPORT_COLUMNS, rows: [['ok', r.name, version, r.report.size, r.report.sha256]] }, modelUid };
}

/**
 * Exactly one version stays `latest` however imports interleave: each new
 * version clears older ones, and steps back itself if a newer one already
 * exists (it may have been written before this one's clear could see it).
 *
 * Under the model's lock, as tag, rename, deploy and stop write its records:
 * FerretDB v1 applies an update as read-then-write of the whole document, so
 * clearing `latest` on the version a tag was just being added to dropped the
 * tag (an acknowledged tag lost, found by writers importing and tagging one
 * model at once, test/integration/restart-pg-servers.test.ts).
 */
export async function settleLatest(ctx: EngineContext, modelUid: string, version: number, uid: string, opts: { readonly mark?: boolean } = {}): Promise<void> {
  await withLock(ctx, `model:${modelUid}`, { what: `model ${modelUid}` }, async () => {
    // A publish whose records were written with latest=false marks its newest one here, under the same lock.
    if (opts.mark) await ctx.meta.updateModel(uid, { latest: true });
    // Version 1 has no older version to clear.
    if (version > 1) await ctx.meta.updateModels(F.and(F.eq('model_uid', modelUid), F.lt('version', version), F.eq('latest', true)), { latest: false });
    const newer = await ctx.meta.countModels(F.and(F.eq('model_uid', modelUid), F.gt('version', version)));
    if (newer > 0) await ctx.meta.updateModel(uid, { latest: false });
  });
}

function recordedOptions(o: Partial<Record<string, string>>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const field of OPTION_FIELDS) {
    const v = o[field];
    if (v === undefined) continue;
    if (NUMERIC_OPTIONS.has(field) && v.trim() !== '' && Number.isFinite(Number(v))) out[field] = Number(v);
    else if (JSON_OPTIONS.has(field)) out[field] = parseJsonish(v);
    else out[field] = v;
  }
  return out;
}

/** Structured options are kept as JSON when they are JSON, and as the text given otherwise. */
function parseJsonish(text: string): JsonValue {
  try {
    const v = JSON.parse(text) as JsonValue;
    return typeof v === 'object' && v !== null ? v : text;
  } catch {
    return text;
  }
}

export const importCommand = defineCommand({
  syntax,
  summary: 'Loads a tar archive (optionally gzip-compressed) as a new model, or a new version of one. name, type and path are required.',
  examples: [
    'mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep path=OBJECTSTORAGE.MINIO:models/mnist.tar',
    'mlmodel import name=iris type=sklearn path=/data/iris.tar.gz',
  ],
  notes: [
    'type: r (model.rda), sklearn (model.pkl), spark (data.parquet, metadata), tf (model.h5 or saved_model.pb), onnx (model.onnx).',
    'path: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<absolute path> or an absolute path.',
  ],
  columns: IMPORT_COLUMNS,
  writes: true,
  execute: executeImport,
});
