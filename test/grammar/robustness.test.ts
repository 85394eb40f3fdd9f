import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../grammar/index.js';
import { language, parse, print } from '../../src/language.js';
import { query, runs } from './arbitraries.js';

/**
 * Whatever the input, parse returns an AST or throws a ParseError that the
 * grammar produced itself (never the "parser failed" fallback). The time
 * bound only catches runaway backtracking or recovery (a hang, not a speed):
 * parse speed is measured by bench/parse, not asserted here.
 */
function parsesOrRejectsCleanly(text: string): void {
  const started = performance.now();
  try {
    parse(text);
  } catch (e) {
    if (!(e instanceof ParseError)) throw new Error(`not a ParseError for ${JSON.stringify(text)}: ${String(e)}`, { cause: e });
    expect(e.message).not.toMatch(/^the parser failed/);
    for (const issue of e.issues) {
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.column).toBeGreaterThanOrEqual(1);
      expect(issue.offset).toBeGreaterThanOrEqual(0);
      expect(issue.offset).toBeLessThanOrEqual(text.length);
      expect(issue.message.length).toBeGreaterThan(0);
    }
    expect(e.render()).toContain('^');
  }
  expect(performance.now() - started).toBeLessThan(HANG);
}

const HANG = 1000;

/** Every keyword of the language (from its tokens, so new commands' words are in the soup), then punctuation and oddities. */
const FRAGMENTS = [
  ...language.tokens.keywords.map((t) => String(t.LABEL)), '*', '|', ',', '(', ')', ';',
  '=', '==', '!=', '<>', '>', '>=', '<', '<=', '!', "'", '"', "'x y'", '"a\\"b"', 'name', 'type', 'tf', '5', '-3',
  '1e999', 'm@2', 'm@', '@', 'a=b', '\\', '\n', '\t', ' ', '모델', '-modified', '\u0000',
];

const tokenSoup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 25 }).map((parts) => parts.join(' '));
const tightSoup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 25 }).map((parts) => parts.join(''));

/** A valid query with a few characters inserted, deleted or replaced. */
const mutated = fc
  .tuple(
    query.map(print),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([text, edits]) => {
    let s = text;
    for (const [at, kind, chars] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      if (kind === 'insert') s = s.slice(0, i) + chars + s.slice(i);
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + 1);
      else s = s.slice(0, i) + chars + s.slice(i + 1);
    }
    return s;
  });

describe('parser robustness', () => {
  it('only ever raises ParseError on random strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), parsesOrRejectsCleanly), { numRuns: runs(3000) });
  });

  it('only ever raises ParseError on grammar fragments in random order', () => {
    fc.assert(fc.property(tokenSoup, parsesOrRejectsCleanly), { numRuns: runs(3000) });
    fc.assert(fc.property(tightSoup, parsesOrRejectsCleanly), { numRuns: runs(2000) });
  });

  it('only ever raises ParseError on mutated valid queries', () => {
    fc.assert(fc.property(mutated, parsesOrRejectsCleanly), { numRuns: runs(3000) });
  });

  it('rejects very long garbage quickly and reports a bounded number of issues', () => {
    const garbage = ') = ( , '.repeat(20_000);
    const started = performance.now();
    let error: unknown;
    try {
      parse(garbage);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).issues.length).toBeLessThanOrEqual(20);
    expect(performance.now() - started).toBeLessThan(5 * HANG);
  });
});
