import { ParseError } from '../grammar/index.js';
import { isMlmodelError } from '../src/errors.js';
import type { ResultTable } from '../src/result/table.js';

/** Exit statuses of the `mlmodel` command (docs/console.md); scripts rely on them. */
export const EXIT_OK = 0;
/** A query was valid but failed while running. */
export const EXIT_QUERY_FAILED = 1;
/** Bad flags, an unreadable input file, or a parse error. */
export const EXIT_USAGE = 2;
/** fsck(8)'s "errors left uncorrected": a check found problems it did not (or could not) repair. */
export const EXIT_UNCORRECTED = 4;

/**
 * The status a result stands for, fsck(8)'s way: 1 when a check corrected
 * problems (and none are left), 4 when problems are left, 0 for anything else.
 */
export function exitStatusOfTable(t: ResultTable): number {
  if (!t.findings) return EXIT_OK;
  if (t.findings.uncorrected > 0) return EXIT_UNCORRECTED;
  return t.findings.corrected > 0 ? EXIT_QUERY_FAILED : EXIT_OK;
}

/** The status an error stands for: a parse error is a usage error (2), any other failure a failed query (1). */
export function exitStatusOf(e: unknown): number {
  return e instanceof ParseError ? EXIT_USAGE : EXIT_QUERY_FAILED;
}

/** The status when the registry cannot be opened: a bad configuration is a usage error (2), anything else a failure (1). */
export function openFailureStatus(e: unknown): number {
  return isMlmodelError(e) && (e.code === 'CONFIG_INVALID' || e.code === 'CONNECTOR_UNKNOWN') ? EXIT_USAGE : EXIT_QUERY_FAILED;
}
