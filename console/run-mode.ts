import type { Writable } from 'node:stream';
import { drainedOrClosed } from '../src/result/drain.js';
import type { Registry } from '../src/engine/registry.js';
import type { Format } from './args.js';
import type { LineProgress } from './progress.js';
import { tallerThan, type Pager, type PagerSink, type StreamingPager } from './pager.js';
import { errorJson, errorReport, errorText } from './errors.js';
import { EXIT_OK, exitStatusOf, exitStatusOfTable } from './exit-codes.js';
import { lineEnd, render } from './render/formats.js';
import { writeStreamed, type WriteText } from './render/stream.js';
import { isStreamed, type StreamedTable } from '../src/result/table.js';
import { MlmodelError } from '../src/errors.js';
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
  readonly pager?: Pager | StreamingPager | null | undefined;
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
  /** Prints a statement's error (stderr, and stdout in the JSON formats); its exit status. */
  const reportError = (e: unknown, statement: SourcedStatement): number => {
    const report = errorReport(e, secrets);
    // The runner turns every failure into a ParseError or an MlmodelError; anything else is a bug for main's handler.
    if (report.internal) throw e;
    out.stderr.write(terminalText(errorText(report, statement), { lines: true, tabs: true }) + '\n');
    if (isJsonFormat(out.format)) out.stdout.write(safeJson({ error: errorJson(report) }) + '\n');
    return exitStatusOf(e);
  };
  for await (const outcome of registry.runStatements(statements, { ...runOptions, stream: true })) {
    out.progress?.clear();
    const statement = outcome.statement;
    if ('table' in outcome && isStreamed(outcome.table)) {
      if (results++ > 0 && (out.format === 'csv' || out.format === 'tsv')) out.stdout.write(lineEnd(out.format));
      const failure = await writeStream(outcome.table, out);
      if (failure === null) continue;
      // The rows before the failure are out; the error follows them, on a line of its own.
      status = Math.max(status, reportError(failure, statement));
      if (!out.continueOnError) break;
      continue;
    }
    if ('table' in outcome && !isStreamed(outcome.table)) {
      const table = outcome.table;
      const width = out.stdout.isTTY ? out.stdout.columns : undefined;
      const text = render(table, out.format, { width, color: out.color, raw: out.raw ?? false });
      // CSV and TSV: each result with its own header, an empty line between
      // results, so a spreadsheet shows them as separate blocks.
      if (results++ > 0 && (out.format === 'csv' || out.format === 'tsv')) out.stdout.write(lineEnd(out.format));
      // JSON Lines of no rows is no line at all, not an empty one a strict reader would choke on.
      if (out.pager && tallerThan(text, out.stdout.rows)) await out.pager(text + lineEnd(out.format));
      else if (text !== '' || out.format !== 'jsonl') out.stdout.write(text + lineEnd(out.format));
      status = Math.max(status, exitStatusOfTable(table));
      continue;
    }
    if ('error' in outcome) status = Math.max(status, reportError(outcome.error, statement));
  }
  return status;
}

function isJsonFormat(f: Format): boolean {
  return f === 'json' || f === 'jsonl';
}

/** The text that ends where a pager has quit: the stream is left, quietly. */
class PagerQuit extends Error {}

/**
 * Writes a streamed result as it is read, with stdout's backpressure; on a
 * terminal with a pager, through the pager once the text is taller than the
 * window (what it holds until then is at most a screenful and a page).
 * Returns the error that stopped the reading, or null; either way the
 * stream is closed. A pager the person quits ends the reading without error.
 */
async function writeStream(t: StreamedTable, out: RunOutput): Promise<unknown> {
  const width = out.stdout.isTTY ? out.stdout.columns : undefined;
  let last = '\n';
  const toStdout: WriteText = (text) => {
    if (text === '') return Promise.resolve();
    last = text;
    if (out.stdout.write(text)) return Promise.resolve();
    return drainedOrClosed(out.stdout);
  };
  const pager = out.pager && 'open' in out.pager ? out.pager : null;
  let held: string[] | null = pager ? [] : null;
  let heldText = '';
  let sink: PagerSink | null = null;
  const write: WriteText = async (text) => {
    // Ctrl-C, or the reader gone (main then keeps quiet and exits 0): the rows stop here.
    if (out.signal?.aborted) throw new MlmodelError('CANCELLED', 'the query was cancelled');
    if (sink) {
      await sink.write(text);
      if (sink.gone) throw new PagerQuit();
      return;
    }
    if (held === null) return toStdout(text);
    held.push(text);
    heldText += text;
    if (!tallerThan(heldText, out.stdout.rows)) return;
    sink = pager!.open();
    const first = heldText;
    held = null;
    heldText = '';
    await sink.write(first);
  };
  let failure: unknown = null;
  try {
    await writeStreamed(t, out.format, { width, color: out.color, raw: out.raw ?? false }, write);
  } catch (e) {
    if (!(e instanceof PagerQuit)) failure = e;
  } finally {
    await t.close();
  }
  if (sink) await (sink as PagerSink).end();
  else if (held !== null && heldText !== '') await toStdout(heldText);
  if (failure !== null && !last.endsWith('\n')) out.stdout.write('\n');
  return failure;
}
