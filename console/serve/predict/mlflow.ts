import type { ServedModel } from '../../../src/serving/model-server.js';
import { inputsFromBody } from '../../../src/serving/request-forms.js';
import { outputRows } from '../../../src/serving/tensors.js';
import { methodNotAllowed, routeNotFound, segment, type Answer, type PredictProtocol, type PredictRequest } from './protocol.js';

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
      const model = (): ServedModel => req.models.resolve(name ?? req.models.first() ?? '');
      if (endpoint === '/invocations') {
        if (req.method !== 'POST') throw methodNotAllowed(req.method, 'POST');
        const m = model();
        const outputs = await m.predict(inputsFromBody(m.signature, await req.json()));
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
