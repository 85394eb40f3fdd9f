import { MlmodelError } from '../errors.js';

/**
 * The inputs and outputs of an ONNX model, read from its own graph
 * (ModelProto.graph → GraphProto.input / .output, each a ValueInfoProto
 * with a tensor type): what config.pbtxt, `signature` and the protocols'
 * metadata answers say. Read by a small protobuf walker rather than by
 * loading the model into ONNX Runtime, so a deploy (and the console that
 * runs it) never needs the runtime.
 *
 * Field numbers are those of onnx/onnx.proto (IR version 3 and later).
 */
export interface TensorSpec {
  readonly name: string;
  /** ONNX's element type name: float, double, int64, string, bool, … */
  readonly type: OnnxElementType;
  /** One entry per axis: a size, or null for a dynamic axis (a dim_param, or none given). */
  readonly shape: readonly (number | null)[];
}

export interface OnnxSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** TensorProto.DataType, by number. */
const ELEMENT_TYPES = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
} as const;

export type OnnxElementType = (typeof ELEMENT_TYPES)[keyof typeof ELEMENT_TYPES];

/** Reads the signature from the bytes of a model.onnx; ARCHIVE_INVALID when they are not one. */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  try {
    const model = fields(bytes);
    const graph = model.find((f) => f.no === 7 && f.wire === 2);
    if (!graph) throw new Error('no graph in the model');
    const g = fields(graph.bytes!);
    const initializers = new Set(g.filter((f) => f.no === 5 && f.wire === 2).map((f) => text(fields(f.bytes!), 8)));
    const inputs = g.filter((f) => f.no === 11 && f.wire === 2).map((f) => valueInfo(f.bytes!));
    const outputs = g.filter((f) => f.no === 12 && f.wire === 2).map((f) => valueInfo(f.bytes!));
    // Before IR version 4, initializers were listed among the inputs; they are weights, not what a caller sends.
    const fed = inputs.filter((i) => !initializers.has(i.name));
    if (fed.length === 0 || outputs.length === 0) throw new Error('the graph has no inputs or no outputs');
    return { inputs: fed, outputs };
  } catch (e) {
    throw new MlmodelError('ARCHIVE_INVALID', `model.onnx is not a readable ONNX model: ${(e as Error).message}`, {}, { cause: e });
  }
}

function valueInfo(bytes: Uint8Array): TensorSpec {
  const v = fields(bytes);
  const name = text(v, 1);
  const type = v.find((f) => f.no === 2 && f.wire === 2);
  if (!type) throw new Error(`${name} has no type`);
  const tensor = fields(type.bytes!).find((f) => f.no === 1 && f.wire === 2);
  // Sequences and maps (a ZipMap's output) are not tensors: served models must answer with tensors.
  if (!tensor) throw new Error(`${name} is not a tensor (a sequence or map output; convert with zipmap disabled)`);
  const t = fields(tensor.bytes!);
  const elem = Number(t.find((f) => f.no === 1 && f.wire === 0)?.value ?? 0);
  const typeName = (ELEMENT_TYPES as Record<number, OnnxElementType | undefined>)[elem];
  if (typeName === undefined) throw new Error(`${name} has the unsupported element type ${elem}`);
  const shapeField = t.find((f) => f.no === 2 && f.wire === 2);
  const shape = shapeField
    ? fields(shapeField.bytes!)
        .filter((f) => f.no === 1 && f.wire === 2)
        .map((d) => {
          const value = fields(d.bytes!).find((f) => f.no === 1 && f.wire === 0)?.value;
          return value !== undefined && value > 0n ? Number(value) : null;
        })
    : [];
  return { name, type: typeName, shape };
}

interface Field {
  readonly no: number;
  readonly wire: number;
  readonly value?: bigint;
  readonly bytes?: Uint8Array;
}

function text(fs: readonly Field[], no: number): string {
  const f = fs.find((x) => x.no === no && x.wire === 2);
  return f ? new TextDecoder('utf-8', { fatal: true }).decode(f.bytes) : '';
}

/** The top-level fields of one protobuf message; length-delimited values are views, not copies. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length || shift > 63n) throw new Error('truncated or overlong varint');
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  while (at < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw new Error('field number 0');
    switch (wire) {
      case 0:
        out.push({ no, wire, value: varint() });
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const len = Number(varint());
        if (at + len > buf.length) throw new Error('a field runs past the end');
        out.push({ no, wire, bytes: buf.subarray(at, at + len) });
        at += len;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new Error(`wire type ${wire}`);
    }
    if (at > buf.length) throw new Error('a field runs past the end');
  }
  return out;
}
