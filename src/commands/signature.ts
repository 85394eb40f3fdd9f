import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { resolveModel } from '../executor/models.js';
import { col, type JsonValue, type ResultTable } from '../result/table.js';
import { readRecordModelFile } from '../serving/model-loader.js';
import { servingNameCandidates } from '../serving/names.js';
import { readOnnxSignature, type TensorSpec } from '../serving/onnx-graph.js';
import { dims, TYPE_NAMES } from '../serving/tensor-types.js';

const syntax = { keywords: ['signature'], args: [{ kind: 'model' }] } as const;

export type SignatureCommand = CommandAst<typeof syntax>;

export const SIGNATURE_COLUMNS = [col('kind', 'TEXT'), col('name', 'TEXT'), col('type', 'TEXT'), col('shape', 'JSON'), col('body', 'JSON')];

/**
 * `mlmodel signature NAME[@VERSION|@ALIAS]`: the model's inputs and outputs
 * as its own graph declares them (name, ONNX element type, shape with -1
 * for a dynamic axis), then a ready request for each protocol of `mlmodel
 * serve` — FATE's get-predict-conf: kind `request`, name the protocol, type
 * the method and path, body one row of zeros to edit.
 */
export async function executeSignature(ctx: EngineContext, cmd: SignatureCommand): Promise<ResultTable> {
  const record = await resolveModel(ctx, cmd.model);
  // The graph alone: no ONNX Runtime session is made.
  const sig = readOnnxSignature(await readRecordModelFile(ctx, record));
  const tensor = (kind: string) => (t: TensorSpec) => [kind, t.name, t.type, dims(t.shape), null];
  const name = encodeURIComponent(record.serving_name ?? servingNameCandidates(record.user, record.name)[0]!);
  const rows = sig.inputs.map((t) => example(t));
  const one = sig.inputs.length === 1;
  const instances = one ? rows[0]! : [Object.fromEntries(sig.inputs.map((t, i) => [t.name, (rows[i] as JsonValue[])[0]!]))];
  const requests: (readonly [string, string, JsonValue])[] = [
    ['tf-serving', `POST /v1/models/${name}:predict`, { instances } as JsonValue],
    [
      'kserve',
      `POST /v2/models/${name}/infer`,
      { inputs: sig.inputs.map((t) => ({ name: t.name, shape: exampleShape(t), datatype: TYPE_NAMES[t.type].kserve, data: Array<JsonValue>(count(t)).fill(zero(t)) })) },
    ],
    ['mlflow', `POST /mlflow/${name}/invocations`, one ? { instances } : { dataframe_records: instances }],
  ];
  return {
    columns: SIGNATURE_COLUMNS,
    rows: [...sig.inputs.map(tensor('input')), ...sig.outputs.map(tensor('output')), ...requests.map(([proto, path, body]) => ['request', proto, path, null, body])],
  };
}

/** One row: the batch axis 1, every other dynamic axis 1. */
const exampleShape = (t: TensorSpec): number[] => t.shape.map((d) => d ?? 1);
const count = (t: TensorSpec) => exampleShape(t).reduce((a, b) => a * b, 1);

function zero(t: TensorSpec): JsonValue {
  const kind = TYPE_NAMES[t.type].json;
  return kind === 'boolean' ? false : kind === 'string' ? '' : 0;
}

/** A nested array of zeros of the example shape. */
function example(t: TensorSpec): JsonValue {
  const build = (axis: number): JsonValue => (axis === t.shape.length ? zero(t) : Array.from({ length: exampleShape(t)[axis]! }, () => build(axis + 1)));
  return build(0);
}

export const signatureCommand = defineCommand({
  syntax,
  summary: "An onnx model's inputs and outputs (name, type, shape) from its own graph, and a ready request body for TF Serving, KServe v2 and MLflow.",
  examples: ['mlmodel signature iris', 'mlmodel signature iris@2'],
  columns: SIGNATURE_COLUMNS,
  writes: false,
  execute: executeSignature,
});
