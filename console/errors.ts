import { ParseError } from '../grammar/index.js';
import { redact, type Secret } from '../src/config/redact.js';
import { isMlmodelError } from '../src/errors.js';

/**
 * An error as every front end presents it — the CLI's stderr and JSON
 * output, the REPL, the HTTP server's bodies: its code, its message and
 * details with secrets removed, and for a parse error the error itself
 * (its positions and caret). Made once by `errorReport`; the three ways of
 * showing it below are the only ones.
 */
export interface ErrorReport {
  /** An engine ErrorCode, PARSE_ERROR, CANCELLED or INTERNAL. */
  readonly code: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly parse?: ParseError;
  /** Not an MlmodelError or ParseError: a bug. Its message goes to a log, never to a client. */
  readonly internal: boolean;
}

export function errorReport(e: unknown, secrets: Iterable<Secret | string> = []): ErrorReport {
  if (e instanceof ParseError) return { code: 'PARSE_ERROR', message: e.message, details: {}, parse: e, internal: false };
  if (isMlmodelError(e)) {
    const details = JSON.parse(redact(JSON.stringify(e.details ?? {}), secrets)) as Record<string, unknown>;
    return { code: e.code, message: redact(e.message, secrets), details, internal: false };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message: redact(message, secrets), details: {}, internal: true };
}

/** Where a statement came from, for a message that names it (`-f` files, `-c`). */
export interface StatementPlace {
  readonly origin: string;
  readonly line: number;
}

/** For a person: a parse error with its caret, an engine error with its code, `cancelled`, or an internal error. */
export function errorText(report: ErrorReport, place?: StatementPlace): string {
  if (report.parse) return report.parse.render(place ? { origin: place.origin, lineOffset: place.line - 1 } : {});
  // At the prompt, Ctrl-C's own line; a script names the statement it cancelled like any other failure.
  if (report.code === 'CANCELLED' && !place) return 'cancelled';
  if (report.internal) return `internal error: ${report.message}`;
  const where = place ? ` at ${place.origin}, line ${place.line}` : '';
  return `error${where}: ${report.message} (${report.code})`;
}

/**
 * For machine formats (`--format json`, HTTP bodies): the code and message,
 * then a parse error's positions, expected tokens, suggestion and issues, or
 * an engine error's details. An internal error's message stays out.
 */
export function errorJson(report: ErrorReport): { code: string; message: string } & Record<string, unknown> {
  const e = report.parse;
  if (e) {
    return {
      code: report.code,
      message: report.message,
      line: e.line,
      column: e.column,
      offset: e.offset,
      length: e.length,
      text: e.text,
      expected: e.expected,
      ...(e.suggestion !== undefined ? { suggestion: e.suggestion } : {}),
      issues: e.issues,
    };
  }
  if (report.internal) return { code: 'INTERNAL', message: 'internal error; the server log has the details' };
  return { code: report.code, message: report.message, details: report.details };
}

/** One message for a person, secrets removed (the REPL's and main's shorthand). */
export function describeError(e: unknown, secrets: Iterable<Secret | string> = []): string {
  return errorText(errorReport(e, secrets));
}
