/**
 * Long queries of the shapes that once made parsing slower than linear,
 * built to a given length in characters (up to the 1 MB limit). bench/parse
 * times them per megabyte; test/grammar/linear-time.test.ts bounds them.
 */
export interface LongQuery {
  readonly name: string;
  /** Whether the parser accepts it. */
  readonly valid: boolean;
  readonly build: (length: number) => string;
}

/** `head` then `unit` repeated to `length` characters, then `tail`. */
function repeat(head: string, unit: string, length: number, tail = ''): string {
  const n = Math.max(1, Math.floor((length - head.length - tail.length) / unit.length));
  return head + unit.repeat(n) + tail;
}

const WHERE = 'mlmodel list | where ';

export const LONG_QUERIES: readonly LongQuery[] = [
  { name: 'valid: a = 1 and … chain', valid: true, build: (l) => repeat(WHERE, "name = 'm' and ", l, 'size > 1') },
  { name: 'valid: in (…) list', valid: true, build: (l) => repeat(`${WHERE}version in (`, '12345, ', l, '1)') },
  { name: 'valid: nested groups, or', valid: true, build: (l) => repeat(WHERE, '(a = 1 or not b like "x%") and ', l, 'c = 2') },
  { name: 'invalid: repeated "and "', valid: false, build: (l) => repeat(WHERE, 'and ', l) },
  { name: 'invalid: repeated "("', valid: false, build: (l) => repeat(WHERE, '(', l) },
  { name: 'invalid: repeated "not "', valid: false, build: (l) => repeat(WHERE, 'not ', l) },
  { name: 'invalid: repeated "not ("', valid: false, build: (l) => repeat(WHERE, 'not (', l) },
  { name: 'invalid: garbage tokens', valid: false, build: (l) => repeat('', ') = ( , | where ', l) },
  { name: 'invalid: unterminated quote', valid: false, build: (l) => repeat(`${WHERE}name = '`, 'x', l) },
  { name: 'invalid: long valid prefix, bad end', valid: false, build: (l) => repeat(WHERE, 'a = 1 and ', l, 'b = = 2 c') },
  { name: 'invalid: every predicate broken', valid: false, build: (l) => repeat(WHERE, 'a = = 1 and ', l) },
  { name: 'invalid: long options, bad end', valid: false, build: (l) => repeat('mlmodel import ', 'key=value ', l, 'key= =') },
];
