import { defineCommand, type CommandAst } from './command.js';
import { LIST_COLUMNS } from './list.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import type { ModelRecord } from '../store/metadata.js';
import { executeList } from './list.js';
import { nameScope, resolveModel, versionsOf } from '../executor/models.js';
import { objectPrefix } from './import.js';
import { deletePrefix } from '../store/prefix.js';

const syntax = { keywords: ['delete'], args: [{ kind: 'model' }] } as const;

export type DeleteCommand = CommandAst<typeof syntax>;

/**
 * Deletes a model (every version) or one version (`NAME@N`), refusing while
 * it is served. Records are marked DELETING first, then objects go, then the
 * records: an interrupted delete leaves marked records that fsck finishes,
 * never a record pointing at a missing object that looks alive.
 */
export async function executeDelete(ctx: EngineContext, cmd: DeleteCommand): Promise<ResultTable> {
  const record = await resolveModel(ctx, cmd.model, { forWrite: true });
  if (record.serving === 'on') {
    throw new MlmodelError('CONFLICT', `${record.name} is being served; stop it first (mlmodel stop ${record.name})`, { name: record.name });
  }
  const whole = cmd.model.version === undefined && cmd.model.alias === undefined;
  const doomed: ModelRecord[] = whole ? await versionsOf(ctx, record.model_uid) : [record];
  const remaining = whole ? [] : (await versionsOf(ctx, record.model_uid)).filter((r) => r.uid !== record.uid);

  for (const r of doomed) await ctx.meta.updateModel(r.uid, { state: 'DELETING', modified: ctx.now() });
  for (const r of doomed) await deleteObjectsOf(ctx, r);
  for (const r of doomed) await ctx.meta.deleteModel(r.uid);

  if (remaining.length === 0) {
    await ctx.meta.releaseName(nameScope(record.user), record.name, record.model_uid);
  } else if (record.latest) {
    const newest = remaining[remaining.length - 1]!;
    await ctx.meta.updateModel(newest.uid, { latest: true });
  }
  if (remaining.length === 0) await ctx.meta.deleteServings(record.model_uid);
  return executeList(ctx);
}

/** A version's archive and everything stored beside it (its manifest) under `models/<uid>/`. */
async function deleteObjectsOf(ctx: EngineContext, r: ModelRecord): Promise<void> {
  await ctx.objects.delete(r.object_key);
  await deletePrefix(ctx.objects, objectPrefix(r.uid));
}

export const deleteCommand = defineCommand({
  syntax,
  summary: 'Removes a model, every version and its stored archives (or one version, NAME@VERSION). A served model must be stopped first.',
  examples: ['mlmodel delete mnist_v1', 'mlmodel delete mnist_v1@2'],
  columns: LIST_COLUMNS,
  writes: true,
  execute: executeDelete,
});
