import type { ModelServer } from '../../../src/serving/model-server.js';
import { HttpError } from '../errors.js';

/** One request as a protocol sees it: the server has checked host, origin, token and content type. */
export interface PredictRequest {
  readonly method: string;
  /** The path, percent-decoding left to the protocol (a name may hold an encoded '/'). */
  readonly path: string;
  readonly models: ModelServer;
  /** Whether this server serves one model alone (`mlmodel serve --model`). */
  readonly oneModel: boolean;
  /** The body as JSON (400 when it is not JSON; 413 past the limit). */
  json(): Promise<unknown>;
}

export interface Answer {
  readonly status: number;
  /** JSON, or raw text (MLflow's /ping and /version). */
  readonly body: unknown;
  readonly text?: boolean;
}

/**
 * A prediction protocol: which paths are its own, how it answers them, and
 * its error body (each protocol's clients read errors in its own shape).
 */
export interface PredictProtocol {
  readonly name: string;
  owns(path: string): boolean;
  handle(req: PredictRequest): Promise<Answer>;
  errorBody(err: HttpError): unknown;
}

/** A path segment, percent-decoded; a malformed escape is the client's error. */
export function segment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `the path segment ${JSON.stringify(s.slice(0, 100))} is not valid percent-encoding`);
  }
}

export function methodNotAllowed(method: string, allowed: string): HttpError {
  return new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed}`, {}, { Allow: allowed });
}

export function routeNotFound(path: string, hint: string): HttpError {
  return new HttpError(404, 'ROUTE_NOT_FOUND', `no such endpoint: ${path.slice(0, 200)}; ${hint}`);
}

/** A JSON object body, or the protocol's 400. */
export function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', `the body must be a JSON object: ${what}`);
  return body as Record<string, unknown>;
}
