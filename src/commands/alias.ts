import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { ALIAS_REMOVED, aliasScope, aliasSequence, aliasTarget, resolveModel } from '../executor/models.js';
import { checkModelName } from '../executor/names.js';

const syntax = {
  keywords: ['alias', 'unalias'],
  args: [
    { kind: 'model' },
    {
      kind: 'word',
      field: 'alias',
      label: 'an alias',
      check: (text: string) => (text.includes('@') || /^\d+$/.test(text) ? `an alias is a name, not a number and without '@': like champion or stable` : undefined),
    },
  ],
} as const;

export type AliasCommand = CommandAst<typeof syntax>;

/** Every alias of a model that points somewhere now. */
export async function aliasesOf(ctx: EngineContext, modelUid: string): Promise<Array<{ alias: string; version: number }>> {
  const out: Array<{ alias: string; version: number }> = [];
  for (const claim of await ctx.meta.listClaims(aliasScope(modelUid))) {
    const version = await aliasTarget(ctx, modelUid, claim.name);
    if (version !== null) out.push({ alias: claim.name, version });
  }
  return out;
}

/**
 * `alias NAME@V a` points `a` at version V, moving it if it pointed
 * elsewhere; `unalias NAME a` removes it. One version per alias per model:
 * the alias's current target is its newest claim (see aliasSequence).
 */
export async function executeAlias(ctx: EngineContext, cmd: AliasCommand): Promise<ResultTable> {
  const alias = checkModelName(cmd.alias, 'alias');
  if (cmd.kind === 'alias' && cmd.model.version === undefined && cmd.model.alias === undefined) {
    throw new MlmodelError('INVALID_ARGUMENT', `say which version the alias names: mlmodel alias ${cmd.model.name}@3 ${alias}`);
  }
  if (cmd.kind === 'unalias' && (cmd.model.version !== undefined || cmd.model.alias !== undefined)) {
    throw new MlmodelError('INVALID_ARGUMENT', `unalias removes the alias whatever it points to; write ${cmd.model.name} without '@'`);
  }
  const record = await resolveModel(ctx, cmd.model, { forWrite: true });
  const seq = aliasSequence(record.model_uid, alias);
  if (cmd.kind === 'unalias') {
    if ((await aliasTarget(ctx, record.model_uid, alias)) === null) {
      throw new MlmodelError('MODEL_NOT_FOUND', `${record.name} has no alias ${alias}`, { name: record.name, alias });
    }
    await ctx.meta.claimNext(seq, ALIAS_REMOVED);
    await ctx.meta.releaseName(aliasScope(record.model_uid), alias, 'alias');
    return { columns: [col('result', 'TEXT')], rows: [['ok']] };
  }
  // Register the name first (idempotent), then point it: a reader never finds a pointer it cannot list.
  await ctx.meta.claimName(aliasScope(record.model_uid), alias, 'alias');
  await ctx.meta.claimNext(seq, String(record.version));
  return {
    columns: [col('result', 'TEXT'), col('name', 'TEXT'), col('alias', 'TEXT'), col('version', 'LONG')],
    rows: [['ok', record.name, alias, record.version]],
  };
}

export const aliasCommand = defineCommand({
  syntax,
  summary: 'alias points a name at one version (NAME@VERSION), moving it if it pointed elsewhere; unalias removes it. NAME@ALIAS then names that version.',
  examples: ['mlmodel alias mnist_v1@3 champion', 'mlmodel unalias mnist_v1 champion'],
  notes: ['Any command that takes a model then takes NAME@ALIAS: mlmodel summary mnist_v1@champion.'],
  columns: [col('result', 'TEXT'), col('name', 'TEXT'), col('alias', 'TEXT'), col('version', 'LONG')],
  writes: true,
  execute: executeAlias,
});
