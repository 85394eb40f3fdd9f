import { open } from 'node:fs/promises';
import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { checkLocalRoots, parsePathOption } from '../executor/location.js';
import { resolveModel } from '../executor/models.js';
import { optionValues } from '../executor/options.js';
import { col, type JsonValue, type ResultTable } from '../result/table.js';
import { recordModels } from '../serving/model-loader.js';
import { inputsFromBody } from '../serving/request-forms.js';
import { outputRows } from '../serving/tensors.js';
import { readObject } from '../store/read-object.js';

const syntax = {
  keywords: ['predict'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: {
    instances: { type: 'string', summary: "rows as JSON, e.g. '[[5.1, 3.5, 1.4, 0.2]]' (TF Serving's and MLflow's instances)" },
    inputs: { type: 'string', summary: 'columns as JSON: the value of the one input, or {"input name": value, …}' },
    file: {
      type: 'path',
      summary: 'a JSON request body (instances, inputs, dataframe_split or dataframe_records): OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path',
    },
  },
} as const;

export type PredictCommand = CommandAst<typeof syntax>;

export const PREDICT_COLUMNS = [col('row', 'LONG'), col('output', 'TEXT'), col('value', 'JSON')];

/** A request file is read whole: at most what the prediction port takes in one body. */
const MAX_FILE = 32 * 1024 * 1024;

/**
 * `mlmodel predict NAME[@VERSION|@ALIAS] instances='…' | inputs='…' |
 * file=…`: runs an onnx model version of the registry in this process, on
 * the same tensor checks and ONNX Runtime session code as `mlmodel serve`
 * (the model is read from its archive and kept loaded for later predicts).
 * One result row per input row and output.
 */
export async function executePredict(ctx: EngineContext, cmd: PredictCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const given = [o.instances, o.inputs, o.file].filter((v) => v !== undefined).length;
  if (given !== 1) throw new MlmodelError('INVALID_ARGUMENT', 'predict takes exactly one of instances=, inputs= or file=');
  const record = await resolveModel(ctx, cmd.model);
  const model = await recordModels.get(ctx, record);
  let body: unknown;
  if (o.file !== undefined) body = parseJson(await readRequestFile(ctx, o.file), o.file);
  else if (o.instances !== undefined) body = { instances: parseJson(o.instances, 'instances') };
  else body = { inputs: parseJson(o.inputs!, 'inputs') };
  const outputs = await model.run(inputsFromBody(model.signature, body));
  const rows = outputRows(outputs);
  const names = model.signature.outputs.map((s) => s.name);
  return {
    columns: PREDICT_COLUMNS,
    rows: rows.flatMap((r, i) => (names.length === 1 ? [[i, names[0]!, r as JsonValue]] : names.map((n) => [i, n, (r as Record<string, JsonValue>)[n]!]))),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MlmodelError('INVALID_ARGUMENT', `${what} is not JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

async function readRequestFile(ctx: EngineContext, text: string): Promise<string> {
  const target = parsePathOption(text);
  const tooLarge = () => new MlmodelError('INVALID_ARGUMENT', `${text} is larger than ${MAX_FILE} bytes`, { path: text });
  if (target.kind === 'connector') {
    const store = await ctx.connector(target.connector);
    const info = await store.stat(target.key);
    if (!info) throw new MlmodelError('OBJECT_NOT_FOUND', `${text} does not exist`, { path: text });
    if (info.size > MAX_FILE) throw tooLarge();
    return (await readObject(store, target.key)).toString('utf8');
  }
  await checkLocalRoots(target.path, ctx.localRoots, text);
  const fh = await open(target.path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new MlmodelError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `cannot read ${text}: ${e.code ?? e.message}`, { path: text });
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MlmodelError('INVALID_ARGUMENT', `${text} is not a file`, { path: text });
    if (st.size > MAX_FILE) throw tooLarge();
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

export const predictCommand = defineCommand({
  syntax,
  summary: 'Runs an onnx model version on the rows given, in this process, as mlmodel serve would answer them: one row per input row and output.',
  examples: ["mlmodel predict iris instances='[[5.1, 3.5, 1.4, 0.2]]'", "mlmodel predict iris@2 file='/data/request.json'", 'mlmodel predict iris@champion inputs=\'{"X": [[6.2, 3.4, 5.4, 2.3]]}\''],
  notes: [
    'The model is read from its archive in the registry (no deploy needed) and kept loaded in this process for the next predicts.',
    'A file holds one request body as mlmodel serve takes it: {"instances": …}, {"inputs": …}, {"dataframe_split": …} or {"dataframe_records": …}.',
  ],
  columns: PREDICT_COLUMNS,
  writes: false,
  execute: executePredict,
});
