import type { LikeToken } from './filter.js';

/**
 * `like` evaluated in process, in at most (text length × pattern length)
 * steps, whatever the pattern. The regex a like pattern compiles to is
 * what a filter carries (the allow-list's one shape, and what MongoDB runs),
 * but V8 runs it by backtracking: `'%_%_%_%_%_%_%_%_%_%_%!'` against a
 * 64-character sha256 never finished (six `%_` took 39 s, each one more about
 * eight times as long). This matcher never backtracks.
 *
 * The pattern is split at its `%`s into segments of literal characters and
 * `_` (one character each). The first segment must match at the start (unless
 * the pattern begins with `%`), the last at the end (unless it ends with
 * `%`), and every segment in between at the leftmost place after the one
 * before: a `%` can absorb whatever a later match would have skipped, so the
 * leftmost match is never worse than any other. Each search tries each start
 * once, so the whole costs at most (text length × pattern length).
 *
 * Characters are code points, as with the `u` flag the regex carries and in
 * MongoDB and SQLite: `_` matches one code point, and a literal never matches
 * half of a surrogate pair. Case matters, as in the regex.
 */
export type LikeMatcher = (text: string) => boolean;

/** One element of a segment: a code point, or null for `_`. */
type Segment = ReadonlyArray<string | null>;

export function likeMatcher(tokens: readonly LikeToken[]): LikeMatcher {
  const segments: Segment[] = [[]];
  for (const t of tokens) {
    if (t.kind === 'any') segments.push([]);
    else (segments[segments.length - 1] as Array<string | null>).push(...(t.kind === 'one' ? [null] : Array.from(t.text)));
  }
  const anchoredStart = tokens[0]?.kind !== 'any';
  const anchoredEnd = tokens[tokens.length - 1]?.kind !== 'any';
  // Without surrogates a string's UTF-16 units are its code points, and
  // indexing it needs no copy; an astral literal then simply never matches.
  return (text) => matches(SURROGATE.test(text) ? Array.from(text) : text, segments, anchoredStart, anchoredEnd);
}

const SURROGATE = /[\uD800-\uDFFF]/;

function matchesAt(chars: ArrayLike<string>, at: number, segment: Segment): boolean {
  for (let j = 0; j < segment.length; j++) {
    const want = segment[j];
    if (want !== null && chars[at + j] !== want) return false;
  }
  return true;
}

function matches(chars: ArrayLike<string>, segments: readonly Segment[], anchoredStart: boolean, anchoredEnd: boolean): boolean {
  const n = chars.length;
  if (segments.length === 1) {
    // No `%`: the one segment is the whole text.
    const only = segments[0]!;
    return only.length === n && matchesAt(chars, 0, only);
  }
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  // With no `%` at an end, the end segment is fixed in place; the rest must fit between.
  let from = 0;
  if (anchoredStart) {
    if (first.length > n || !matchesAt(chars, 0, first)) return false;
    from = first.length;
  }
  let until = n;
  if (anchoredEnd) {
    if (last.length > n - from || !matchesAt(chars, n - last.length, last)) return false;
    until = n - last.length;
  }
  const middle = segments.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  for (const segment of middle) {
    let at = from;
    while (at + segment.length <= until && !matchesAt(chars, at, segment)) at++;
    if (at + segment.length > until) return false;
    from = at + segment.length;
  }
  return true;
}
