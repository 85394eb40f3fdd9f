import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { MlmodelError } from '../errors.js';
import { readOnnxSignature, type OnnxSignature, type TensorSpec } from './onnx-graph.js';
import type { InputTensor, OutputTensor } from './tensors.js';

type Ort = typeof import('onnxruntime-node');

let runtime: Promise<Ort> | undefined;

/**
 * ONNX Runtime, imported on first use only: the console starts without it
 * (test/library/what-loads.mjs), and only a predict, a signature or a model
 * server pays for its native library.
 */
function ort(): Promise<Ort> {
  runtime ??= import('onnxruntime-node').catch((e: unknown) => {
    runtime = undefined;
    throw new MlmodelError('INTERNAL', `ONNX Runtime (onnxruntime-node) could not be loaded: ${(e as Error).message}`, {}, { cause: e });
  });
  return runtime;
}

/** Element types a request may carry and ONNX Runtime's JavaScript binding takes as typed arrays. */
const ARRAYS = {
  float: Float32Array,
  double: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/** One model in memory: its signature (from its graph) and an ONNX Runtime session. */
export interface LoadedModel {
  readonly signature: OnnxSignature;
  run(inputs: readonly InputTensor[]): Promise<OutputTensor[]>;
  release(): Promise<void>;
}

/**
 * Loads model.onnx bytes. ARCHIVE_INVALID when the graph does not read or
 * ONNX Runtime refuses the model (the reason is in the message).
 */
export async function loadOnnxModel(bytes: Uint8Array): Promise<LoadedModel> {
  const signature = readOnnxSignature(bytes);
  for (const t of [...signature.inputs, ...signature.outputs]) {
    if (t.type === 'float16' || t.type === 'bfloat16') {
      throw new MlmodelError('ARCHIVE_INVALID', `${t.name} is ${t.type}: mlmodel serve takes float, double, integer, bool and string tensors`, { tensor: t.name });
    }
  }
  const rt = await ort();
  let session: InferenceSession;
  try {
    // One thread per session: ORT's intra-op pool spins while it waits, and on a server answering
    // many small requests those spinning threads take the cores the event loop and other requests need.
    session = await rt.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  } catch (e) {
    throw new MlmodelError('ARCHIVE_INVALID', `ONNX Runtime cannot load the model: ${(e as Error).message}`, {}, { cause: e });
  }
  // Released only once no run is using it: an unload (stop, a cache eviction) never pulls a session out from under a request.
  let running = 0;
  let retired = false;
  let freed: Promise<void> | null = null;
  const free = () => (freed ??= session.release());
  return {
    signature,
    async run(inputs) {
      if (retired) throw new MlmodelError('CONFLICT', 'the model was unloaded meanwhile; send the request again');
      const feeds: Record<string, Tensor> = {};
      for (const i of inputs) feeds[i.name] = toOrt(rt, i);
      running++;
      let out: InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(feeds);
      } catch (e) {
        // What the graph itself refuses (a value out of a label encoder's range, …) is the request's fault.
        throw new MlmodelError('INVALID_ARGUMENT', `the model refused the input: ${(e as Error).message}`, {}, { cause: e });
      } finally {
        if (--running === 0 && retired) void free().catch(() => undefined);
      }
      return signature.outputs.map((o) => fromOrt(o, out[o.name] as Tensor));
    },
    async release() {
      retired = true;
      if (running === 0) await free();
    },
  };
}

function toOrt(rt: Ort, t: InputTensor): Tensor {
  if (t.type === 'string') return new rt.Tensor('string', t.data as string[], t.shape);
  if (t.type === 'int64' || t.type === 'uint64') {
    const big = t.type === 'int64' ? BigInt64Array.from(t.data as number[], (v) => BigInt(v)) : BigUint64Array.from(t.data as number[], (v) => BigInt(v));
    return new rt.Tensor(t.type, big, t.shape);
  }
  const Ctor = ARRAYS[t.type as keyof typeof ARRAYS];
  const data = t.type === 'bool' ? Uint8Array.from(t.data as boolean[], (b) => (b ? 1 : 0)) : Ctor.from(t.data as number[]);
  return new rt.Tensor(t.type === 'float' ? 'float32' : t.type === 'double' ? 'float64' : (t.type as Exclude<keyof typeof ARRAYS, 'float' | 'double'>), data, t.shape);
}

function fromOrt(spec: TensorSpec, t: Tensor): OutputTensor {
  const raw = t.data as ArrayLike<number | bigint | string | boolean>;
  const data: (number | string | boolean)[] = new Array<number | string | boolean>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    data[i] = typeof v === 'bigint' ? Number(v) : spec.type === 'bool' ? v === 1 || v === true : v;
  }
  return { name: spec.name, type: spec.type, shape: [...t.dims], data };
}
