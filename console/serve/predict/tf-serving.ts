import type { ServedModel, VersionSelector } from '../../../src/serving/model-server.js';
import { dims, TYPE_NAMES } from '../../../src/serving/tensor-types.js';
import { columnInputs, nestedOutput, outputRows, rowInputs, type OutputTensor } from '../../../src/serving/tensors.js';
import type { TensorSpec } from '../../../src/serving/onnx-graph.js';
import { HttpError } from '../errors.js';
import { methodNotAllowed, objectBody, routeNotFound, segment, type Answer, type PredictProtocol, type PredictRequest } from './protocol.js';

/**
 * TensorFlow Serving's REST API (tensorflow.org/tfx/serving/api_rest):
 *
 * - `GET /v1/models/NAME[/versions/N | /labels/L]`: model status;
 * - `GET …/metadata`: the signature, as `serving_default`;
 * - `POST …:predict`: `{"instances": [rows]}` → `{"predictions": [rows]}`,
 *   or `{"inputs": value | {name: value}}` → `{"outputs": …}`.
 *
 * Errors are `{"error": "<message>"}`.
 */
const PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+)|\/labels\/([^/:]+))?(?:(\/metadata)|:([A-Za-z]+))?$/;

export const tfServing: PredictProtocol = {
  name: 'TensorFlow Serving REST',
  owns: (path) => path === '/v1' || path.startsWith('/v1/'),
  errorBody: (err) => ({ error: err.message }),
  async handle(req: PredictRequest): Promise<Answer> {
    const m = PATH.exec(req.path);
    if (!m) throw routeNotFound(req.path, 'TF Serving paths are /v1/models/NAME[/versions/N|/labels/L][/metadata|:predict]');
    const name = segment(m[1]!);
    const selector: VersionSelector = m[2] !== undefined ? { version: versionNumber(segment(m[2])) } : m[3] !== undefined ? { label: segment(m[3]) } : {};
    const [metadata, verb] = [m[4] !== undefined, m[5]];
    if (verb !== undefined) {
      if (verb !== 'predict') {
        throw new HttpError(400, 'BAD_REQUEST', `:${verb} is not served: the models here answer :predict (classify and regress need TensorFlow Examples)`);
      }
      if (req.method !== 'POST') throw methodNotAllowed(req.method, 'POST');
      return predict(req.models.resolve(name, selector), await req.json());
    }
    if (req.method !== 'GET') throw methodNotAllowed(req.method, 'GET');
    if (metadata) return { status: 200, body: metadataBody(req.models.resolve(name, selector)) };
    return { status: 200, body: statusBody(req, name, selector) };
  },
};

function versionNumber(s: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(s)) throw new HttpError(400, 'BAD_REQUEST', `a version is a positive whole number, not ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

function statusBody(req: PredictRequest, name: string, selector: VersionSelector) {
  let states = req.models.states(name);
  if (selector.label !== undefined || selector.version !== undefined) {
    const wanted = selector.version ?? req.models.resolve(name, selector).version;
    states = states.filter((s) => s.version === wanted);
    if (states.length === 0) throw new HttpError(404, 'NOT_FOUND', `Could not find version ${wanted} of model ${name}`);
  }
  return {
    model_version_status: states.map((s) => ({
      version: String(s.version),
      state: s.state === 'FAILED' ? 'END' : s.state,
      status: s.state === 'FAILED' ? { error_code: 'UNKNOWN', error_message: s.error ?? '' } : { error_code: 'OK', error_message: '' },
    })),
  };
}

function tensorInfo(t: TensorSpec) {
  return {
    dtype: TYPE_NAMES[t.type].tf,
    tensor_shape: { dim: dims(t.shape).map((d) => ({ size: String(d), name: '' })), unknown_rank: false },
    name: t.name,
  };
}

function metadataBody(model: ServedModel) {
  const byName = (ts: readonly TensorSpec[]) => Object.fromEntries(ts.map((t) => [t.name, tensorInfo(t)]));
  return {
    model_spec: { name: model.name, signature_name: '', version: String(model.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: { inputs: byName(model.signature.inputs), outputs: byName(model.signature.outputs), method_name: 'tensorflow/serving/predict' },
        },
      },
    },
  };
}

async function predict(model: ServedModel, raw: unknown): Promise<Answer> {
  const body = objectBody(raw, '{"instances": [...]} or {"inputs": ...}');
  const signature = body.signature_name;
  if (signature !== undefined && signature !== 'serving_default' && signature !== '') {
    throw new HttpError(400, 'BAD_REQUEST', `Serving signature name: "${String(signature)}" not found in signature def`);
  }
  const hasInstances = Object.hasOwn(body, 'instances');
  const hasInputs = Object.hasOwn(body, 'inputs');
  if (hasInstances === hasInputs) throw new HttpError(400, 'BAD_REQUEST', 'JSON Value: the body must hold exactly one of "instances" (rows) or "inputs" (columns)');
  if (hasInstances) {
    const outputs = await model.predict(rowInputs(model.signature, body.instances));
    return { status: 200, body: { predictions: outputRows(outputs) } };
  }
  const outputs = await model.predict(columnInputs(model.signature, body.inputs));
  return { status: 200, body: { outputs: outputs.length === 1 ? nestedOutput(outputs[0]!) : byOutput(outputs) } };
}

function byOutput(outputs: readonly OutputTensor[]): Record<string, unknown> {
  return Object.fromEntries(outputs.map((o) => [o.name, nestedOutput(o)]));
}
