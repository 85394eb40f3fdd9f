import { Readable } from 'node:stream';
import { storeArchive, discardImport, finishStaleDelete, settleLatest, type StagedImport } from '../commands/import.js';
import { finishDelete } from '../commands/delete.js';
import { aliasesOf } from '../commands/alias.js';
import type { EngineContext } from '../engine/context.js';
import { withModelLock } from '../engine/lock.js';
import { MlmodelError } from '../errors.js';
import { aliasScope, aliasSequence, claimModelName, nameScope } from '../executor/models.js';
import { checkModelName } from '../executor/names.js';
import { servingHistoryKey } from '../executor/object-keys.js';
import { bytesCol, type Cell, col, type ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { importedFallback, type ModelRecord } from '../store/metadata.js';
import { encodeJson, type DeploymentFacts, type VersionFacts } from './bundle-format.js';
import type { BundleSection, ModelFacts } from './bundle-format.js';

export const UNBUNDLE_COLUMNS = [col('result', 'TEXT'), col('name', 'TEXT'), col('version', 'LONG'), bytesCol('size'), col('sha256', 'TEXT'), col('note', 'TEXT')];

/**
 * Owners of version-number claims that a bundle's import makes: a number
 * claimed for a version whose record was never written (the import died in
 * between) or for a gap (a version the source deleted) is one only a
 * bundle's import may take again, under the model's lock. A number whose
 * claim names any other owner belonged to a version of this registry.
 */
const BUNDLE_CLAIM = 'bundle:';
const BUNDLE_GAP = 'bundle-gap';
const isBundleClaim = (owner: string | null) => owner === BUNDLE_GAP || (owner?.startsWith(BUNDLE_CLAIM) ?? false);

/** One version to publish: its checked facts, and its archive's bytes (checked again against the facts as they are stored). */
export interface Wanted {
  readonly facts: VersionFacts;
  open(): Promise<Readable>;
}

/**
 * What publishing needs: checked facts and a way to each archive — a bundle's
 * (unbundle streams its archives while it reads it: stream-bundle.ts), an MLflow registry's (mlflow-import.ts) or
 * another registry's object store (sync.ts).
 */
export interface PublishSource {
  readonly model: ModelFacts;
  readonly deployments: readonly DeploymentFacts[];
  /** Sections the source held that are not known here: reported as not carried over. */
  readonly skipped: readonly BundleSection[];
  readonly versions: readonly Wanted[];
}

type Plan = { kind: 'new' } | { kind: 'existing'; head: ModelRecord };

/** A version or alias of a source that the registry holds otherwise: never overwritten. */
export interface PublishConflict {
  readonly version: number | null;
  /** The alias in conflict, for an alias's. */
  readonly alias?: string;
  readonly note: string;
}

/** The facts `compareVersions` needs: records alone, so a model already here costs no object request. */
export interface ComparedSource {
  readonly model: Pick<PublishSource['model'], 'type' | 'aliases'>;
  readonly versions: ReadonlyArray<{ readonly facts: Pick<VersionFacts, 'version' | 'sha256'> }>;
}

/**
 * Publishes a checked bundle as `name` (the bundle's own name unless given),
 * owned by the current user, following docs/reliability.md's protocol:
 *
 * 1. every missing version's archive is streamed through inspection into the
 *    object store under a fresh uid, refused unless its bytes are the ones the
 *    bundle's record names (and its format and main file the same), with its
 *    serving history beside it; upload leases keep fsck off them;
 * 2. under the lock of (user, name), conflicts are looked for again — a
 *    version number that exists here with other bytes, an alias here that
 *    points elsewhere — and any one refuses the whole bundle;
 * 3. records last. A new model becomes visible in one write: its newest
 *    record is written first marked DELETING (what an interrupted delete
 *    leaves, so fsck, or the next command claiming the name, removes
 *    everything if this import dies), the others and the aliases after it,
 *    then the one write that makes it ACTIVE. Versions added to an existing
 *    model are written one by one, each complete; a rerun adds the rest.
 *
 * Version numbers are the bundle's: gaps the source had stay gaps. On any
 * failure the staged objects and the records written so far are removed.
 */
export async function publishBundle(ctx: EngineContext, bundle: PublishSource, opts: { name?: string } = {}): Promise<ResultTable> {
  const name = checkModelName(opts.name ?? bundle.model.name);
  // A first look without the lock decides what to stage; it is looked at again under the lock.
  const first = refuseConflicts(name, await compareVersions(ctx, name, bundle));
  if (first.missing.length === 0) return publishedRows(name, bundle, new Set());
  const staged = new Map<number, StagedImport>();
  try {
    for (const w of first.missing) staged.set(w.facts.version, await stageVersion(ctx, name, bundle, w));
  } catch (e) {
    for (const s of staged.values()) await discardStaged(ctx, s).catch(() => undefined);
    throw e;
  }
  return commitStaged(ctx, name, bundle, staged);
}

/** The rows of a publish: each version imported (in `done`) or present, then the sections not carried over. */
export function publishedRows(name: string, bundle: Pick<PublishSource, 'versions' | 'skipped'>, done: ReadonlySet<number>): ResultTable {
  return {
    columns: UNBUNDLE_COLUMNS,
    rows: [
      ...bundle.versions.map((w) => [done.has(w.facts.version) ? 'imported' : 'present', name, w.facts.version, w.facts.size, w.facts.sha256, done.has(w.facts.version) ? null : 'already here with the same sha256'] as Cell[]),
      ...bundle.skipped.map((s) => ['skipped', name, null, null, null, `section ${s.type} (schema ${s.schema}) is not known here: not carried over`] as Cell[]),
    ],
  };
}

/** The first look, without the lock: the versions to stage (CONFLICT, as the bundle is refused whole, if any conflicts). */
export async function versionsToStage<W extends ComparedSource['versions'][number]>(ctx: EngineContext, name: string, source: { readonly model: ComparedSource['model']; readonly versions: readonly W[] }): Promise<W[]> {
  return refuseConflicts(name, await compareVersions(ctx, name, source)).missing;
}

/** A staged version's objects gone (archive, its manifest, its serving history) and its lease released. */
export async function discardStaged(ctx: EngineContext, s: StagedImport): Promise<void> {
  await ctx.objects.delete(servingHistoryKey(s.uid)).catch(() => undefined);
  await discardImport(ctx, s);
}

/**
 * Steps 2 and 3 for archives already staged (by version): under the lock,
 * conflicts looked for again, then the records. Every staged object is
 * discarded on failure, and those of versions not published.
 */
export async function commitStaged(ctx: EngineContext, name: string, bundle: PublishSource, staged: ReadonlyMap<number, StagedImport>): Promise<ResultTable> {
  try {
    const added = await withModelLock(ctx, ctx.user, [name], async () => {
      for (const s of staged.values()) {
        if (!(await s.lease.renew())) throw new MlmodelError('CONFLICT', `the import of ${name} stalled and fsck removed its archives meanwhile; run it again`, { name });
      }
      const now = refuseConflicts(name, await compareVersions(ctx, name, bundle));
      const todo = now.missing.filter((w) => staged.has(w.facts.version));
      if (todo.length !== now.missing.length) throw new MlmodelError('CONFLICT', `${name} changed while the bundle was read; run it again`, { name });
      if (todo.length === 0) return new Set<number>();
      if (now.plan.kind === 'new') await publishNew(ctx, name, bundle, todo, staged);
      else await publishMore(ctx, now.plan.head, bundle, todo, staged);
      return new Set(todo.map((w) => w.facts.version));
    });
    for (const [v, s] of staged) if (!added.has(v)) await discardStaged(ctx, s);
    for (const v of added) await staged.get(v)!.lease.release();
    return publishedRows(name, bundle, added);
  } catch (e) {
    // Records written by this import are gone by now (publishNew/publishMore undo theirs); its objects go too.
    for (const s of staged.values()) await discardStaged(ctx, s).catch(() => undefined);
    throw e;
  }
}

/** A bundle is taken whole or not at all: CONFLICT naming every conflict, if there is one. */
function refuseConflicts<W>(name: string, c: { plan: Plan; missing: W[]; conflicts: PublishConflict[]; typeConflict: boolean }): { plan: Plan; missing: W[] } {
  const notes = c.conflicts.map((x) => x.note);
  if (notes.length > 0) {
    throw new MlmodelError('CONFLICT', c.typeConflict ? notes[0]! : `bundle refused, nothing was imported: ${notes.slice(0, 5).join('; ')}${notes.length > 5 ? ` (and ${notes.length - 5} more)` : ''}`, { name, conflicts: notes });
  }
  return c;
}

/**
 * Which of the source's versions the registry lacks under `name` (the
 * current user's), and every version or alias it holds otherwise: a version
 * number here with other bytes, a number used here by a version since
 * deleted, an alias here pointing elsewhere — or, alone, a model of another
 * type. Reads records and claims only.
 */
/** How conflict notes name the two sides: this registry (`here`) and the source (`theirs`, possessive; `it` as a subject). */
export interface ConflictWords {
  readonly here: string;
  readonly theirs: string;
  readonly it: string;
}
const BUNDLE_WORDS: ConflictWords = { here: 'here', theirs: "the bundle's", it: 'the bundle' };

export async function compareVersions<W extends ComparedSource['versions'][number]>(
  ctx: EngineContext,
  name: string,
  source: { readonly model: ComparedSource['model']; readonly versions: readonly W[] },
  words: ConflictWords = BUNDLE_WORDS,
): Promise<{ plan: Plan; missing: W[]; conflicts: PublishConflict[]; typeConflict: boolean }> {
  const [head] = await ctx.meta.findModels({ filter: F.and(F.eq('user', ctx.user), F.eq('name', name), F.eq('latest', true), F.eq('state', 'ACTIVE')), limit: 1 });
  if (!head) return { plan: { kind: 'new' }, missing: [...source.versions], conflicts: [], typeConflict: false };
  if (head.type !== source.model.type) {
    return { plan: { kind: 'existing', head }, missing: [], conflicts: [{ version: null, note: `${name} is a ${head.type} model ${words.here}; ${words.it} holds a ${source.model.type} model` }], typeConflict: true };
  }
  const here = new Map((await ctx.meta.findModels({ filter: F.eq('model_uid', head.model_uid) })).map((r) => [r.version, r]));
  const seq = `version:${head.model_uid}`;
  const conflicts: PublishConflict[] = [];
  const missing: W[] = [];
  for (const w of source.versions) {
    const v = w.facts.version;
    const r = here.get(v);
    if (r) {
      if (r.state !== 'ACTIVE' || r.sha256 !== w.facts.sha256) conflicts.push({ version: v, note: `${name}@${v} is ${words.here} with sha256 ${r.sha256}, ${words.theirs} has ${w.facts.sha256}` });
      continue;
    }
    // A number used here before (a version since deleted) is never used again.
    if (v <= (await ctx.meta.lastClaimed(seq)) && !isBundleClaim(await ctx.meta.claimOwner(seq, v))) conflicts.push({ version: v, note: `${name}@${v} was a version ${words.here} (since deleted); its number is not used again` });
    else missing.push(w);
  }
  const aliases = new Map((await aliasesOf(ctx, head.model_uid)).map((a) => [a.alias, a.version]));
  for (const a of source.model.aliases) {
    const at = aliases.get(a.alias);
    if (at !== undefined && at !== a.version) conflicts.push({ version: null, alias: a.alias, note: `alias ${a.alias} points at ${name}@${at} ${words.here}, ${words.theirs} at @${a.version}` });
  }
  return { plan: { kind: 'existing', head }, missing, conflicts, typeConflict: false };
}

/** Stores one version's archive (its bytes must be the bundle record's) and its serving history, under a fresh uid. */
async function stageVersion(ctx: EngineContext, name: string, bundle: PublishSource, w: Wanted): Promise<StagedImport> {
  const s = await stageArchive(ctx, name, bundle.model.type, w.facts, await w.open());
  try {
    await checkStaged(ctx, s, w.facts, bundle.deployments);
    return s;
  } catch (e) {
    await discardStaged(ctx, s);
    throw e;
  }
}

/** A version's archive streamed through inspection into the store under a fresh uid and lease, refused unless its bytes are `facts`' size and sha256. */
export function stageArchive(ctx: EngineContext, name: string, type: PublishSource['model']['type'], facts: Pick<VersionFacts, 'size' | 'sha256'>, stream: Readable): Promise<StagedImport> {
  return storeArchive(ctx, { name, type, o: {}, source: { stream, size: facts.size }, expect: { size: facts.size, sha256: facts.sha256 } });
}

/** A staged archive holds the model its record says (format, main file); its serving history goes beside it. The caller discards it on failure. */
export async function checkStaged(ctx: EngineContext, s: StagedImport, f: VersionFacts, deployments: readonly DeploymentFacts[]): Promise<void> {
  if (s.report.format !== f.format || s.report.filename !== f.filename) {
    throw new MlmodelError('ARCHIVE_INVALID', `bundle version ${f.version}: its record says a ${String(f.format)} model in ${String(f.filename)}, the archive holds a ${s.report.format} model in ${s.report.filename}`, {
      reason: 'manifest-mismatch',
      version: f.version,
    });
  }
  const history = deployments.filter((d) => d.model_version === f.version);
  if (history.length > 0) await ctx.objects.put(servingHistoryKey(s.uid), Readable.from([encodeJson({ deployments: history })]));
}

function recordFor(ctx: EngineContext, modelUid: string, name: string, bundle: PublishSource, w: Wanted, s: StagedImport, id: number): ModelRecord {
  const f = w.facts;
  return {
    uid: s.uid,
    model_uid: modelUid,
    id,
    user: ctx.user,
    name,
    version: f.version,
    type: bundle.model.type,
    category: f.category,
    algorithm: f.algorithm,
    format: s.report.format,
    filename: s.report.filename,
    serving: 'off',
    serving_name: null,
    state: 'ACTIVE',
    latest: false,
    create: new Date(f.create),
    modified: new Date(f.modified),
    imported: f.imported === undefined ? importedFallback({ version: f.version, create: new Date(f.create), modified: new Date(f.modified) }) : new Date(f.imported),
    size: s.report.size,
    sha256: s.report.sha256,
    object_key: s.key,
    tags: [...f.tags],
    options: f.options,
  };
}

/**
 * Claims the numbers of `todo` (oldest first) in the model's version
 * sequence: numbers past the last claimed are claimed, gaps included; a
 * number at or below it was left by a bundle's import that died (checked by
 * missingVersions) and is taken as it is.
 */
async function claimVersions(ctx: EngineContext, modelUid: string, todo: readonly Wanted[], staged: ReadonlyMap<number, StagedImport>): Promise<void> {
  const seq = `version:${modelUid}`;
  const wanted = new Set(todo.map((w) => w.facts.version));
  const top = Math.max(...wanted);
  for (let n = (await ctx.meta.lastClaimed(seq)) + 1; n <= top; n++) {
    const got = await ctx.meta.claimNext(seq, wanted.has(n) ? `${BUNDLE_CLAIM}${staged.get(n)!.uid}` : BUNDLE_GAP);
    if (got !== n) throw new MlmodelError('CONFLICT', `version ${n} of the model was claimed by another command meanwhile; run it again`, { version: n });
  }
}

async function publishNew(ctx: EngineContext, name: string, bundle: PublishSource, todo: readonly Wanted[], staged: ReadonlyMap<number, StagedImport>): Promise<void> {
  const fresh = ctx.newUid();
  const modelUid = await claimModelName(ctx, ctx.user, name, fresh, finishStaleDelete);
  if (modelUid !== fresh) throw new MlmodelError('CONFLICT', `${name} was created by another command meanwhile; run it again`, { name });
  const written: ModelRecord[] = [];
  try {
    await claimVersions(ctx, modelUid, todo, staged);
    const newest = todo.at(-1)!;
    // The newest first, marked as a delete in progress: until the last write
    // below nobody sees the model, and if this dies fsck removes it whole.
    const head = { ...recordFor(ctx, modelUid, name, bundle, newest, staged.get(newest.facts.version)!, await ctx.meta.claimNext('model-id', staged.get(newest.facts.version)!.uid)), state: 'DELETING' as const, latest: true };
    await ctx.meta.insertModel(head);
    written.push(head);
    for (const w of todo.slice(0, -1)) {
      const s = staged.get(w.facts.version)!;
      const r = recordFor(ctx, modelUid, name, bundle, w, s, await ctx.meta.claimNext('model-id', s.uid));
      await ctx.meta.insertModel(r);
      written.unshift(r);
    }
    for (const a of bundle.model.aliases) {
      await ctx.meta.claimName(aliasScope(modelUid), a.alias, 'alias');
      await ctx.meta.claimNext(aliasSequence(modelUid, a.alias), String(a.version));
    }
    for (const s of staged.values()) {
      if (!(await s.lease.renew())) throw new MlmodelError('CONFLICT', `the import of ${name} stalled and fsck removed its archives meanwhile; run it again`, { name });
    }
    // The one write that makes every version visible at once.
    const live = await ctx.meta.updateModel(head.uid, { state: 'ACTIVE' }, F.eq('state', 'DELETING'));
    if (!live) throw new MlmodelError('CONFLICT', `the import of ${name} was taken for an interrupted delete and removed meanwhile; run it again`, { name });
  } catch (e) {
    // As an interrupted delete would be finished: the marked head last.
    await finishDelete(ctx, modelUid, written, true).catch(() => undefined);
    await ctx.meta.releaseName(nameScope(ctx.user), name, modelUid).catch(() => undefined);
    throw e;
  }
}

async function publishMore(ctx: EngineContext, head: ModelRecord, bundle: PublishSource, todo: readonly Wanted[], staged: ReadonlyMap<number, StagedImport>): Promise<void> {
  const written: ModelRecord[] = [];
  try {
    await claimVersions(ctx, head.model_uid, todo, staged);
    for (const w of todo) {
      const s = staged.get(w.facts.version)!;
      const r = recordFor(ctx, head.model_uid, head.name, bundle, w, s, await ctx.meta.claimNext('model-id', s.uid));
      await ctx.meta.insertModel(r);
      written.push(r);
    }
    for (const a of bundle.model.aliases) {
      await ctx.meta.claimName(aliasScope(head.model_uid), a.alias, 'alias');
      const seq = aliasSequence(head.model_uid, a.alias);
      const owner = await ctx.meta.claimOwner(seq, await ctx.meta.lastClaimed(seq));
      if (owner !== String(a.version)) await ctx.meta.claimNext(seq, String(a.version));
    }
    const newest = written.at(-1)!;
    if (newest.version > head.version) {
      await ctx.meta.updateModel(newest.uid, { latest: true });
      await settleLatest(ctx, head.model_uid, newest.version, newest.uid);
    }
  } catch (e) {
    await finishDelete(ctx, head.model_uid, written, false).catch(() => undefined);
    await settleLatest(ctx, head.model_uid, head.version, head.uid).catch(() => undefined);
    await ctx.meta.updateModel(head.uid, { latest: true }).catch(() => undefined);
    throw e;
  }
}
