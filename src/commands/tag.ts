import { defineCommand, type CommandAst } from './command.js';
import { VERSIONS_COLUMNS } from './versions.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { resolveModel } from '../executor/models.js';
import { checkModelName } from '../executor/names.js';
import { withLock } from '../engine/lock.js';

const syntax = { keywords: ['tag', 'untag'], args: [{ kind: 'model' }, { kind: 'names', field: 'tags', label: 'a tag' }] } as const;

export type TagCommand = CommandAst<typeof syntax>;

export const MAX_TAGS = 64;

/**
 * `tag NAME t1,t2` / `untag NAME t1` on a version (the latest unless `@N`).
 * The change is written only if the record is still as it was read (its
 * modified time), and retried otherwise, so concurrent taggers lose nothing.
 */
export async function executeTag(ctx: EngineContext, cmd: TagCommand): Promise<ResultTable> {
  const tags = cmd.tags.map((t) => checkModelName(t, 'tag'));
  // Under the model's lock: the conditional update below alone loses tags on
  // servers that apply it as read-then-write (FerretDB v1; found by 32 concurrent taggers).
  const target = await resolveModel(ctx, cmd.model, { forWrite: true });
  return withLock(ctx, `model:${target.model_uid}`, { what: `${target.name}` }, () => tagOnce(ctx, cmd, tags));
}

async function tagOnce(ctx: EngineContext, cmd: TagCommand, tags: string[]): Promise<ResultTable> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const record = await resolveModel(ctx, cmd.model, { forWrite: true });
    const next = cmd.kind === 'tag' ? [...new Set([...record.tags, ...tags])] : record.tags.filter((t) => !tags.includes(t));
    if (cmd.kind === 'untag') {
      const missing = tags.filter((t) => !record.tags.includes(t));
      if (missing.length > 0) {
        throw new MlmodelError('INVALID_ARGUMENT', `${record.name}@${record.version} has no tag ${missing.join(', ')}`, { missing });
      }
    }
    if (next.length > MAX_TAGS) throw new MlmodelError('INVALID_ARGUMENT', `a version has at most ${MAX_TAGS} tags`);
    // A new modified time that differs from the one read, even within one millisecond.
    const modified = new Date(Math.max(ctx.now().getTime(), record.modified.getTime() + 1));
    const updated = await ctx.meta.updateModel(record.uid, { tags: next, modified }, F.eq('modified', record.modified));
    if (updated) {
      return {
        columns: [col('name', 'TEXT'), col('version', 'LONG'), col('tags', 'TEXT')],
        rows: [[updated.name, updated.version, updated.tags.join(',')]],
      };
    }
  }
  throw new MlmodelError('CONFLICT', 'the version kept changing while tagging it; try again');
}

export const tagCommand = defineCommand({
  syntax,
  summary: 'tag adds tags to a version (the latest unless NAME@VERSION), untag removes them.',
  examples: ['mlmodel tag mnist_v1@2 prod, reviewed', 'mlmodel untag mnist_v1@2 reviewed'],
  columns: VERSIONS_COLUMNS,
  writes: true,
  execute: executeTag,
});
