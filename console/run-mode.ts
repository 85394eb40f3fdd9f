import type { Writable } from 'node:stream';
import { parse, ParseError } from '../grammar/index.js';
import type { Registry } from '../src/engine/registry.js';
import type { Query } from '../grammar/ast.js';
import type { ResultTable } from '../src/result/table.js';
import { isMlmodelError } from '../src/errors.js';
import { redact } from '../src/config/index.js';
import type { Format } from './args.js';
import type { LineProgress } from './progress.js';
import { EXIT_OK, EXIT_QUERY_FAILED, EXIT_USAGE } from './exit-codes.js';
import { render } from './render/formats.js';
import { safeJson } from './render/safe-json.js';
import { terminalText } from './render/terminal-text.js';
import type { SourcedStatement } from './statements.js';

export interface RunOutput {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable;
  readonly format: Format;
  /** --raw: CSV/TSV cells exactly as stored. */
  readonly raw?: boolean;
  readonly continueOnError: boolean;
  readonly color: boolean;
  readonly signal?: AbortSignal;
  /** Progress of long commands (a line on a terminal's stderr); none when stderr is not a terminal. */
  readonly progress?: LineProgress | undefined;
}

/**
 * Runs statements one after another — the one loop behind -c, -f and piped
 * input. Results go to stdout in the chosen format; errors to stderr (and,
 * for json formats, as `{"error":…}` on stdout too, so a consumer reading
 * stdout sees where a result is missing). Stops at the first failure unless
 * told to continue. The status is the worst seen: 2 for a parse error, 1 for
 * a failed query.
 */
export async function runStatements(registry: Registry, statements: readonly SourcedStatement[], out: RunOutput): Promise<number> {
  let status = EXIT_OK;
  const secrets = registry.config.secrets;
  /** Prints one statement's outcome; returns false when the run must stop there. */
  const report = (statement: SourcedStatement, outcome: { table: ResultTable } | { error: unknown }): boolean => {
    let failed: number | null = null;
    if ('table' in outcome) {
      const width = out.stdout.isTTY ? out.stdout.columns : undefined;
      const text = render(outcome.table, out.format, { width, color: out.color, raw: out.raw ?? false });
      // JSON Lines of no rows is no line at all, not an empty one a strict reader would choke on.
      if (text !== '' || out.format !== 'jsonl') out.stdout.write(text + '\n');
      return true;
    }
    const e = outcome.error;
    if (e instanceof ParseError) {
      failed = EXIT_USAGE;
      out.stderr.write(terminalText(e.render({ origin: statement.origin, lineOffset: statement.line - 1 }), { lines: true, tabs: true }) + '\n');
      if (isJsonFormat(out.format)) out.stdout.write(safeJson({ error: e.toJSON() }) + '\n');
    } else if (isMlmodelError(e)) {
      failed = EXIT_QUERY_FAILED;
      const message = redact(e.message, secrets);
      out.stderr.write(terminalText(`error at ${statement.origin}, line ${statement.line}: ${message} (${e.code})`, { lines: true }) + '\n');
      if (isJsonFormat(out.format)) out.stdout.write(safeJson({ error: { code: e.code, message } }) + '\n');
    } else {
      throw e;
    }
    status = Math.max(status, failed);
    return out.continueOnError;
  };
  const runOptions = {
    ...(out.signal ? { signal: out.signal } : {}),
    ...(out.progress ? { onProgress: out.progress.report } : {}),
  };
  const parsed = (statement: SourcedStatement): Query | ParseError => {
    try {
      return parse(statement.text);
    } catch (e) {
      if (e instanceof ParseError) return e;
      throw e;
    }
  };

  for (let i = 0; i < statements.length; ) {
    const statement = statements[i]!;
    const query = parsed(statement);
    if (query instanceof ParseError) {
      i++;
      if (!report(statement, { error: query })) break;
      continue;
    }
    // A run of imports is one batch: archives stored concurrently, records
    // committed together (one durable commit on the embedded store).
    const imports: Query[] = [];
    if (query.command.kind === 'import') {
      imports.push(query);
      while (imports.length < IMPORT_BATCH_SIZE && i + imports.length < statements.length) {
        const next = parsed(statements[i + imports.length]!);
        if (next instanceof ParseError || next.command.kind !== 'import') break;
        imports.push(next);
      }
    }
    if (imports.length > 1) {
      const outcomes = await registry
        .importBatch(imports, { ...runOptions, stopAtError: !out.continueOnError })
        .finally(() => out.progress?.clear());
      let go = true;
      for (let k = 0; k < outcomes.length && go; k++) {
        const o = outcomes[k]!;
        if ('skipped' in o) {
          go = false;
          break;
        }
        go = report(statements[i + k]!, o);
      }
      i += imports.length;
      if (!go) break;
      continue;
    }
    i++;
    let outcome: { table: ResultTable } | { error: unknown };
    try {
      outcome = { table: await registry.execute(query, runOptions).finally(() => out.progress?.clear()) };
    } catch (e) {
      outcome = { error: e };
    }
    if (!report(statement, outcome)) break;
  }
  return status;
}

/** Consecutive imports committed together; bounds the memory and the time before results are printed. */
const IMPORT_BATCH_SIZE = 1024;

function isJsonFormat(f: Format): boolean {
  return f === 'json' || f === 'jsonl';
}
