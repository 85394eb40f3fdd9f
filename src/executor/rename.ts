import type { RenameCommand } from '../../grammar/ast.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { executeList } from './list.js';
import { resolveModel, nameScope } from './models.js';
import { checkModelName } from './names.js';

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
  const record = await resolveModel(ctx, cmd.model, { forWrite: true });
  const to = checkModelName(cmd.to, 'new model name');
  if (to === record.name) return executeList(ctx);
  // The model's owner's names (an admin may rename someone else's model).
  const scope = nameScope(record.user);
  if (!(await ctx.meta.claimName(scope, to, record.model_uid))) {
    const who = record.user === ctx.user ? 'you already have' : `${record.user} already has`;
    throw new MlmodelError('CONFLICT', `${who} a model called ${to}; delete or rename it first`, { name: to });
  }
  await ctx.meta.updateModels(F.eq('model_uid', record.model_uid), { name: to, modified: ctx.now() });
  await ctx.meta.releaseName(scope, record.name, record.model_uid);
  return executeList(ctx);
}
