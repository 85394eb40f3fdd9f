/**
 * When Enter does not yet run the query: the entry ends in a `\`, or a quote
 * or a parenthesis is still open. Quotes may span lines, and a backslash
 * inside a quote escapes the next character, as the lexer reads them.
 */
export function needsContinuation(text: string): boolean {
  const s = scan(text);
  return s.quote !== null || s.depth > 0 || s.trailingBackslash;
}

interface Scan {
  readonly quote: string | null;
  readonly depth: number;
  readonly trailingBackslash: boolean;
}

function scan(text: string): Scan {
  let quote: string | null = null;
  let depth = 0;
  let lineStart = true;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      lineStart = true;
      comment = false;
      if (quote === null) continue;
    }
    if (comment) continue;
    if (quote !== null) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (lineStart && ch === '#') {
      comment = true;
      continue;
    }
    if (ch !== ' ' && ch !== '\t') lineStart = false;
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
  }
  const trailingBackslash = quote === null && !comment && /\\[ \t]*$/.test(text);
  return { quote, depth, trailingBackslash };
}

/**
 * The query an entry stands for: a continuation's `\` becomes a space (its
 * line break stays, so error positions match what was typed), and lines
 * that are `#` comments outside a quote are blanked. Empty when the entry is
 * only blanks and comments.
 */
export function entryToQuery(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let inQuote: string | null = null;
  for (const line of lines) {
    if (inQuote === null && /^\s*#/.test(line)) {
      out.push('');
      continue;
    }
    inQuote = quoteStateAfter(line, inQuote);
    out.push(inQuote === null ? line.replace(/\\([ \t]*)$/, ' $1') : line);
  }
  const query = out.join('\n');
  return query.trim() === '' ? '' : query;
}

function quoteStateAfter(line: string, quote: string | null): string | null {
  let q = quote;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q !== null) {
      if (ch === '\\') i++;
      else if (ch === q) q = null;
    } else if (ch === "'" || ch === '"') q = ch;
  }
  return q;
}
