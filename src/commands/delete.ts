import { defineCommand, type CommandAst } from './command.js';
import { TRITON_CONFIG } from '../serving/triton-config.js';
import { SERVING_FAILURE_SCOPE, servingFailureKey } from '../serving/serving-failure.js';
import { LIST_COLUMNS } from './list.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import type { ModelRecord } from '../store/metadata.js';
import { executeList } from './list.js';
import { nameScope, versionsOf, withResolvedModel } from '../executor/models.js';
import { objectPrefix } from '../executor/object-keys.js';
import { deletePrefix } from '../store/prefix.js';
import { withLock } from '../engine/lock.js';
import { deployLease, isFresh, LEASE_SCOPE } from '../engine/lease.js';
import { releaseServingNames } from '../serving/names.js';

const syntax = { keywords: ['delete'], args: [{ kind: 'model' }] } as const;

export type DeleteCommand = CommandAst<typeof syntax>;

/**
 * Deletes a model (every version) or one version (`NAME@N`), refusing while
 * it is served or being deployed. Under the lock of the model's (user, name),
 * so no import, deploy or rename of that name runs meanwhile.
 *
 * A user sees a delete happen in one step: one write marks the latest record
 * DELETING, and every read (list, summary, versions, resolving a name) goes
 * through the latest live record, so all versions disappear at once. The name
 * is let go once its records are gone, so a new import of it then makes a
 * new model. In between the model's serving directories, objects and records
 * go, the marked record last; an interrupted delete leaves that marked
 * record, and fsck (or the next import or rename to the name) finishes it.
 */
export async function executeDelete(ctx: EngineContext, cmd: DeleteCommand): Promise<ResultTable> {
  await withResolvedModel(ctx, cmd.model, async (record) => {
    await checkNotServed(ctx, record);
    const versions = await versionsOf(ctx, record.model_uid);
    const whole = (cmd.model.version === undefined && cmd.model.alias === undefined) || versions.length === 1;
    if (!whole) {
      // One version of several: it goes out of sight, and if it was the latest the
      // next newest takes over (two writes; between them the model is briefly not
      // listed rather than listed twice).
      await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, async () => {
        await ctx.meta.updateModel(record.uid, { state: 'DELETING', latest: false, modified: ctx.now() });
        if (record.latest) await ctx.meta.updateModel(versions.filter((v) => v.uid !== record.uid).at(-1)!.uid, { latest: true });
      });
      await finishDelete(ctx, record.model_uid, [record], false);
      return;
    }
    // The one step everybody sees: the latest record marked, every version out of sight.
    const head = versions.find((v) => v.latest) ?? record;
    await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, () => ctx.meta.updateModel(head.uid, { state: 'DELETING', modified: ctx.now() }));
    // Still under the name's lock (renewed however long this takes): the old
    // records keep their (user, name, version), so a new model of the name waits
    // until they are gone, then finds the name free.
    await finishDelete(ctx, record.model_uid, [...versions.filter((v) => v.uid !== head.uid), head], true);
    await ctx.meta.releaseName(nameScope(record.user), record.name, record.model_uid);
  });
  return executeList(ctx);
}

/**
 * Refuses to delete a model that is served, or that a live deploy is writing
 * (its serving directory would be left behind); marks FAILED a deploy whose
 * process died (its lease is not renewed).
 */
async function checkNotServed(ctx: EngineContext, record: ModelRecord): Promise<void> {
  const servings = await ctx.meta.findServings({ model_uid: record.model_uid, states: ['AVAILABLE', 'DEPLOYING'] });
  if (record.serving === 'on' || servings.some((s) => s.state === 'AVAILABLE')) {
    throw new MlmodelError('CONFLICT', `${record.name} is being served; stop it first (mlmodel stop ${record.name})`, { name: record.name });
  }
  for (const s of servings) {
    if (isFresh(await ctx.meta.getClaim(LEASE_SCOPE, deployLease(s.model_uid, s.version)))) {
      throw new MlmodelError('CONFLICT', `${record.name} is being deployed (serving version ${s.version}); wait for it, then stop it first`, { name: record.name });
    }
    await ctx.meta.setServingState({ model_uid: s.model_uid, version: s.version, states: ['DEPLOYING'] }, 'FAILED', ctx.now());
  }
}

export const deleteCommand = defineCommand({
  syntax,
  summary: 'Removes a model, every version and its stored archives (or one version, NAME@VERSION). A served model must be stopped first.',
  examples: ['mlmodel delete mnist_v1', 'mlmodel delete mnist_v1@2'],
  columns: LIST_COLUMNS,
  writes: true,
  execute: executeDelete,
});
/**
 * The part of a delete that nobody sees: serving directories (a whole model),
 * then each version's objects and record, the marked latest record last.
 * Idempotent, so fsck finishes an interrupted delete by calling it again.
 */
export async function finishDelete(ctx: EngineContext, modelUid: string, records: readonly ModelRecord[], whole: boolean): Promise<void> {
  if (whole) {
    const servings = await ctx.meta.findServings({ model_uid: modelUid });
    for (const s of servings) await ctx.serving.removeVersion(s.serving_name, s.version);
    // An onnx model's Triton config beside its versions, and the reasons its versions failed to load.
    for (const n of new Set(servings.map((s) => s.serving_name))) await ctx.serving.writeModelFile(n, TRITON_CONFIG, null);
    for (const s of servings) {
      const key = servingFailureKey(s.model_uid, s.version);
      const failure = await ctx.meta.getClaim(SERVING_FAILURE_SCOPE, key);
      if (failure) await ctx.meta.releaseName(SERVING_FAILURE_SCOPE, key, failure.owner);
    }
    await ctx.meta.deleteServings(modelUid);
    const names = [...servings.map((s) => s.serving_name), ...records.flatMap((r) => (r.serving_name === null ? [] : [r.serving_name]))];
    for (const r of records) await deleteVersion(ctx, r);
    // Last: a serving name is free for another model only once no directory is left under it.
    await releaseServingNames(ctx, modelUid, names);
    return;
  }
  for (const r of records) await deleteVersion(ctx, r);
}

/** A version's archive and everything stored beside it (its manifest) under `models/<uid>/`, then its record. */
async function deleteVersion(ctx: EngineContext, r: ModelRecord): Promise<void> {
  await ctx.objects.delete(r.object_key);
  await deletePrefix(ctx.objects, objectPrefix(r.uid));
  await ctx.meta.deleteModel(r.uid);
}

/** Every record of a model, live or marked, oldest first: what an unfinished whole delete still has to remove. */
export function allRecordsOf(ctx: EngineContext, modelUid: string): Promise<ModelRecord[]> {
  return ctx.meta.findModels({ filter: F.eq('model_uid', modelUid), sort: [['version', 1]] });
}
