import { COMMAND_PREFIXES } from './command-syntax.js';

/** One query cut out of a script, with the line it starts on (1-based). */
export interface Statement {
  /**
   * The query's text. A statement that starts after a `;` on a line is
   * padded with spaces to its column, so a parse error's column is the
   * file's (add `line - 1` to its line).
   */
  readonly text: string;
  readonly line: number;
}

export interface ScannedScript {
  readonly statements: Statement[];
  /**
   * The last statement is not finished: a quote or a parenthesis is still
   * open, or its last line ends in `\`. A prompt asks for more; a file's
   * last statement is run as it stands (and fails to parse, saying why).
   */
  readonly open: boolean;
}

/**
 * The one statement splitter, for `-c`, `-f`, standard input, the REPL, the
 * HTTP API and the library. A statement ends at a newline or at a `;` — but
 * not inside a quoted string (quotes may span lines, `\` escapes inside
 * them) and not inside parentheses, and a line ending in `\` continues on
 * the next (the `\` becomes a space). Lines whose first non-blank character
 * is `#` are comments (inside a statement they are blanked and it goes on),
 * and so is the rest of a line after a `;` when it starts with `#`;
 * blank statements are skipped. Newlines inside a statement are kept, so
 * error positions match the source.
 */
export function scanScript(source: string): ScannedScript {
  const statements: Statement[] = [];
  let buf = '';
  let startLine = 1;
  let line = 1;
  let quote: string | null = null;
  let depth = 0;
  let lineStart = true;
  let comment = false;
  /** The column reached on the current line, for padding after a `;`. */
  let column = 0;
  /** A `\` ended the statement's last line that was not a comment: the next line continues it. */
  let carry = false;

  const end = (): void => {
    if (buf.trim() !== '') statements.push({ text: buf, line: startLine });
    buf = '';
  };

  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\r' && source[i + 1] === '\n') continue;
    const newline = ch === '\n' || ch === '\r';
    if (newline) {
      line++;
      column = 0;
      if (quote !== null) {
        buf += '\n';
        lineStart = true;
        continue;
      }
      const wasComment = comment;
      lineStart = true;
      comment = false;
      // A comment line inside a continued statement is blank and keeps it going.
      if (!wasComment) {
        carry = /\\[ \t]*$/.test(buf);
        if (carry) buf = buf.replace(/\\([ \t]*)$/, ' $1');
      }
      if (carry || depth > 0) {
        buf += '\n';
        continue;
      }
      end();
      startLine = line;
      continue;
    }
    if (comment) continue;
    if (quote !== null) {
      buf += ch;
      column++;
      if (ch === '\\' && i + 1 < source.length && source[i + 1] !== '\r' && source[i + 1] !== '\n') {
        buf += source[++i]!;
        column++;
      } else if (ch === quote) quote = null;
      continue;
    }
    // A comment starts a line, or follows a `;` (`mlmodel list; # why`), as `--` does in psql.
    if ((lineStart || buf.trim() === '') && ch === '#') {
      comment = true;
      continue;
    }
    if (ch !== ' ' && ch !== '\t') lineStart = false;
    if (ch === ';' && depth === 0) {
      end();
      startLine = line;
      // The next statement keeps its column: pad with the width of what came before on this line.
      buf = ' '.repeat(column + 1);
      column++;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    buf += ch;
    column++;
  }
  const open = quote !== null || depth > 0 || carry || /\\[ \t]*$/.test(buf);
  if (/\\[ \t]*$/.test(buf)) buf = buf.replace(/\\([ \t]*)$/, ' $1');
  end();
  return { statements, open };
}

/** The statements of a script (see scanScript). */
export function splitScript(source: string): Statement[] {
  return scanScript(source).statements;
}

/** A statement may start with a prefix word or IRIS's `* |`; anything else is taken to leave out `mlmodel`. */
const STARTS_WITH_COMMAND = new RegExp(`^\\s*(\\*|(${COMMAND_PREFIXES.join('|')})(?![^\\s|;]))`, 'i');

/**
 * `list | head 5` as `mlmodel list | head 5`: a statement that does not start
 * with `mlmodel`, `serving` or `*` gets `mlmodel ` before its first word (the
 * notebook's `%mlmodel` and `--implicit-command`). The word goes where the
 * statement starts, so its line stays; columns after it on that line move
 * by its length, and a parse error shows the text it was given.
 */
export function withImplicitCommand(statement: Statement): Statement {
  if (STARTS_WITH_COMMAND.test(statement.text)) return statement;
  const at = statement.text.length - statement.text.trimStart().length;
  return { ...statement, text: `${statement.text.slice(0, at)}mlmodel ${statement.text.slice(at)}` };
}
