import { defineCommand, type CommandAst } from './command.js';
import { LIST_COLUMNS } from './list.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { executeList } from './list.js';
import { claimModelName, nameScope, withResolvedModel } from '../executor/models.js';
import { checkModelName } from '../executor/names.js';
import { withLock } from '../engine/lock.js';
import { finishStaleDelete } from './import.js';
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
  const to = checkModelName(cmd.to, 'new model name');
  // Under the locks of both names of the owner (the old one, so no delete,
  // import or deploy of it runs meanwhile; the new one, so no import of a new
  // model of that name does), and of the model for its records. Two renames of
  // one model cannot both succeed: the second finds the name gone.
  await withResolvedModel(
    ctx,
    cmd.model,
    async (record) => {
      if (to === record.name) return;
      await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, () => renameLocked(ctx, record, to));
    },
    [to],
  );
  return executeList(ctx);
}

async function renameLocked(ctx: EngineContext, record: ModelRecord, to: string): Promise<void> {
  // The model's owner's names (an admin may rename someone else's model).
  const scope = nameScope(record.user);
  if ((await claimModelName(ctx, record.user, to, record.model_uid, finishStaleDelete)) !== record.model_uid) {
    const who = record.user === ctx.user ? 'you already have' : `${record.user} already has`;
    throw new MlmodelError('CONFLICT', `${who} a model called ${to}; delete or rename it first`, { name: to });
  }
  // Older versions first, the latest last: names resolve through the latest
  // record, so the rename becomes visible in that one write (fsck gives older
  // versions the latest's name if a rename died between the two).
  await ctx.meta.updateModels(F.and(F.eq('model_uid', record.model_uid), F.eq('latest', false)), { name: to, modified: ctx.now() });
  await ctx.meta.updateModels(F.and(F.eq('model_uid', record.model_uid), F.eq('latest', true)), { name: to, modified: ctx.now() });
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
