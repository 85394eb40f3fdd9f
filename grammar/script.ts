/** One query cut out of a script, with the line it starts on (1-based). */
export interface Statement {
  readonly text: string;
  readonly line: number;
}

/**
 * Splits a batch script into queries: one per line, blank lines and lines
 * whose first non-blank character is `#` skipped, a trailing `\` continuing
 * the query on the next line (a comment line between does not end it). The continuation's backslash becomes a space
 * and its newline is kept, so a parse error inside the statement reports the
 * same line and column the file has (add `line - 1`).
 */
export function splitScript(source: string): Statement[] {
  const lines = source.split(/\r\n|\n|\r/);
  const statements: Statement[] = [];
  let pending: string[] | undefined;
  let start = 0;
  lines.forEach((raw, i) => {
    const isComment = /^\s*#/.test(raw);
    if (pending === undefined) {
      if (isComment || raw.trim() === '') return;
      pending = [];
      start = i + 1;
    }
    // A comment line inside a continued query is blank but keeps it going.
    const body = isComment ? '' : raw;
    const continued = isComment || /\\\s*$/.test(body);
    pending.push(continued ? body.replace(/\\(\s*)$/, ' $1') : body);
    if (!continued) {
      statements.push({ text: pending.join('\n'), line: start });
      pending = undefined;
    }
  });
  if (pending !== undefined && pending.some((l) => l.trim() !== '')) {
    statements.push({ text: pending.join('\n'), line: start });
  }
  return statements;
}
