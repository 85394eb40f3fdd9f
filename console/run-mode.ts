import type { Writable } from 'node:stream';
import { ParseError } from '../grammar/index.js';
import type { Registry } from '../src/engine/registry.js';
import { isMlmodelError } from '../src/errors.js';
import { redact } from '../src/config/index.js';
import type { Format } from './args.js';
import type { LineProgress } from './progress.js';
import { EXIT_OK, exitStatusOf } from './exit-codes.js';
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
 * Prints the outcomes of the engine's run loop (registry.runStatements) for
 * -c, -f and piped input. Results go to stdout in the chosen format; errors to stderr (and,
 * for json formats, as `{"error":…}` on stdout too, so a consumer reading
 * stdout sees where a result is missing). Stops at the first failure unless
 * told to continue. The status is the worst seen: 2 for a parse error, 1 for
 * a failed query.
 */
export async function runStatements(registry: Registry, statements: readonly SourcedStatement[], out: RunOutput): Promise<number> {
  let status = EXIT_OK;
  const secrets = registry.config.secrets;
  const runOptions = {
    ...(out.signal ? { signal: out.signal } : {}),
    ...(out.progress ? { onProgress: out.progress.report } : {}),
    continueOnError: out.continueOnError,
  };
  for await (const outcome of registry.runStatements(statements, runOptions)) {
    out.progress?.clear();
    const statement = outcome.statement;
    if ('table' in outcome) {
      const width = out.stdout.isTTY ? out.stdout.columns : undefined;
      const text = render(outcome.table, out.format, { width, color: out.color, raw: out.raw ?? false });
      // JSON Lines of no rows is no line at all, not an empty one a strict reader would choke on.
      if (text !== '' || out.format !== 'jsonl') out.stdout.write(text + '\n');
      continue;
    }
    const e = outcome.error;
    if (e instanceof ParseError) {
      out.stderr.write(terminalText(e.render({ origin: statement.origin, lineOffset: statement.line - 1 }), { lines: true, tabs: true }) + '\n');
      if (isJsonFormat(out.format)) out.stdout.write(safeJson({ error: e.toJSON() }) + '\n');
    } else if (isMlmodelError(e)) {
      const message = redact(e.message, secrets);
      out.stderr.write(terminalText(`error at ${statement.origin}, line ${statement.line}: ${message} (${e.code})`, { lines: true }) + '\n');
      if (isJsonFormat(out.format)) out.stdout.write(safeJson({ error: { code: e.code, message } }) + '\n');
    } else {
      throw e;
    }
    status = Math.max(status, exitStatusOf(e));
  }
  return status;
}

function isJsonFormat(f: Format): boolean {
  return f === 'json' || f === 'jsonl';
}
