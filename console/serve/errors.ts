import { ParseError } from '../../grammar/index.js';
import { redact } from '../../src/config/index.js';
import type { Secret } from '../../src/config/index.js';
import { isMlmodelError, type ErrorCode } from '../../src/errors.js';

/** Codes the HTTP layer adds to the engine's own. */
export type HttpErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'FORBIDDEN_HOST'
  | 'FORBIDDEN_ORIGIN'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RESULT_TOO_LARGE'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'JOB_NOT_FOUND'
  | 'TOO_MANY_QUERIES'
  | 'QUERY_TIMEOUT';

/** An error the server answers with: an HTTP status and a JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode | ErrorCode | 'PARSE_ERROR',
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The HTTP status for each engine error code. */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 500,
  CONNECTOR_UNKNOWN: 400,
  STORE_UNAVAILABLE: 503,
  DUPLICATE_KEY: 409,
  NOT_FOUND: 404,
  OBJECT_NOT_FOUND: 404,
  CHECKSUM_MISMATCH: 422,
  FILTER_INVALID: 400,
  STORE_ERROR: 500,
  OBJECT_KEY_INVALID: 400,
  MODEL_NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  CONFLICT: 409,
  ARCHIVE_INVALID: 422,
  CANCELLED: 499,
  INTERNAL: 500,
};

/** What `type` says at the top of an error body (IRIS answers `{"type", "message"}`). */
function typeOf(code: string): string {
  if (code === 'PARSE_ERROR') return 'ParseError';
  if (code === 'UNAUTHORIZED' || code.startsWith('FORBIDDEN')) return 'AuthError';
  return 'RuntimeError';
}

export interface ErrorBody {
  readonly type: string;
  readonly message: string;
  readonly error: { readonly code: string; readonly message: string } & Record<string, unknown>;
}

/**
 * Any thrown value as an HTTP status and JSON body. Parse errors keep their
 * position (line, column, offset, length, expected, suggestion, issues);
 * engine errors keep their code and details; messages are redacted; an
 * unexpected error is reported as INTERNAL without its message, which the
 * caller logs instead.
 */
export function toHttpError(e: unknown, secrets: readonly Secret[]): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof ParseError) {
    const extra: Record<string, unknown> = {
      line: e.line,
      column: e.column,
      offset: e.offset,
      length: e.length,
      text: e.text,
      expected: e.expected,
      issues: e.issues,
    };
    if (e.suggestion !== undefined) extra.suggestion = e.suggestion;
    return new HttpError(400, 'PARSE_ERROR', e.message, extra);
  }
  if (isMlmodelError(e)) {
    const details = JSON.parse(redact(JSON.stringify(e.details ?? {}), secrets)) as Record<string, unknown>;
    return new HttpError(STATUS[e.code] ?? 500, e.code, redact(e.message, secrets), { details });
  }
  return new HttpError(500, 'INTERNAL', 'internal error; the server log has the details');
}

export function errorBody(err: HttpError): ErrorBody {
  return { type: typeOf(err.code), message: err.message, error: { code: err.code, message: err.message, ...err.extra } };
}
