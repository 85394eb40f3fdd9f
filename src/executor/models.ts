import type { ModelRef } from '../../grammar/ast.js';
import { printModelRef } from '../../grammar/printer.js';
import { nearest } from '../../grammar/suggest.js';
import { readModelRef } from '../../grammar/visitor.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { F } from '../store/filter.js';
import type { ModelRecord } from '../store/metadata.js';
import { withModelLock } from '../engine/lock.js';

/** Scope of the name claims that map a user's model name to its model_uid. */
export const nameScope = (user: string) => `model-name:${user}`;
/** Scope of the name claims that register which aliases a model has. */
export const aliasScope = (modelUid: string) => `aliases:${modelUid}`;
/**
 * An alias's history as a claimed sequence: each claim's owner is the version
 * it points to (ALIAS_REMOVED once removed), and the highest claim is current. Moving an
 * alias is one insert under a unique index, so it is atomic on every store,
 * and concurrent moves are ordered by the index.
 */
export const aliasSequence = (modelUid: string, alias: string) => `alias:${modelUid}:${alias}`;
/** The owner of an alias claim that removes it. */
export const ALIAS_REMOVED = '-';

/** The version an alias points to now, or null. */
export async function aliasTarget(ctx: EngineContext, modelUid: string, alias: string): Promise<number | null> {
  const seq = aliasSequence(modelUid, alias);
  const n = await ctx.meta.lastClaimed(seq);
  if (n === 0) return null;
  const owner = await ctx.meta.claimOwner(seq, n);
  return owner && owner !== ALIAS_REMOVED ? Number(owner) : null;
}

const LIVE = F.eq('state', 'ACTIVE');

/**
 * The record a reference names: the latest version, `@N`, or the version an
 * alias points to. `owner/name` names another user's model explicitly.
 * Reads look at the current user's models first and then at a model of that
 * name owned by exactly one other user; writes (`forWrite`) only ever touch
 * the current user's own models, unless the user is an admin naming another
 * user's model as `owner/name`.
 */
export async function resolveModel(ctx: EngineContext, ref: ModelRef, opts: { forWrite?: boolean } = {}): Promise<ModelRecord> {
  const slash = ref.name.indexOf('/');
  const name = slash > 0 ? ref.name.slice(slash + 1) : ref.name;
  const owner = slash > 0 ? ref.name.slice(0, slash) : ctx.user;
  if (opts.forWrite && owner !== ctx.user && !ctx.admin) {
    throw new MlmodelError('MODEL_NOT_FOUND', `no model of yours called ${ref.name}: only ${owner} or an admin may change ${owner}'s models`, {
      name: ref.name,
    });
  }
  let latest = await ctx.meta.findModels({ filter: F.and(F.eq('user', owner), F.eq('name', name), F.eq('latest', true), LIVE), limit: 1 });
  if (latest.length === 0 && !opts.forWrite && slash <= 0) {
    const others = await ctx.meta.findModels({ filter: F.and(F.eq('name', name), F.eq('latest', true), LIVE), limit: 2 });
    if (others.length > 1) {
      throw new MlmodelError('CONFLICT', `several users have a model called ${name}; you have none (name one as owner/${name})`, { name });
    }
    latest = others;
  }
  const head = latest[0];
  if (!head) {
    const mine = opts.forWrite && slash <= 0 ? ' of yours' : '';
    const suggestion = await nearestName(ctx, name, opts.forWrite || slash > 0 ? owner : null);
    const hint = suggestion === undefined ? '' : `; did you mean ${slash > 0 ? `${owner}/` : ''}${suggestion}?`;
    throw new MlmodelError('MODEL_NOT_FOUND', `no model${mine} called ${ref.name}${hint}`, { name: ref.name, ...(suggestion === undefined ? {} : { suggestion }) });
  }
  if (ref.version === undefined && ref.alias === undefined) return head;

  let version = ref.version;
  if (ref.alias !== undefined) {
    const target = await aliasTarget(ctx, head.model_uid, ref.alias);
    if (target === null) throw new MlmodelError('MODEL_NOT_FOUND', `${ref.name} has no alias ${ref.alias}`, { name: ref.name, alias: ref.alias });
    version = target;
  }
  const found = await ctx.meta.findModels({ filter: F.and(F.eq('model_uid', head.model_uid), F.eq('version', version!), LIVE), limit: 1 });
  if (!found[0]) {
    throw new MlmodelError('MODEL_NOT_FOUND', `${printModelRef(ref)}: ${ref.name} has versions 1 to ${head.version}`, {
      name: ref.name,
      version,
    });
  }
  return found[0];
}

