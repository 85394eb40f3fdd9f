import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn, type Listening } from './listen.js';
import { redact, type HttpConfig, type Secret } from '../../src/config/index.js';
import type { ModelServer } from '../../src/serving/model-server.js';
import { Authenticator } from './auth.js';
import { HttpError, toHttpError } from './errors.js';
import { corsHeaders, readBody, RequestGuard, requireJson } from './guard.js';
import { kserve } from './predict/kserve.js';
import { mlflow } from './predict/mlflow.js';
import type { PredictProtocol } from './predict/protocol.js';
import { tfServing } from './predict/tf-serving.js';

export interface PredictServerOptions {
  readonly models: ModelServer;
  /** Tokens, allowed hosts and origins: the query API's (`registry.config.http`). */
  readonly http: HttpConfig;
  /** The user requests run as without tokens. */
  readonly user: string;
  readonly secrets: readonly Secret[];
  /** `mlmodel serve --model`: MLflow's endpoints answer at the root. */
  readonly oneModel: boolean;
  /** What /version and /v2 say. */
  readonly version: string;
  /** Largest request body (default 32 MiB; past it the protocol's 413). */
  readonly maxBodyBytes?: number;
  readonly log?: (line: string) => void;
  /**
   * The worker number, under `serve --predict-workers N` (console/serve/predict-workers.ts):
   * every answer says which worker gave it in X-Mlmodel-Worker. A single process sends no such header.
   */
  readonly worker?: number;
}

export interface PredictServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<Listening>;
  close(): Promise<void>;
}

const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
/** URLs whose route is remembered; past it the memory starts afresh (a client sending ever new query strings). */
const MAX_ROUTES = 1024;
/** Longer URLs are routed afresh each time: the memory stays under 1024 × 1 KiB. */
const MAX_ROUTE_URL = 1024;

interface Route {
  readonly path: string;
  /** null: no protocol owns the path (404, in TF Serving's error shape). */
  readonly protocol: PredictProtocol | null;
}

/**
 * The prediction port of `mlmodel serve`: TF Serving's REST API, KServe's
 * Open Inference Protocol v2 and MLflow's scoring protocol over the models
 * a ModelServer has loaded. The query API's guard (Host, Origin, JSON
 * bodies) and tokens apply as they are; every error, theirs included, is
 * answered in the shape of the protocol the path belongs to.
 */
export function createPredictServer(options: PredictServerOptions): PredictServer {
  const protocols: PredictProtocol[] = [tfServing, kserve(options.version), mlflow(options.version)];
  const auth = new Authenticator(options.http, options.user);
  const guard = new RequestGuard(options.http);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const log = options.log ?? (() => undefined);
  const worker = options.worker === undefined ? undefined : String(options.worker);
  // Requests being answered, by count: a Set of their promises (and the .finally that kept it) cost
  // every request two promises and two Set writes, for close() alone to read.
  // close() waits for the requests begun before it, as it did for the Set's: later ones are not counted.
  let active = 0;
  let closing = false;
  let idle: (() => void) | null = null;
  const finished = () => {
    if (--active === 0 && idle !== null) idle();
  };
  const failed = (res: ServerResponse) => () => void res.destroy();
  // A client sends the same few URLs again and again: each one's path and protocol is worked out once.
  const routes = new Map<string, Route>();
  const route = (url: string): Route => {
    let r = routes.get(url);
    if (r === undefined) {
      const path = new URL(url, 'http://localhost').pathname.replace(/(?<=.)\/+$/, '');
      r = { path, protocol: protocols.find((p) => p.owns(path)) ?? null };
      if (url.length <= MAX_ROUTE_URL) {
        if (routes.size >= MAX_ROUTES) routes.clear();
        routes.set(url, r);
      }
    }
    return r;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let path = '/';
    let protocol: PredictProtocol = tfServing;
    if (worker !== undefined) res.setHeader('X-Mlmodel-Worker', worker);
    try {
      const r = route(req.url ?? '/');
      path = r.path;
      protocol = r.protocol ?? tfServing;
      const crossOrigin = guard.check(req);
      if (crossOrigin !== null) for (const [k, v] of Object.entries(corsHeaders(crossOrigin))) res.setHeader(k, v);
      if (req.method === 'OPTIONS') {
        // A preflight from an allowed origin (the guard refused any other): GET and POST, with a token and a JSON body.
        const headers: Record<string, string> = { Allow: 'GET, POST, OPTIONS', 'Content-Length': '0', 'Cache-Control': 'no-store' };
        if (crossOrigin !== null) Object.assign(headers, { 'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Allow-Headers': 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' });
        res.writeHead(204, headers);
        res.end();
        return;
      }
      auth.authenticate(req);
      if (r.protocol === null) {
        throw new HttpError(404, 'ROUTE_NOT_FOUND', `no such endpoint: ${path.slice(0, 200)}; this port answers /v1/models/… (TF Serving), /v2/… (KServe) and /mlflow/NAME/… (MLflow); see docs/serving.md`);
      }
      const method = req.method ?? 'GET';
      const answer = await protocol.handle({
        method,
        path,
        models: options.models,
        oneModel: options.oneModel,
        async json() {
          requireJson(req);
          const raw = await readBody(req, maxBody);
          try {
            return JSON.parse(raw.toString('utf8')) as unknown;
          } catch (e) {
            throw new HttpError(400, 'BAD_REQUEST', `the body is not JSON: ${(e as Error).message.slice(0, 200)}`);
          }
        },
      });
      const text = answer.text ? String(answer.body) : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'Content-Type': answer.text ? 'text/plain; charset=utf-8' : 'application/json',
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(text);
    } catch (e) {
      const err = toHttpError(e, options.secrets);
      if (err.code === 'INTERNAL' && !(e instanceof HttpError)) log(`internal error on ${req.method} ${path}: ${redact(e instanceof Error ? (e.stack ?? e.message) : String(e), options.secrets)}`);
      // A body refused unread is not drained: the connection closes after the answer.
      if (!req.complete) res.setHeader('Connection', 'close');
      const text = JSON.stringify(protocol.errorBody(err));
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(err.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...err.headers });
      res.end(text);
    } finally {
      log(`${req.method} ${path} ${res.statusCode} ${Date.now() - started}ms`);
    }
  }

  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000, keepAliveTimeout: 5_000, requireHostHeader: false },
    (req, res) => {
      if (closing) {
        handle(req, res).catch(failed(res));
        return;
      }
      active++;
      handle(req, res).then(finished, () => {
        res.destroy();
        finished();
      });
    },
  );

  return {
    server,
    listen(port, host) {
      return listenOn(server, port, host);
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (active > 0) await new Promise<void>((r) => (idle = r));
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
      await closed;
    },
  };
}
