import { posix } from 'node:path';
import { defineCommand, type CommandAst } from './command.js';
import { hasUnsafeChar } from '../../grammar/control-chars.js';
import type { EngineContext } from '../engine/context.js';
import { withProgress } from '../engine/progress.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { rewriteModelsConfig } from '../serving/config-writer.js';
import { F } from '../store/filter.js';
import { readManifest } from '../executor/manifest.js';
import { resolveModel } from '../executor/models.js';
import { optionValues } from '../executor/options.js';
import { withLock } from '../engine/lock.js';

const syntax = {
  keywords: ['deploy'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: { label: { type: 'string', summary: 'a version label TF Serving routes by, e.g. stable or canary' } },
} as const;

export type DeployCommand = CommandAst<typeof syntax>;

export const DEPLOY_COLUMNS = [col('result', 'TEXT'), col('latest_version', 'LONG'), col('serving_name', 'TEXT')];

const MAX_LABEL = 200;

/**
 * `mlmodel deploy NAME label='…'`: a new serving version (claimed, so 16
 * parallel deploys get 1..16), its files unpacked as a complete
 * `<serving_name>/<version>/`, then models.config rewritten to list it.
 */
export async function executeDeploy(ctx: EngineContext, cmd: DeployCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const label = o.label ?? null;
  if (label !== null && (label.length === 0 || label.length > MAX_LABEL)) {
    throw new MlmodelError('INVALID_ARGUMENT', `a label has 1 to ${MAX_LABEL} characters`, { label });
  }
  if (label !== null && hasUnsafeChar(label)) {
    // It goes into models.config, TF Serving's status and its REST paths, and is printed to terminals.
    throw new MlmodelError('INVALID_ARGUMENT', 'a label may not hold control, bidi or invisible format characters', { label });
  }
  const record = await resolveModel(ctx, cmd.model, { forWrite: true });
  if (record.type !== 'tf') {
    throw new MlmodelError('INVALID_ARGUMENT', `deploy serves tf models through TensorFlow Serving; ${record.name} is a ${record.type} model`, {
      name: record.name,
      type: record.type,
    });
  }
  if (record.format !== 'saved_model' || record.filename === null) {
    throw new MlmodelError(
      'INVALID_ARGUMENT',
      `TensorFlow Serving loads SavedModels; ${record.name} holds ${record.format === 'h5' ? 'a Keras h5 file' : `a ${String(record.format)} model`}. Save it as a SavedModel (saved_model.pb) and import that`,
      { name: record.name, format: record.format },
    );
  }
  // TF Serving wants saved_model.pb directly inside the version directory.
  const root = posix.dirname(record.filename) === '.' ? '' : posix.dirname(record.filename);
  const servingName = `${record.user}_${record.name}`;
  const manifest = await readManifest(ctx, record.uid);
  const version = await ctx.meta.claimNext(`serving-version:${record.model_uid}`, record.uid);
  const now = ctx.now();
  await ctx.meta.insertServing({
    model_uid: record.model_uid,
    version,
    serving_name: servingName,
    record_uid: record.uid,
    model_version: record.version,
    label,
    state: 'DEPLOYING',
    deployed_at: now,
    updated_at: now,
  });
  try {
    const archive = withProgress(await ctx.objects.get(record.object_key), (done) =>
      ctx.onProgress?.({ phase: 'deploy', done, total: record.size }),
    );
    await ctx.serving.writeVersion(servingName, version, archive, manifest, root, ctx.signal);
  } catch (e) {
    await ctx.meta.setServingState({ model_uid: record.model_uid, version }, 'FAILED', ctx.now());
    throw e;
  }
  await ctx.meta.setServingState({ model_uid: record.model_uid, version }, 'AVAILABLE', ctx.now());
  // Under the model's lock: servers that apply an update as read-then-write
  // (FerretDB v1) would otherwise lose a concurrent tag or rename of the record.
  await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, () =>
    ctx.meta.updateModels(F.eq('model_uid', record.model_uid), { serving: 'on', serving_name: servingName, modified: ctx.now() }),
  );
  await rewriteModelsConfig(ctx);
  return { columns: DEPLOY_COLUMNS, rows: [['on', version, servingName]] };
}

export const deployCommand = defineCommand({
  syntax,
  summary: 'Lays the latest version out for TensorFlow Serving (<serving base>/<user>_<name>/<version>/) and lists it in models.config.',
  examples: ["mlmodel deploy mnist_v1 label='stable'", 'mlmodel deploy mnist_v1'],
  columns: DEPLOY_COLUMNS,
  writes: true,
  execute: executeDeploy,
});