/** Every live version of a model, oldest first. */
export function versionsOf(ctx: EngineContext, modelUid: string): Promise<ModelRecord[]> {
  return ctx.meta.findModels({ filter: F.and(F.eq('model_uid', modelUid), LIVE), sort: [['version', 1]] });
}

/** How many model names a "did you mean" looks through: a miss costs one bounded read. */
const SUGGESTION_SCAN = 5000;

/** The model name nearest to a mistyped one (`owner`'s models, or everyone's for a read), if one is near enough. */
async function nearestName(ctx: EngineContext, name: string, owner: string | null): Promise<string | undefined> {
  const heads = await ctx.meta.findModels({ filter: F.and(...(owner === null ? [] : [F.eq('user', owner)]), F.eq('latest', true), LIVE), limit: SUGGESTION_SCAN });
  return nearest(name, [...new Set(heads.map((r) => r.name))]);
}

/** A model reference given as an option or flag value (`export name=mnist@2`, `serve --model mnist@2`). */
export function parseModelRefText(text: string): ModelRef {
  const { ref, problem } = readModelRef(text);
  if (problem) throw new MlmodelError('INVALID_ARGUMENT', problem.message, { name: text });
  return ref;
}

/**
 * Resolves `ref` for a write, then runs `fn` holding the lock of the model's
 * (user, name) with the model resolved again under it: a delete, rename,
 * deploy or stop acts only on what the name means once it has the lock, and
 * `MODEL_NOT_FOUND` if the model was renamed or deleted while it waited.
 */
export async function withResolvedModel<T>(ctx: EngineContext, ref: ModelRef, fn: (record: ModelRecord) => Promise<T>, extraNames: readonly string[] = []): Promise<T> {
  const found = await resolveModel(ctx, ref, { forWrite: true });
  return withModelLock(ctx, found.user, [found.name, ...extraNames], async () => {
    const record = await resolveModel(ctx, ref, { forWrite: true }).catch(() => null);
    if (!record || record.model_uid !== found.model_uid) {
      throw new MlmodelError('MODEL_NOT_FOUND', `${ref.name} was renamed or deleted meanwhile`, { name: ref.name });
    }
    return fn(record);
  });
}

/**
 * Claims `user`'s model name `name` for `modelUid`, holding the name's lock
 * (withModelLock). Returns the model that owns the name afterwards: this one,
 * or the live model that already has it. A claim whose model has no live
 * latest version under that name is left by a command that died half-way (a
 * first import before its record, a rename before its records changed): it
 * is taken over, since under the lock nobody else can be finishing it.
 */
export async function claimModelName(
  ctx: EngineContext,
  user: string,
  name: string,
  modelUid: string,
  /** Finishes the interrupted delete of a model that still holds the name (executor/import.ts). */
  finishStale: (ctx: EngineContext, modelUid: string) => Promise<void>,
): Promise<string> {
  const scope = nameScope(user);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await ctx.meta.claimName(scope, name, modelUid)) return modelUid;
    const claim = await ctx.meta.getClaim(scope, name);
    if (!claim) continue;
    if (claim.owner === modelUid) return modelUid;
    const live = await ctx.meta.countModels(F.and(F.eq('model_uid', claim.owner), F.eq('user', user), F.eq('name', name), F.eq('latest', true), LIVE));
    if (live > 0) return claim.owner;
    await finishStale(ctx, claim.owner);
    await ctx.meta.releaseName(scope, name, claim.owner);
  }
  throw new MlmodelError('CONFLICT', `the name ${name} keeps changing hands; try again`, { name });
}
