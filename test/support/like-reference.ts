import type { LikeToken } from '../../src/store/filter.js';

/** Reference semantics of like over code points: % any run, _ exactly one. */
export function likeMatches(tokens: LikeToken[], text: string): boolean {
  const s = [...text];
  const units: Array<{ kind: 'any' } | { kind: 'one' } | { kind: 'char'; c: string }> = [];
  for (const t of tokens) {
    if (t.kind === 'lit') for (const c of t.text) units.push({ kind: 'char', c });
    else units.push(t);
  }
  // reach[j]: the first i units can match the first j characters.
  let reach = new Array<boolean>(s.length + 1).fill(false);
  reach[0] = true;
  for (const u of units) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    for (let j = 0; j <= s.length; j++) {
      if (u.kind === 'any') next[j] = reach[j]! || (j > 0 && next[j - 1]!);
      else if (j > 0 && reach[j - 1]) next[j] = u.kind === 'one' || s[j - 1] === u.c;
    }
    reach = next;
  }
  return reach[s.length]!;
}

/**
 * The same semantics read straight from the pattern text, sharing nothing
 * with the code under test: `\` makes the next character literal (a trailing
 * one is itself), `%` any run of code points, `_` exactly one. A plain
 * dynamic programme over (pattern position, text position).
 */
export function likeMatchesPattern(pattern: string, text: string): boolean {
  // Literal runs are read as text first and split into code points after, so
  // two surrogate halves with an escape between them make one character, as
  // in the regex the pattern compiles to.
  const p: Array<'%' | '_' | { c: string }> = [];
  const chars = [...pattern];
  let run = '';
  const flush = () => {
    for (const c of run) p.push({ c });
    run = '';
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') run += i + 1 < chars.length ? chars[++i]! : '\\';
    else if (c === '%' || c === '_') {
      flush();
      p.push(c);
    } else run += c;
  }
  flush();
  const s = [...text];
  // m[i][j]: the first i pattern elements match the first j characters.
  const m = Array.from({ length: p.length + 1 }, () => new Array<boolean>(s.length + 1).fill(false));
  m[0]![0] = true;
  for (let i = 1; i <= p.length; i++) {
    const e = p[i - 1]!;
    for (let j = 0; j <= s.length; j++) {
      if (e === '%') m[i]![j] = m[i - 1]![j]! || (j > 0 && m[i]![j - 1]!);
      else if (j > 0) m[i]![j] = m[i - 1]![j - 1]! && (e === '_' || e.c === s[j - 1]);
    }
  }
  return m[p.length]![s.length]!;
}
