import type { IToken } from 'chevrotain';
import { isUnsafeChar } from './control-chars.js';
import { displayWidth } from './text-width.js';

/** One problem found in a query, located in the source text. */
export interface ParseIssue {
  /** The complete sentence shown to a person. */
  readonly message: string;
  /** 1-based line and column (in UTF-16 code units, as editors count). */
  readonly line: number;
  readonly column: number;
  /** 0-based offset into the source and the length of the offending text. */
  readonly offset: number;
  readonly length: number;
  /** The offending text; empty at the end of input. */
  readonly text: string;
  /** What the grammar would have accepted here, as readable labels. */
  readonly expected: readonly string[];
  /** The nearest keyword to a misspelt one. */
  readonly suggestion?: string;
}

/**
 * The only error `parse` ever throws. It carries every issue found (the parser
 * recovers and keeps going); the first is the primary one and its position is
 * repeated on the error itself for convenience.
 */
export class ParseError extends Error {
  readonly code = 'PARSE_ERROR' as const;
  readonly issues: readonly ParseIssue[];
  readonly source: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
  readonly text: string;
  readonly expected: readonly string[];
  readonly suggestion: string | undefined;

  constructor(source: string, issues: readonly ParseIssue[]) {
    const first = issues[0];
    if (first === undefined) throw new TypeError('ParseError needs at least one issue');
    super(first.message);
    this.name = 'ParseError';
    this.source = source;
    this.issues = issues;
    this.line = first.line;
    this.column = first.column;
    this.offset = first.offset;
    this.length = first.length;
    this.text = first.text;
    this.expected = first.expected;
    this.suggestion = first.suggestion;
  }

  /** Every issue with its source line and a caret under the offending text. */
  render(options: { lineOffset?: number; origin?: string } = {}): string {
    return this.issues.map((issue) => renderIssue(this.source, issue, options)).join('\n');
  }

  toJSON(): { code: 'PARSE_ERROR'; message: string; issues: readonly ParseIssue[] } {
    return { code: this.code, message: this.message, issues: this.issues };
  }
}

/** An issue located at a token. */
export function tokenIssue(token: IToken, message: string, expected: readonly string[] = []): ParseIssue {
  return {
    message,
    line: token.startLine ?? 1,
    column: token.startColumn ?? 1,
    offset: token.startOffset,
    length: token.image.length,
    text: token.image,
    expected,
  };
}

export function isParseError(e: unknown): e is ParseError {
  return e instanceof ParseError;
}

/**
 * ```
 * parse error at line 1, column 9: [llist] is not a mlmodel action. Did you mean list? Available: …
 *   mlmodel llist
 *           ^^^^^
 * ```
 * `lineOffset` shifts reported line numbers when the query came from a
 * larger file; `origin` names that file.
 */
export function renderIssue(
  source: string,
  issue: ParseIssue,
  options: { lineOffset?: number; origin?: string } = {},
): string {
  const lineNo = issue.line + (options.lineOffset ?? 0);
  const where = `${options.origin ? `${options.origin}, ` : ''}line ${lineNo}, column ${issue.column}`;
  const lines = source.split(/\r\n|\r|\n/);
  const text = lines[issue.line - 1] ?? '';
  const before = text.slice(0, issue.column - 1);
  const onLine = Math.max(1, Math.min(issue.length, text.length - before.length));
  const caretPad = Array.from(before, padFor).join('');
  const underlined = Array.from(text.slice(before.length, before.length + onLine), padFor).join('').length;
  const carets = '^'.repeat(Math.max(1, underlined));
  return `parse error at ${where}: ${issue.message}\n  ${printable(text)}\n  ${caretPad}${carets}`;
}

/** The blank that sits under `ch` on the caret line. */
function padFor(ch: string): string {
  if (ch === '\t') return '\t';
  if (isUnsafeChar(ch)) return ' ';
  return ' '.repeat(displayWidth(ch));
}

/** Control, bidi and invisible characters would act on the terminal; show them as `?` (one column, like the caret); tabs stay. */
function printable(line: string): string {
  return Array.from(line, (ch) => (ch !== '\t' && isUnsafeChar(ch) ? '?' : ch)).join('');
}
