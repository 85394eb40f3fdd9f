import type { Secret } from '../../src/config/index.js';
import type { ErrorCode } from '../../src/errors.js';
import { errorJson, errorReport } from '../errors.js';

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
  BUCKET_NOT_FOUND: 404,
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
 * Any thrown value as an HTTP status and JSON body, through the one error
 * report (console/errors.ts): parse errors keep their positions, engine
 * errors their code and details, messages are redacted, and an unexpected
 * error is INTERNAL without its message, which the caller logs instead.
 */
export function toHttpError(e: unknown, secrets: readonly Secret[]): HttpError {
  if (e instanceof HttpError) return e;
  const report = errorReport(e, secrets);
  const { code, message, ...extra } = errorJson(report);
  if (report.parse) return new HttpError(400, 'PARSE_ERROR', message, extra);
  if (report.internal) return new HttpError(500, 'INTERNAL', message);
  return new HttpError(STATUS[code as ErrorCode] ?? 500, code as ErrorCode, message, extra);
}

export function errorBody(err: HttpError): ErrorBody {
  return { type: typeOf(err.code), message: err.message, error: { code: err.code, message: err.message, ...err.extra } };
}
