import { quote } from './models-config.js';
import type { OnnxSignature, TensorSpec } from './onnx-graph.js';
import { dims, TYPE_NAMES } from './tensor-types.js';

/** The file beside the numbered version directories of an onnx model, as Triton and KServe's Triton runtime read it. */
export const TRITON_CONFIG = 'config.pbtxt';

/**
 * `<serving base>/<serving name>/config.pbtxt`, Triton's ModelConfig in
 * protobuf text format: the onnxruntime backend, the inputs and outputs of
 * the newest version's graph (dims as the graph has them, -1 for a dynamic
 * axis, the batch axis included since max_batch_size is 0), and a
 * `specific` version policy listing exactly the complete versions, so a
 * Triton polling the repository never loads one still being copied.
 */
export function renderTritonConfig(name: string, versions: readonly number[], signature: OnnxSignature): string {
  const tensor = (t: TensorSpec) => `  {\n    name: ${quote(t.name)}\n    data_type: ${TYPE_NAMES[t.type].triton}\n    dims: [ ${dims(t.shape).join(', ')} ]\n  }`;
  return [
    `name: ${quote(name)}`,
    `platform: 'onnxruntime_onnx'`,
    `backend: 'onnxruntime'`,
    'max_batch_size: 0',
    `version_policy: { specific: { versions: [ ${[...versions].sort((a, b) => a - b).join(', ')} ] } }`,
    `input [\n${signature.inputs.map(tensor).join(',\n')}\n]`,
    `output [\n${signature.outputs.map(tensor).join(',\n')}\n]`,
    '',
  ].join('\n');
}
