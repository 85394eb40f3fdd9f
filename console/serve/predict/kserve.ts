import type { ServedModel, VersionSelector } from '../../../src/serving/model-server.js';
import type { TensorSpec } from '../../../src/serving/onnx-graph.js';
import { dims, TYPE_NAMES } from '../../../src/serving/tensor-types.js';
import { flatTensor } from '../../../src/serving/tensors.js';
import { HttpError } from '../errors.js';
import { methodNotAllowed, objectBody, routeNotFound, segment, type Answer, type PredictProtocol, type PredictRequest } from './protocol.js';

/**
 * KServe's Open Inference Protocol, REST (version 2), as Triton and KServe
 * answer it:
 *
 * - `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2` (server metadata);
 * - `GET /v2/models/NAME[/versions/V]`: name, versions, platform, inputs and outputs;
 * - `GET /v2/models/NAME[/versions/V]/ready`;
 * - `POST /v2/models/NAME[/versions/V]/infer`: `{"inputs": [{"name", "shape",
 *   "datatype", "data"}], "outputs"?: [{"name"}]}` → `{"model_name",
 *   "model_version", "id"?, "outputs": [{"name", "shape", "datatype", "data"}]}`.
 *
 * Errors are `{"error": "<message>"}`.
 */
const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

export function kserve(serverVersion: string): PredictProtocol {
  return {
    name: 'KServe Open Inference Protocol v2',
    owns: (path) => path === '/v2' || path.startsWith('/v2/'),
    errorBody: (err) => ({ error: err.message }),
    async handle(req: PredictRequest): Promise<Answer> {
      const get = () => {
        if (req.method !== 'GET') throw methodNotAllowed(req.method, 'GET');
      };
      if (req.path === '/v2') {
        get();
        return { status: 200, body: { name: 'mlmodel', version: serverVersion, extensions: [] } };
      }
      if (req.path === '/v2/health/live') {
        get();
        return { status: 200, body: { live: true } };
      }
      if (req.path === '/v2/health/ready') {
        get();
        return { status: req.models.ready ? 200 : 503, body: { ready: req.models.ready } };
      }
      const m = MODEL_PATH.exec(req.path);
      if (!m) throw routeNotFound(req.path, 'KServe v2 paths are /v2/health/{live,ready} and /v2/models/NAME[/versions/V][/ready|/infer]');
      const name = segment(m[1]!);
      const selector: VersionSelector = m[2] === undefined ? {} : { version: versionNumber(segment(m[2])) };
      if (m[3] === '/infer') {
        if (req.method !== 'POST') throw methodNotAllowed(req.method, 'POST');
        return infer(req.models.resolve(name, selector), await req.json());
      }
      get();
      if (m[3] === '/ready') {
        // Not served (unknown, failed, still loading): not ready, and the reason.
        try {
          req.models.resolve(name, selector);
          return { status: 200, body: { name, ready: true } };
        } catch (e) {
          if (e instanceof Error && 'code' in e && e.code === 'NOT_FOUND') return { status: 400, body: { name, ready: false, error: e.message } };
          throw e;
        }
      }
      const model = req.models.resolve(name, selector);
      const versions = selector.version !== undefined ? [model.version] : req.models.states(name).filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
      return {
        status: 200,
        body: {
          name,
          versions: versions.map(String),
          platform: 'onnxruntime_onnx',
          inputs: model.signature.inputs.map(metadata),
          outputs: model.signature.outputs.map(metadata),
        },
      };
    },
  };
}

function metadata(t: TensorSpec) {
  return { name: t.name, datatype: TYPE_NAMES[t.type].kserve, shape: dims(t.shape) };
}

function versionNumber(s: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(s)) throw new HttpError(400, 'BAD_REQUEST', `a model version is a positive whole number, not ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

async function infer(model: ServedModel, raw: unknown): Promise<Answer> {
  const body = objectBody(raw, '{"inputs": [{"name", "shape", "datatype", "data"}]}');
  if (!Array.isArray(body.inputs)) throw new HttpError(400, 'BAD_REQUEST', '"inputs" must be a list of tensors {"name", "shape", "datatype", "data"}');
  const given = new Map<string, Record<string, unknown>>();
  for (const t of body.inputs as unknown[]) {
    const tensor = objectBody(t, 'each input is {"name", "shape", "datatype", "data"}');
    if (typeof tensor.name !== 'string') throw new HttpError(400, 'BAD_REQUEST', 'each input needs a "name"');
    if (given.has(tensor.name)) throw new HttpError(400, 'BAD_REQUEST', `input ${tensor.name} is given twice`);
    given.set(tensor.name, tensor);
  }
  for (const n of given.keys()) {
    if (!model.signature.inputs.some((s) => s.name === n)) {
      throw new HttpError(400, 'BAD_REQUEST', `unexpected inference input '${n}' for model '${model.name}'; its inputs: ${model.signature.inputs.map((s) => s.name).join(', ')}`);
    }
  }
  const inputs = model.signature.inputs.map((spec) => {
    const t = given.get(spec.name);
    if (!t) throw new HttpError(400, 'BAD_REQUEST', `expected input '${spec.name}' for model '${model.name}'`);
    const want = TYPE_NAMES[spec.type].kserve;
    if (t.datatype !== want) throw new HttpError(400, 'BAD_REQUEST', `input '${spec.name}' has datatype ${JSON.stringify(t.datatype)}; the model expects ${want}`);
    return flatTensor(spec, t.shape, t.data);
  });
  let wanted: string[] | null = null;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw new HttpError(400, 'BAD_REQUEST', '"outputs" must be a list of {"name"}');
    wanted = (body.outputs as unknown[]).map((o) => {
      const n = objectBody(o, 'each requested output is {"name"}').name;
      if (typeof n !== 'string' || !model.signature.outputs.some((s) => s.name === n)) throw new HttpError(400, 'BAD_REQUEST', `the model has no output ${JSON.stringify(n)}`);
      return n;
    });
  }
  const outputs = await model.predict(inputs);
  return {
    status: 200,
    body: {
      model_name: model.name,
      model_version: String(model.version),
      ...(typeof body.id === 'string' ? { id: body.id } : {}),
      outputs: outputs
        .filter((o) => wanted === null || wanted.includes(o.name))
        .map((o) => ({ name: o.name, datatype: TYPE_NAMES[o.type].kserve, shape: o.shape, data: o.data })),
    },
  };
}
