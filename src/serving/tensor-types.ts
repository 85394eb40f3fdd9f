import type { OnnxElementType } from './onnx-graph.js';

/**
 * One ONNX element type as each protocol names it: Triton's config.pbtxt
 * (TYPE_FP32), KServe's Open Inference Protocol (FP32), TF Serving's
 * metadata (DT_FLOAT), and how JSON values of it are checked.
 */
export interface TypeNames {
  readonly triton: string;
  readonly kserve: string;
  readonly tf: string;
  /** What JSON value one element is: a number (integral or not) or a boolean or a string. */
  readonly json: 'float' | 'integer' | 'boolean' | 'string';
  /** The smallest and largest integer of an integral type (JSON numbers beyond 2^53 are not exact). */
  readonly range?: readonly [number, number];
}

const SAFE = Number.MAX_SAFE_INTEGER;

export const TYPE_NAMES: Readonly<Record<OnnxElementType, TypeNames>> = {
  float: { triton: 'TYPE_FP32', kserve: 'FP32', tf: 'DT_FLOAT', json: 'float' },
  double: { triton: 'TYPE_FP64', kserve: 'FP64', tf: 'DT_DOUBLE', json: 'float' },
  float16: { triton: 'TYPE_FP16', kserve: 'FP16', tf: 'DT_HALF', json: 'float' },
  bfloat16: { triton: 'TYPE_BF16', kserve: 'BF16', tf: 'DT_BFLOAT16', json: 'float' },
  int8: { triton: 'TYPE_INT8', kserve: 'INT8', tf: 'DT_INT8', json: 'integer', range: [-128, 127] },
  int16: { triton: 'TYPE_INT16', kserve: 'INT16', tf: 'DT_INT16', json: 'integer', range: [-32768, 32767] },
  int32: { triton: 'TYPE_INT32', kserve: 'INT32', tf: 'DT_INT32', json: 'integer', range: [-2147483648, 2147483647] },
  int64: { triton: 'TYPE_INT64', kserve: 'INT64', tf: 'DT_INT64', json: 'integer', range: [-SAFE, SAFE] },
  uint8: { triton: 'TYPE_UINT8', kserve: 'UINT8', tf: 'DT_UINT8', json: 'integer', range: [0, 255] },
  uint16: { triton: 'TYPE_UINT16', kserve: 'UINT16', tf: 'DT_UINT16', json: 'integer', range: [0, 65535] },
  uint32: { triton: 'TYPE_UINT32', kserve: 'UINT32', tf: 'DT_UINT32', json: 'integer', range: [0, 4294967295] },
  uint64: { triton: 'TYPE_UINT64', kserve: 'UINT64', tf: 'DT_UINT64', json: 'integer', range: [0, SAFE] },
  bool: { triton: 'TYPE_BOOL', kserve: 'BOOL', tf: 'DT_BOOL', json: 'boolean' },
  string: { triton: 'TYPE_STRING', kserve: 'BYTES', tf: 'DT_STRING', json: 'string' },
};

/** A shape as the protocols print it: -1 for a dynamic axis. */
export function dims(shape: readonly (number | null)[]): number[] {
  return shape.map((d) => d ?? -1);
}
