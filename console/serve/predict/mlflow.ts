import type { ServedModel } from '../../../src/serving/model-server.js';
import { columnInputs, frameInputs, outputRows, rowInputs, type InputTensor } from '../../../src/serving/tensors.js';
import type { OnnxSignature } from '../../../src/serving/onnx-graph.js';
import { HttpError } from '../errors.js';
import { methodNotAllowed, objectBody, routeNotFound, segment, type Answer, type PredictProtocol, type PredictRequest } from './protocol.js';

/**
 * MLflow's scoring server (`mlflow models serve`): `GET /ping`, `/health`,
 * `/version`, and `POST /invocations` with one of `dataframe_split`,
 * `dataframe_records`, `instances` or `inputs` → `{"predictions": …}`.
 * On the one-model server at the root, as MLflow has it; on the shared
 * server under `/mlflow/NAME/` (so an MLflow client's base URL is
 * `http://HOST:PORT/mlflow/NAME`). Errors are `{"error_code", "message"}`.
 */
const SHARED = /^\/mlflow\/([^/]+)(\/ping|\/health|\/version|\/invocations)$/;
const ROOT = new Set(['/ping', '/health', '/version', '/invocations']);

export function mlflow(serverVersion: string): PredictProtocol {
  return {
    name: 'MLflow scoring',
    owns: (path) => ROOT.has(path) || path.startsWith('/mlflow/'),
    errorBody: (err) => ({ error_code: mlflowCode(err.status), message: err.message }),
    async handle(req: PredictRequest): Promise<Answer> {
      let name: string | null = null;
      let endpoint = req.path;
      if (!ROOT.has(req.path)) {
        const m = SHARED.exec(req.path);
        if (!m) throw routeNotFound(req.path, 'MLflow paths are /mlflow/NAME/{ping,health,version,invocations}');
        name = segment(m[1]!);
        endpoint = m[2]!;
      } else if (!req.oneModel) {
        throw routeNotFound(req.path, `this server serves many models: use /mlflow/NAME${req.path} (docs/serving.md)`);
      }
      const model = (): ServedModel => (name === null ? req.models.resolve(req.models.names()[0] ?? '') : req.models.resolve(name));
      if (endpoint === '/invocations') {
        if (req.method !== 'POST') throw methodNotAllowed(req.method, 'POST');
        const m = model();
        const outputs = await m.predict(inputsOf(m.signature, await req.json()));
        return { status: 200, body: { predictions: outputRows(outputs) } };
      }
      if (req.method !== 'GET') throw methodNotAllowed(req.method, 'GET');
      if (endpoint === '/version') return { status: 200, body: serverVersion, text: true };
      // /ping and /health: healthy once the model is loaded, as MLflow's answers 200 with a newline.
      model();
      return { status: 200, body: '\n', text: true };
    },
  };
}

function mlflowCode(status: number): string {
  if (status === 404) return 'RESOURCE_DOES_NOT_EXIST';
  if (status === 400 || status === 413 || status === 415) return 'BAD_REQUEST';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  return 'INTERNAL_ERROR';
}

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

function inputsOf(sig: OnnxSignature, raw: unknown): InputTensor[] {
  const body = objectBody(raw, `{"dataframe_split" | "dataframe_records" | "instances" | "inputs": …}`);
  const given = FORMATS.filter((f) => Object.hasOwn(body, f));
  const unknown = Object.keys(body).filter((k) => !(FORMATS as readonly string[]).includes(k) && k !== 'params');
  if (given.length !== 1 || unknown.length > 0) {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields {${FORMATS.map((f) => `'${f}'`).join(', ')}}. Received dictionary with input fields: [${Object.keys(body)
        .map((k) => `'${k.slice(0, 40)}'`)
        .join(', ')}].`,
    );
  }
  switch (given[0]!) {
    case 'instances':
      return rowInputs(sig, body.instances);
    case 'inputs':
      return columnInputs(sig, body.inputs);
    case 'dataframe_split': {
      const split = objectBody(body.dataframe_split, '"dataframe_split" is {"columns": [...], "data": [[...]]}');
      const columns = split.columns === undefined ? null : split.columns;
      if (columns !== null && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))) {
        throw new HttpError(400, 'BAD_REQUEST', '"dataframe_split.columns" must be a list of column names');
      }
      if (!Array.isArray(split.data) || !split.data.every((r) => Array.isArray(r))) throw new HttpError(400, 'BAD_REQUEST', '"dataframe_split.data" must be a list of rows');
      for (const r of split.data as unknown[][]) {
        if (columns !== null && r.length !== columns.length) throw new HttpError(400, 'BAD_REQUEST', `a row has ${r.length} values for ${columns.length} columns`);
      }
      return frameInputs(sig, columns as string[] | null, split.data as unknown[][]);
    }
    case 'dataframe_records': {
      const records = body.dataframe_records;
      if (!Array.isArray(records) || records.length === 0) throw new HttpError(400, 'BAD_REQUEST', '"dataframe_records" must be a non-empty list of {column: value} records');
      const first = objectBody(records[0], 'each record is an object {column: value}');
      const columns = Object.keys(first);
      const rows = records.map((r, i) => {
        const rec = objectBody(r, 'each record is an object {column: value}');
        const keys = Object.keys(rec);
        if (keys.length !== columns.length || !columns.every((c) => Object.hasOwn(rec, c))) throw new HttpError(400, 'BAD_REQUEST', `record ${i} does not have the columns of the first record`);
        return columns.map((c) => rec[c]);
      });
      return frameInputs(sig, columns, rows);
    }
  }
}
