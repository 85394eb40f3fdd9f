/**
 * Errors the engine hands to its callers are values of one class with a
 * stable machine-readable code; the console decides how to show them.
 * Codes are grouped by the layer that raises them.
 */
export type ErrorCode =
  // configuration
  | 'CONFIG_INVALID'
  | 'CONNECTOR_UNKNOWN'
  // stores
  | 'STORE_UNAVAILABLE'
  | 'DUPLICATE_KEY'
  | 'NOT_FOUND'
  | 'OBJECT_NOT_FOUND'
  | 'BUCKET_NOT_FOUND'
  | 'CHECKSUM_MISMATCH'
  | 'FILTER_INVALID'
  | 'STORE_ERROR'
  | 'OBJECT_KEY_INVALID'
  // commands
  | 'MODEL_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'CONFLICT'
  | 'ARCHIVE_INVALID'
  | 'CANCELLED'
  | 'INTERNAL';

export class MlmodelError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MlmodelError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isMlmodelError(e: unknown, code?: ErrorCode): e is MlmodelError {
  return e instanceof MlmodelError && (code === undefined || e.code === code);
}
