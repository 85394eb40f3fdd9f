import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { col, type ResultTable } from '../result/table.js';
import { rewriteModelsConfig } from '../serving/config-writer.js';
import { F } from '../store/filter.js';
import { withResolvedModel } from '../executor/models.js';
import { withLock } from '../engine/lock.js';

const syntax = { keywords: ['stop'], args: [{ kind: 'model' }] } as const;

export type StopCommand = CommandAst<typeof syntax>;

/** `mlmodel stop NAME`: every serving version STOPPED and the model out of models.config; the registry copy stays. */
export async function executeStop(ctx: EngineContext, cmd: StopCommand): Promise<ResultTable> {
  if (cmd.model.version !== undefined || cmd.model.alias !== undefined) {
    throw new MlmodelError('INVALID_ARGUMENT', `stop stops every served version of a model; write ${cmd.model.name} without '@'`);
  }
  // Under the lock of the model's (user, name), like deploy's start and delete.
  const servingNames = await withResolvedModel(ctx, cmd.model, async (record) => {
    const changed = await ctx.meta.setServingState({ model_uid: record.model_uid, states: ['AVAILABLE', 'DEPLOYING'] }, 'STOPPED', ctx.now());
    if (record.serving !== 'on' && changed === 0) {
      throw new MlmodelError('CONFLICT', `${record.name} is not being served`, { name: record.name });
    }
    await withLock(ctx, `model:${record.model_uid}`, { what: record.name }, () =>
      ctx.meta.updateModels(F.eq('model_uid', record.model_uid), { serving: 'off', modified: ctx.now() }),
    );
    return (await ctx.meta.findServings({ model_uid: record.model_uid })).map((s) => s.serving_name);
  });
  await rewriteModelsConfig(ctx, servingNames);
  return { columns: [col('result', 'TEXT')], rows: [['ok']] };
}

export const stopCommand = defineCommand({
  syntax,
  summary: 'Takes a model out of serving: every version STOPPED, removed from models.config (tf) or its config.pbtxt removed (onnx), unloaded by mlmodel serve. The registry copy stays.',
  examples: ['mlmodel stop mnist_v1'],
  columns: [col('result', 'TEXT')],
  writes: true,
  execute: executeStop,
});
