import { defineCommand, type CommandAst } from './command.js';
import { MODEL_TYPES, parseModelType } from '../archive/index.js';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { openSource } from '../executor/source.js';
import { optionValues } from '../executor/options.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { ownRun, parseRunId, readRun } from '../tracking/runs.js';
import { checkWritable, type CheckpointRecord } from '../tracking/store.js';
import { exportObject } from './export.js';
import { storeInspected } from './import.js';

const syntax = {
  keywords: ['checkpoint'],
  args: [
    { kind: 'word', field: 'operation', label: 'add or export', words: ['add', 'export'] },
    { kind: 'word', field: 'run', label: 'a run id' },
    { kind: 'options' },
  ],
  options: {
    step: { type: 'integer', min: 0, required: true, summary: 'the step the checkpoint was taken at' },
    path: { type: 'path', required: true, summary: 'add: where the archive is; export: where to write it (OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path)' },
    type: { type: 'enum', values: MODEL_TYPES, summary: 'add: the kind of model the archive holds (checked as import checks it)' },
    expires: { type: 'integer', min: 1, max: 7 * 24 * 3600, summary: 'export: seconds the download URL stays valid (default 3600)' },
    overwrite: { type: 'boolean', summary: 'export: replace an existing destination (default false)' },
  },
} as const;

export type CheckpointCommand = CommandAst<typeof syntax>;

export const CHECKPOINT_COLUMNS = [col('run', 'LONG'), col('step', 'LONG'), col('result', 'TEXT'), bytesCol('size'), col('sha256', 'TEXT'), col('location', 'TEXT')];

/**
 * `checkpoint add` stores a model archive for a step of one of your running
 * runs, inspected as an import's is (a refused archive stores nothing), under
 * a key of its own beside the run; `checkpoint export` writes one back out by
 * step, as `export` writes a model version.
 */
export async function executeCheckpoint(ctx: EngineContext, cmd: CheckpointCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const id = parseRunId(cmd.run);
  const tracking = await ctx.tracking();
  if (cmd.operation === 'export') {
    if (o.type !== undefined) throw new MlmodelError('INVALID_ARGUMENT', 'type= is for checkpoint add', { option: 'type' });
    await readRun(ctx, id);
    const c = await tracking.getCheckpoint(id, o.step);
    if (!c) throw new MlmodelError('NOT_FOUND', `run ${id} has no checkpoint at step ${o.step}`, { run: id, step: o.step });
    const url = await exportObject(ctx, { key: c.object_key, size: c.size, sha256: c.sha256 }, o.path, { expires: o.expires ?? 3600, overwrite: o.overwrite ?? false });
    return { columns: CHECKPOINT_COLUMNS, rows: [[id, c.step, 'ok', c.size, c.sha256, url]] };
  }
  if (o.type === undefined) throw new MlmodelError('INVALID_ARGUMENT', 'mlmodel checkpoint add needs type=…', { missing: ['type'] });
  if (o.expires !== undefined || o.overwrite !== undefined) throw new MlmodelError('INVALID_ARGUMENT', 'expires= and overwrite= are for checkpoint export', {});
  const run = checkWritable(id, await ownRun(ctx, id));
  if (await tracking.getCheckpoint(id, o.step)) throw new MlmodelError('CONFLICT', `run ${id} has a checkpoint at step ${o.step} already`, { run: id, step: o.step });
  const type = parseModelType(o.type);
  const source = await openSource(ctx, o.path);
  // A key of its own per attempt: a concurrent add of the same step never removes the other's archive.
  const key = `runs/${run.uid}/checkpoints/${o.step}-${ctx.newUid()}/archive`;
  try {
    const report = await storeInspected(ctx, source, type, key, 'checkpoint');
    const record: CheckpointRecord = {
      run: id,
      step: o.step,
      object_key: key,
      size: report.size,
      sha256: report.sha256,
      type,
      format: report.format,
      filename: report.filename,
      created: ctx.now(),
    };
    await tracking.insertCheckpoint(record);
    return { columns: CHECKPOINT_COLUMNS, rows: [[id, o.step, 'ok', report.size, report.sha256, null]] };
  } catch (e) {
    // Nothing is left of a checkpoint that was not recorded.
    await ctx.objects.delete(key).catch(() => undefined);
    if (isMlmodelError(e, 'DUPLICATE_KEY')) throw new MlmodelError('CONFLICT', `run ${id} has a checkpoint at step ${o.step} already`, { run: id, step: o.step });
    throw e;
  }
}

export const checkpointCommand = defineCommand({
  syntax,
  summary: 'Stores a model archive as a checkpoint of one of your running runs at a step (checkpoint add), or writes one out by step (checkpoint export).',
  examples: ['mlmodel checkpoint add 12 step=5 type=sklearn path=/data/ckpt/epoch5.tar.gz', 'mlmodel checkpoint export 12 step=5 path=/tmp/epoch5.tar.gz overwrite=true'],
  notes: ['A checkpoint is checked as an import is: the archive must hold a model of the type given.', 'List them with mlmodel checkpoints RUN.'],
  columns: CHECKPOINT_COLUMNS,
  writes: true,
  execute: executeCheckpoint,
});
