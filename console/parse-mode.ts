import type { Writable } from 'node:stream';
import { ParseError } from '../grammar/index.js';
import { parse } from '../src/language.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { safeJson } from './render/safe-json.js';
import { terminalText } from './render/terminal-text.js';
import type { SourcedStatement } from './statements.js';

/**
 * `--parse`: prints each query's AST as one line of JSON (indented when a
 * person is reading), or the rendered parse error on stderr. Stops at the
 * first error unless told to continue; any error makes the status 2.
 */
export function runParseOnly(
  statements: readonly SourcedStatement[],
  out: { stdout: Writable; stderr: Writable; pretty: boolean; continueOnError: boolean },
): number {
  let status = EXIT_OK;
  for (const statement of statements) {
    try {
      const ast = parse(statement.text);
      out.stdout.write(safeJson(ast, out.pretty ? 2 : undefined) + '\n');
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      status = EXIT_USAGE;
      out.stderr.write(terminalText(e.render({ origin: statement.origin, lineOffset: statement.line - 1 }), { lines: true, tabs: true }) + '\n');
      if (!out.continueOnError) break;
    }
  }
  return status;
}
