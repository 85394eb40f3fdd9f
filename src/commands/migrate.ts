import { defineCommand, type CommandAst } from './command.js';
import { writeServedVersion } from './deploy.js';
import { finishStaleDelete } from './import.js';
import { LIST_COLUMNS, executeList } from './list.js';
import type { EngineContext } from '../engine/context.js';
import { deployLease, isFresh, LEASE_SCOPE, tryLease } from '../engine/lease.js';
import { withLock, withModelLock } from '../engine/lock.js';
import { isUserName, USER_NAME_RULE } from '../engine/user-name.js';
import { MlmodelError } from '../errors.js';
import { claimModelName, nameScope, withResolvedModel } from '../executor/models.js';
import { checkModelName } from '../executor/names.js';
import { optionValues } from '../executor/options.js';
import type { ResultTable } from '../result/table.js';
import { rewriteModelsConfig } from '../serving/config-writer.js';
import { claimServingName } from '../serving/names.js';
import { F } from '../store/filter.js';
import type { ModelRecord } from '../store/metadata.js';

const syntax = {
  keywords: ['migrate'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: {
    to: { type: 'string', required: true, summary: 'the user who owns the model afterwards' },
    as: { type: 'string', summary: "the model's name under its new owner (default: the same name)" },
  },
} as const;

export type MigrateCommand = CommandAst<typeof syntax>;

/**
 * `mlmodel migrate OWNER/NAME to=USER [as=NAME]` (FATE-Flow's migrate): an
 * admin moves a model — every version, its tags, aliases and stored files,
 * which are keyed by uid and do not move — to another user. A served model's
 * serving moves with it, without a moment where models.config lists a
 * missing directory:
 *
 * 1. each version served now is laid out again under the new owner's serving
 *    name (`<user>_<name>`) as a new serving version, complete before it is
 *    AVAILABLE, with the same label;
 * 2. the old serving versions are STOPPED and models.config rewritten: it
 *    lists the new directories, which exist, and no longer the old ones,
 *    which stay on disk as `stop` leaves them;
 * 3. the records change owner, older versions first and the latest last:
 *    names resolve through the latest record, so the move is seen in that one
 *    write (fsck gives older versions the latest's owner if a migrate died
 *    between the two); the old owner's name is let go.
 *
 * Run again after a failure, it picks up where it stopped.
 */
export async function executeMigrate(ctx: EngineContext, cmd: MigrateCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  if (!ctx.admin) throw new MlmodelError('INVALID_ARGUMENT', 'migrate moves a model to another user: only an admin (http.admins) may run it');
  if (cmd.model.version !== undefined || cmd.model.alias !== undefined) {
    throw new MlmodelError('INVALID_ARGUMENT', `migrate moves a whole model with all its versions; write ${cmd.model.name} without '@'`);
  }
  if (!isUserName(o.to)) throw new MlmodelError('INVALID_ARGUMENT', `user ${JSON.stringify(o.to)} is not allowed (${USER_NAME_RULE})`, { user: o.to });
  const to = o.to;
  await withResolvedModel(ctx, cmd.model, async (record) => {
    const name = checkModelName(o.as ?? record.name, 'new model name');
    if (to === record.user && name === record.name) return;
    // The new owner's name too: no import of a new model of that name runs meanwhile.
    await withModelLock(ctx, to, [name], async () => {
      if ((await claimModelName(ctx, to, name, record.model_uid, finishStaleDelete)) !== record.model_uid) {
        throw new MlmodelError('CONFLICT', `${to} already has a model called ${name}; delete or rename it first`, { name, user: to });
      }
      const servingName = await moveServing(ctx, record, to, name);
      await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, async () => {
        const set = { user: to, name, serving_name: servingName, modified: ctx.now() };
        await ctx.meta.updateModels(F.and(F.eq('model_uid', record.model_uid), F.eq('latest', false)), set);
        await ctx.meta.updateModels(F.and(F.eq('model_uid', record.model_uid), F.eq('latest', true)), set);
      });
      await ctx.meta.releaseName(nameScope(record.user), record.name, record.model_uid);
    });
  });
  return executeList(ctx);
}

/**
 * Steps 1 and 2: the versions served now, laid out under the new owner's
 * serving name, then the old ones stopped. Returns the serving name the
 * records carry afterwards (null when nothing is served: the next deploy
 * claims the new owner's name).
 */
async function moveServing(ctx: EngineContext, record: ModelRecord, to: string, name: string): Promise<string | null> {
  const servings = await ctx.meta.findServings({ model_uid: record.model_uid, states: ['AVAILABLE', 'DEPLOYING'] });
  for (const s of servings.filter((x) => x.state === 'DEPLOYING')) {
    if (isFresh(await ctx.meta.getClaim(LEASE_SCOPE, deployLease(s.model_uid, s.version)))) {
      throw new MlmodelError('CONFLICT', `${record.name} is being deployed (serving version ${s.version}); wait for it, then migrate`, { name: record.name });
    }
  }
  const available = servings.filter((s) => s.state === 'AVAILABLE');
  if (available.length === 0) return null;
  // The new owner's serving name, as a first deploy of (to, name) would claim it.
  const servingName = await claimServingName(ctx, { ...record, user: to, name, serving_name: null });
  const moved = available.filter((s) => s.serving_name !== servingName);
  for (const s of moved) {
    const deployed = await ctx.meta.getModel(s.record_uid);
    if (!deployed) throw new MlmodelError('INTERNAL', `serving version ${s.serving_name}/${s.version} names a record that is gone; run mlmodel fsck`);
    const n = await ctx.meta.claimNext(`serving-version:${record.model_uid}`, s.record_uid);
    // A fresh number: nobody else can hold its lease.
    const lease = (await tryLease(ctx, LEASE_SCOPE, deployLease(record.model_uid, n)))!;
    const now = ctx.now();
    await ctx.meta.insertServing({ ...s, version: n, serving_name: servingName, state: 'DEPLOYING', deployed_at: now, updated_at: now });
    await writeServedVersion(ctx, deployed, servingName, n, lease);
    await lease.release();
  }
  for (const s of moved) await ctx.meta.setServingState({ model_uid: record.model_uid, version: s.version, states: ['AVAILABLE'] }, 'STOPPED', ctx.now());
  await rewriteModelsConfig(ctx);
  return servingName;
}

export const migrateCommand = defineCommand({
  syntax,
  summary: "Moves a model — every version, tags, aliases and its serving — to another user (admins only), as FATE-Flow's migrate does.",
  examples: ['mlmodel migrate alice/mnist_v1 to=bob', 'mlmodel migrate alice/mnist_v1 to=bob as=mnist_alice'],
  notes: ["A served model is laid out under the new owner's serving name before the old one leaves models.config."],
  columns: LIST_COLUMNS,
  writes: true,
  execute: executeMigrate,
});
