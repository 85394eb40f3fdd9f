import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { collectBundle, writeBundle } from '../exchange/write-bundle.js';
import { resolveModel, versionsOf } from '../executor/models.js';
import { optionValues } from '../executor/options.js';

const syntax = {
  keywords: ['bundle'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: {
    to: { type: 'path', required: true, summary: 'where to write the bundle: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path' },
    all: { type: 'boolean', summary: 'every version of the model, not only the one named (default false)' },
    overwrite: { type: 'boolean', summary: 'replace an existing destination (default false)' },
  },
} as const;

export type BundleCommand = CommandAst<typeof syntax>;

export const BUNDLE_COLUMNS = [
  col('result', 'TEXT'),
  col('name', 'TEXT'),
  col('versions', 'TEXT'),
  col('location', 'TEXT'),
  bytesCol('size'),
  col('manifest_sha256', 'TEXT'),
];

/**
 * `mlmodel bundle NAME[@V] to=LOCATION [all=true]`: one version (the latest
 * unless named) or every version of a model, with its metadata, tags,
 * aliases and serving history, as one tar with a sha256 manifest
 * (docs/exchange.md). Each archive is checked against its record while it is
 * written; the destination appears complete or not at all.
 */
export async function executeBundle(ctx: EngineContext, cmd: BundleCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const all = o.all ?? false;
  const overwrite = o.overwrite ?? false;
  if (all && (cmd.model.version !== undefined || cmd.model.alias !== undefined)) {
    throw new MlmodelError('INVALID_ARGUMENT', `all=true bundles every version; write ${cmd.model.name} without '@'`);
  }
  const record = await resolveModel(ctx, cmd.model);
  const head = record.latest ? record : await resolveModel(ctx, { name: cmd.model.name });
  const versions = all ? await versionsOf(ctx, record.model_uid) : [record];
  const content = await collectBundle(ctx, head, versions);
  const written = await writeBundle(ctx, content, o.to, overwrite);
  return { columns: BUNDLE_COLUMNS, rows: [['ok', head.name, content.versions.join(','), o.to, written.size, content.manifestSha256]] };
}

export const bundleCommand = defineCommand({
  syntax,
  summary: 'Writes a model version, or every version (all=true), as one portable tar: archives, metadata, tags, aliases, serving history and a sha256 manifest.',
  examples: ['mlmodel bundle mnist_v1 to=/srv/bundles/mnist.tar all=true', 'mlmodel bundle mnist_v1@2 to=OBJECTSTORAGE.MINIO:bundles/mnist-2.tar overwrite=true'],
  notes: ['unbundle reads it into any registry; manifest_sha256 is what unbundle sha256=… checks.'],
  columns: BUNDLE_COLUMNS,
  // It writes to a connector's bucket or a local directory.
  writes: true,
  execute: executeBundle,
});
