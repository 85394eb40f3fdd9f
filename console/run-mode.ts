import type { Writable } from 'node:stream';
import type { Registry } from '../src/engine/registry.js';
import type { Format } from './args.js';
import type { LineProgress } from './progress.js';
import { tallerThan, type Pager } from './pager.js';
import { errorJson, errorReport, errorText } from './errors.js';
import { EXIT_OK, exitStatusOf, exitStatusOfTable } from './exit-codes.js';
import { lineEnd, render } from './render/formats.js';
import { safeJson } from './render/safe-json.js';
import { terminalText } from './render/terminal-text.js';
import type { SourcedStatement } from './statements.js';

export interface RunOutput {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: Writable;
  readonly format: Format;
  /** --raw: CSV/TSV cells exactly as stored. */
  readonly raw?: boolean;
  readonly continueOnError: boolean;
  readonly color: boolean;
  readonly signal?: AbortSignal;
  /** Progress of long commands (a line on a terminal's stderr); none when stderr is not a terminal. */
  readonly progress?: LineProgress | undefined;
  /** Shows a result taller than the terminal (console/pager.ts); none when stdout is not a terminal or paging is off. */
  readonly pager?: Pager | null | undefined;
}

/**
 * Prints the outcomes of the engine's run loop (registry.runStatements) for
 * -c, -f and piped input. Results go to stdout in the chosen format; errors to stderr (and,
 * for json formats, as `{"error":…}` on stdout too, so a consumer reading
 * stdout sees where a result is missing). Stops at the first failure unless
 * told to continue. The status is the worst seen: 4 for a check that left
 * problems (fsck), 2 for a parse error, 1 for a failed query or a check that
 * corrected problems.
 */
export async function runStatements(registry: Registry, statements: readonly SourcedStatement[], out: RunOutput): Promise<number> {
  let status = EXIT_OK;
  const secrets = registry.config.secrets;
  const runOptions = {
    ...(out.signal ? { signal: out.signal } : {}),
    ...(out.progress ? { onProgress: out.progress.report } : {}),
    continueOnError: out.continueOnError,
  };
  let results = 0;
  for await (const outcome of registry.runStatements(statements, runOptions)) {
    out.progress?.clear();
    const statement = outcome.statement;
    if ('table' in outcome) {
      const width = out.stdout.isTTY ? out.stdout.columns : undefined;
      const text = render(outcome.table, out.format, { width, color: out.color, raw: out.raw ?? false });
      // CSV and TSV: each result with its own header, an empty line between
      // results, so a spreadsheet shows them as separate blocks.
      if (results++ > 0 && (out.format === 'csv' || out.format === 'tsv')) out.stdout.write(lineEnd(out.format));
      // JSON Lines of no rows is no line at all, not an empty one a strict reader would choke on.
      if (out.pager && tallerThan(text, out.stdout.rows)) await out.pager(text + lineEnd(out.format));
      else if (text !== '' || out.format !== 'jsonl') out.stdout.write(text + lineEnd(out.format));
      status = Math.max(status, exitStatusOfTable(outcome.table));
      continue;
    }
    const e = outcome.error;
    const report = errorReport(e, secrets);
    // The runner turns every failure into a ParseError or an MlmodelError; anything else is a bug for main's handler.
    if (report.internal) throw e;
    out.stderr.write(terminalText(errorText(report, statement), { lines: true, tabs: true }) + '\n');
    if (isJsonFormat(out.format)) out.stdout.write(safeJson({ error: errorJson(report) }) + '\n');
    status = Math.max(status, exitStatusOf(e));
  }
  return status;
}

function isJsonFormat(f: Format): boolean {
  return f === 'json' || f === 'jsonl';
}
