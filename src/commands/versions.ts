import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { aliasesOf } from './alias.js';
import { resolveModel, versionsOf } from '../executor/models.js';
import { F } from '../store/filter.js';

const syntax = { keywords: ['versions'], args: [{ kind: 'model' }] } as const;

export type VersionsCommand = CommandAst<typeof syntax>;

export const VERSIONS_COLUMNS = [
  col('version', 'LONG'),
  bytesCol('size'),
  col('sha256', 'TEXT'),
  col('created', 'DATETIME'),
  col('user', 'TEXT'),
  col('tags', 'TEXT'),
  col('aliases', 'TEXT'),
  col('latest', 'BOOLEAN'),
];

/** `mlmodel versions NAME`: every stored version, oldest first, with its tags and the aliases pointing at it. */
export async function executeVersions(ctx: EngineContext, cmd: VersionsCommand): Promise<ResultTable> {
  if (cmd.model.version !== undefined || cmd.model.alias !== undefined) {
    throw new MlmodelError('INVALID_ARGUMENT', `versions lists every version of a model; write ${cmd.model.name} without '@'`);
  }
  const head = await resolveModel(ctx, cmd.model);
  const aliases = await aliasesOf(ctx, head.model_uid);
  const versions = await versionsOf(ctx, head.model_uid);
  // A delete marks the latest record before it removes anything: if the model
  // still has a live latest version after the listing, the listing is whole,
  // never the half of a delete under way.
  if ((await ctx.meta.countModels(F.and(F.eq('model_uid', head.model_uid), F.eq('latest', true), F.eq('state', 'ACTIVE')))) === 0) {
    throw new MlmodelError('MODEL_NOT_FOUND', `no model called ${cmd.model.name}`, { name: cmd.model.name });
  }
  const rows = versions.map((r) => [
    r.version,
    r.size,
    r.sha256,
    r.imported,
    r.user,
    r.tags.join(','),
    aliases
      .filter((a) => a.version === r.version)
      .map((a) => a.alias)
      .join(','),
    r.latest,
  ]);
  return { columns: VERSIONS_COLUMNS, rows };
}

export const versionsCommand = defineCommand({
  syntax,
  summary: 'Every version of a model: version, size, sha256, created, user, tags, aliases, latest.',
  examples: ['mlmodel versions mnist_v1', 'mlmodel versions mnist_v1 | where tags like \'%prod%\''],
  columns: VERSIONS_COLUMNS,
  writes: false,
  execute: executeVersions,
});
