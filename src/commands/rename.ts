import { defineCommand, type CommandAst } from './command.js';
import { LIST_COLUMNS } from './list.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { executeList } from './list.js';
import { resolveModel, nameScope } from '../executor/models.js';
import { checkModelName } from '../executor/names.js';
import { withLock } from '../engine/lock.js';
import type { ModelRecord } from '../store/metadata.js';

const syntax = {
  keywords: ['rename'],
  args: [
    { kind: 'model' },
    {
      kind: 'word',
      field: 'to',
      label: 'a new model name',
      optionalKeyword: 'as',
      check: (text: string) => (text.includes('@') ? `a new model name cannot contain '@' (it separates a name from a version or alias)` : undefined),
    },
  ],
} as const;

export type RenameCommand = CommandAst<typeof syntax>;

/**
 * Renames every version of one of the user's models: metadata only, since
 * objects are keyed by uid. The new name is claimed first (so two renames to
 * one name cannot both win), then the records change, then the old name is
 * let go.
 */
export async function executeRename(ctx: EngineContext, cmd: RenameCommand): Promise<ResultTable> {
  if (cmd.model.version !== undefined || cmd.model.alias !== undefined) {
    throw new MlmodelError('INVALID_ARGUMENT', `rename renames a whole model with all its versions; write ${cmd.model.name} without '@'`);
  }
  const found = await resolveModel(ctx, cmd.model, { forWrite: true });
  const to = checkModelName(cmd.to, 'new model name');
  if (to === found.name) return executeList(ctx);
  // One rename of a model at a time, and only if it still has the name that was resolved:
  // two renames of one model to different names must not both succeed (the last would
  // silently undo the first, and leave its new name claimed by nobody's model).
  await withLock(ctx, `model:${found.model_uid}`, { what: found.name }, async () => {
    const [record] = await ctx.meta.findModels({ filter: F.and(F.eq('model_uid', found.model_uid), F.eq('latest', true), F.eq('state', 'ACTIVE')), limit: 1 });
    if (!record || record.name !== found.name) {
      throw new MlmodelError('MODEL_NOT_FOUND', `${cmd.model.name} was renamed or deleted meanwhile`, { name: cmd.model.name });
    }
    await renameLocked(ctx, record, to);
  });
  return executeList(ctx);
}

async function renameLocked(ctx: EngineContext, record: ModelRecord, to: string): Promise<void> {
  // The model's owner's names (an admin may rename someone else's model).
  const scope = nameScope(record.user);
  if (!(await ctx.meta.claimName(scope, to, record.model_uid))) {
    const who = record.user === ctx.user ? 'you already have' : `${record.user} already has`;
    throw new MlmodelError('CONFLICT', `${who} a model called ${to}; delete or rename it first`, { name: to });
  }
  await ctx.meta.updateModels(F.eq('model_uid', record.model_uid), { name: to, modified: ctx.now() });
  await ctx.meta.releaseName(scope, record.name, record.model_uid);
}

export const renameCommand = defineCommand({
  syntax,
  summary: 'Gives a model a new name; its stored files stay as they are.',
  examples: ['mlmodel rename mnist_v1 as mnist_v2', 'mlmodel rename mnist_v1 mnist_v2'],
  columns: LIST_COLUMNS,
  writes: true,
  execute: executeRename,
});
