import { posix } from 'node:path';
import { defineCommand, type CommandAst } from './command.js';
import { hasUnsafeChar } from '../../grammar/control-chars.js';
import type { EngineContext } from '../engine/context.js';
import { withProgress } from '../engine/progress.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { ONNX_MODEL_FILE, rewriteModelsConfig } from '../serving/config-writer.js';
import { readOnnxSignature } from '../serving/onnx-graph.js';
import { F } from '../store/filter.js';
import { readManifest } from '../executor/manifest.js';
import { resolveModel, withResolvedModel } from '../executor/models.js';
import { optionValues } from '../executor/options.js';
import { withLock } from '../engine/lock.js';
import { deployLease, LEASE_SCOPE, tryLease, type Lease } from '../engine/lease.js';
import type { ModelRecord } from '../store/metadata.js';
import { claimServingName } from '../serving/names.js';
import { pushAfterDeploy } from '../exchange/model-store.js';

const syntax = {
  keywords: ['deploy'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: { label: { type: 'string', summary: 'a version label the servers route by (TF Serving, mlmodel serve), e.g. stable or canary' } },
} as const;

export type DeployCommand = CommandAst<typeof syntax>;

export const DEPLOY_COLUMNS = [col('result', 'TEXT'), col('latest_version', 'LONG'), col('serving_name', 'TEXT')];

const MAX_LABEL = 200;

/**
 * `mlmodel deploy NAME label='…'`: a new serving version (claimed, so 16
 * parallel deploys get 1..16), its files unpacked as a complete
 * `<serving_name>/<version>/`, then models.config rewritten to list it. The
 * serving name is the model's own (servingNameCandidates): claimed on its
 * first deploy, never shared with another model, kept across renames.
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
  checkServable(record);
  // Under the lock of the model's (user, name): a delete or rename of it waits
  // until this deploy's record says DEPLOYING, and from then on a delete
  // refuses while the deploy's lease is alive. The files are written outside
  // the lock: a 500 MB copy must not hold up the model's other commands.
  const { servingName, version, lease } = await withResolvedModel(ctx, cmd.model, async (locked) => {
    if ((await ctx.meta.getModel(record.uid))?.state !== 'ACTIVE') {
      throw new MlmodelError('MODEL_NOT_FOUND', `${record.name}@${record.version} was deleted meanwhile`, { name: record.name });
    }
    const name = await claimServingName(ctx, locked);
    const n = await ctx.meta.claimNext(`serving-version:${locked.model_uid}`, locked.uid);
    // A fresh number: nobody else can hold its lease.
    const held = (await tryLease(ctx, LEASE_SCOPE, deployLease(locked.model_uid, n)))!;
    const now = ctx.now();
    await ctx.meta.insertServing({
      model_uid: locked.model_uid,
      version: n,
      serving_name: name,
      record_uid: locked.uid,
      model_version: locked.version,
      label,
      state: 'DEPLOYING',
      deployed_at: now,
      updated_at: now,
    });
    return { servingName: name, version: n, lease: held };
  });
  await writeServedVersion(ctx, record, servingName, version, lease);
  // Under the model's lock: servers that apply an update as read-then-write
  // (FerretDB v1) would otherwise lose a concurrent tag or rename of the record.
  await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, () =>
    ctx.meta.updateModels(F.eq('model_uid', record.model_uid), { serving: 'on', serving_name: servingName, modified: ctx.now() }),
  );
  await lease.release();
  await rewriteModelsConfig(ctx, [servingName]);
  // After the deploy is complete, and without waiting for it: a push that fails is reported, never the deploy's failure.
  await pushAfterDeploy(ctx, record);
  return { columns: DEPLOY_COLUMNS, rows: [['on', version, servingName]] };
}

/**
 * The second half of a deploy, once serving version `version` is recorded
 * DEPLOYING under `lease`: the archive of `record` unpacked as a complete
 * `<servingName>/<version>/`, then the record AVAILABLE. On failure it is
 * FAILED and the lease released (fsck removes any files it left). Migrate
 * (commands/migrate.ts) lays a model's versions out under a new name with it.
 */
export async function writeServedVersion(ctx: EngineContext, record: ModelRecord, servingName: string, version: number, lease: Lease): Promise<void> {
  const at = { model_uid: record.model_uid, version, states: ['DEPLOYING' as const] };
  try {
    // TF Serving wants saved_model.pb, Triton model.onnx, directly inside the version directory.
    const root = record.filename === null || posix.dirname(record.filename) === '.' ? '' : posix.dirname(record.filename);
    const manifest = await readManifest(ctx, record.uid);
    const archive = withProgress(await ctx.objects.get(record.object_key), (done) =>
      ctx.onProgress?.({ phase: 'deploy', done, total: record.size }),
    );
    await ctx.serving.writeVersion(servingName, version, archive, manifest, root, ctx.signal);
    if (record.type === 'onnx') await checkGraph(ctx, servingName, version);
    // A stop meanwhile marked it STOPPED; a deploy that stalled past its lease
    // was taken for dead (fsck or a delete marked it FAILED): neither comes back as AVAILABLE.
    if (!(await lease.renew()) || (await ctx.meta.setServingState(at, 'AVAILABLE', ctx.now())) === 0) {
      throw new MlmodelError('CONFLICT', `the deploy of ${record.name} was stopped, or stalled and was marked failed, meanwhile; deploy again`, { name: record.name });
    }
  } catch (e) {
    await ctx.meta.setServingState(at, 'FAILED', ctx.now());
    await lease.release();
    throw e;
  }
}

/**
 * An onnx version is published only if its graph reads (config.pbtxt and the
 * model server need its inputs and outputs); a version that does not is
 * removed at once: it never was AVAILABLE, and its number is never reused.
 */
async function checkGraph(ctx: EngineContext, servingName: string, version: number): Promise<void> {
  try {
    readOnnxSignature(await ctx.serving.readVersionFile(servingName, version, ONNX_MODEL_FILE));
  } catch (e) {
    await ctx.serving.removeVersion(servingName, version);
    throw e;
  }
}

/**
 * What can be served: a tf SavedModel (TF Serving's layout, listed in
 * models.config) or an onnx model (Triton's and KServe's layout, with a
 * config.pbtxt, answered by `mlmodel serve`).
 */
function checkServable(record: ModelRecord): void {
  if (record.type === 'onnx') {
    if (record.filename === null || posix.basename(record.filename) !== ONNX_MODEL_FILE) {
      throw new MlmodelError('INVALID_ARGUMENT', `${record.name} has no ${ONNX_MODEL_FILE} to serve`, { name: record.name });
    }
    return;
  }
  if (record.type !== 'tf') {
    throw new MlmodelError('INVALID_ARGUMENT', `deploy serves tf models (TensorFlow Serving) and onnx models (mlmodel serve, Triton, KServe); ${record.name} is a ${record.type} model`, {
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
}

export const deployCommand = defineCommand({
  syntax,
  summary:
    'Lays the latest version out under <serving base>/<user>_<name>/<version>/: a tf SavedModel for TensorFlow Serving (listed in models.config), an onnx model for mlmodel serve, Triton and KServe (beside a config.pbtxt read from its graph).',
  examples: ["mlmodel deploy mnist_v1 label='stable'", 'mlmodel deploy mnist_v1', "mlmodel deploy iris@2 label='canary'"],
  columns: DEPLOY_COLUMNS,
  writes: true,
  execute: executeDeploy,
});
