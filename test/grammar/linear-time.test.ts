import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING, MAX_QUERY_LENGTH, ParseError } from '../../grammar/index.js';
import { language, parse } from '../../src/language.js';
import type { Condition } from '../../grammar/ast.js';
import { LONG_QUERIES } from '../../bench/lib/long-queries.js';
import { runs } from './arbitraries.js';

/**
 * Parsing is linear in the input's length up to the 1 MB limit, valid or
 * not, and any nesting gets the depth-limit ParseError rather than a stack
 * overflow. Times are hang bounds, not speeds (bench/parse reports those):
 * a 1 MB query must finish within HANG_MS, and ten times the input may take
 * at most MAX_RATIO times as long, where quadratic growth would take 100
 * (linear growth measured 4–25 here: the garbage collector's share grows
 * with the heap, and the machine is shared, so the margin is wide).
 *
 * A loaded machine (four test runs on two cores) has shown 78× for one
 * measurement of linear growth: a pause lands on the long run more often
 * than on the short one. Load only ever adds time, while growth shows in
 * every measurement, so a ratio past the bound is measured again, up to
 * RETRIES times, small and large in turn (both under the same load), each
 * keeping its fastest: quadratic growth still fails every time, a pause
 * does not fail the test. The bound itself stays below quadratic's 100.
 */
const HANG_MS = 20_000;
const MAX_RATIO = 60;
const RETRIES = 5;

function outcome(text: string): { ms: number; error: ParseError | undefined } {
  const started = performance.now();
  let error: ParseError | undefined;
  try {
    parse(text);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    error = e;
  }
  return { ms: performance.now() - started, error };
}

function fastest(text: string, times: number): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) best = Math.min(best, outcome(text).ms);
  return best;
}

describe('parse time is linear in the input', () => {
  for (const shape of LONG_QUERIES) {
    it(`${shape.name}: 1 MB within the hang bound, and 10× the input under ${MAX_RATIO}× the time`, () => {
      const small = shape.build(MAX_QUERY_LENGTH / 10);
      const large = shape.build(MAX_QUERY_LENGTH);
      expect(large.length).toBeLessThanOrEqual(MAX_QUERY_LENGTH);
      expect(large.length).toBeGreaterThan(0.99 * MAX_QUERY_LENGTH);
      outcome(small); // warm up the JIT, so the small run is not charged for compiling
      let smallMs = fastest(small, 3);
      const { ms: firstMs, error } = outcome(large);
      let largeMs = firstMs;
      // Measured again only while it looks slow: a pause of a shared machine is not growth.
      for (let i = 0; i < RETRIES && largeMs / Math.max(smallMs, 5) >= MAX_RATIO; i++) {
        smallMs = Math.min(smallMs, outcome(small).ms);
        largeMs = Math.min(largeMs, outcome(large).ms);
      }
      expect(error === undefined).toBe(shape.valid);
      if (error) {
        expect(error.message).not.toMatch(/^the parser failed/);
        expect(error.issues.length).toBeGreaterThan(0);
        expect(error.issues.length).toBeLessThanOrEqual(20);
      }
      expect(largeMs).toBeLessThan(HANG_MS);
      // Below a few milliseconds the ratio is noise; the bound then is the hang bound alone.
      expect(largeMs / Math.max(smallMs, 5)).toBeLessThan(MAX_RATIO);
    }, (RETRIES + 2) * HANG_MS);
  }
});

type Wrapper = 'not' | 'paren';

function wrap(inner: string, wrappers: readonly Wrapper[]): string {
  return wrappers.reduceRight((acc, w) => (w === 'not' ? `not ${acc}` : `(${acc})`), inner);
}

/** How deep `not` and parentheses nest in a parsed condition. */
function depthOf(c: Condition): number {
  switch (c.kind) {
    case 'not':
      return 1 + depthOf(c.operand);
    case 'and':
    case 'or':
      return Math.max(...c.operands.map(depthOf));
    default:
      return 0;
  }
}

describe('nesting depth', () => {
  it('accepts not and parentheses nested up to the limit and refuses deeper with the depth ParseError', () => {
    const wrappers = fc.array(fc.constantFrom<Wrapper>('not', 'paren'), { minLength: 1, maxLength: 3 * MAX_NESTING });
    fc.assert(
      fc.property(wrappers, fc.constantFrom('a = 1', "b like 'x%'", 'c in (1, 2)'), (ws, predicate) => {
        const text = `mlmodel list | where ${wrap(predicate, ws)}`;
        const { error } = outcome(text);
        if (ws.length <= MAX_NESTING) {
          expect(error).toBeUndefined();
          const stage = parse(text).stages[0]!;
          if (stage.kind !== 'where') throw new Error('expected a where stage');
          // Parentheses leave no node; every `not` does.
          expect(depthOf(stage.condition)).toBe(ws.filter((w) => w === 'not').length);
        } else {
          expect(error?.message).toMatch(new RegExp(`nest more than ${MAX_NESTING} deep$`));
          expect(error?.issues).toHaveLength(1);
        }
      }),
      { numRuns: runs(400) },
    );
  });

  it('never reaches the "parser failed" fallback on long runs of nesting fragments', () => {
    const fragment = fc.constantFrom('not ', '(', 'not (', ')', 'a = 1 ', 'and ', 'or ', 'not not ', 'x not in (', '1, ', "'q' ");
    const soup = fc.array(fc.tuple(fragment, fc.integer({ min: 1, max: 1500 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(soup, (parts) => {
        const text = `mlmodel list | where ${parts.map(([f, n]) => f.repeat(n)).join('')}`;
        const { error } = outcome(text);
        if (error) expect(error.message).not.toMatch(/^the parser failed/);
      }),
      { numRuns: runs(200) },
    );
  });

  it('refuses 2,000 nested "not (" and a 100,000-long "not" chain at the limit, at the token past it', () => {
    for (const text of [`mlmodel list | where ${'not ('.repeat(2000)}a = 1${')'.repeat(2000)}`, `mlmodel list | where ${'not '.repeat(100_000)}a = 1`]) {
      const { error } = outcome(text);
      expect(error?.message).toBe(`\`not\` and parentheses nest more than ${MAX_NESTING} deep`);
      // The 65th level: `not (` is two levels, so the 33rd `not`; a plain chain's 65th `not`.
      const expectedOffset = text.includes('(') ? 'mlmodel list | where '.length + 32 * 'not ('.length : 'mlmodel list | where '.length + 64 * 'not '.length;
      expect(error?.offset).toBe(expectedOffset);
    }
  });

  /**
   * A long query that nests too deep near its start is refused without
   * keeping all of its tokens (grammar/parse.ts, tooDeepEarly): its head is
   * checked alone and the rest lexed in pieces. The answer must be the one the
   * whole text's lexing gives: the head's depth error, at the same offset,
   * line and column, whatever follows it; and the lexer's error instead when
   * anything after the head fails to lex. The tails hold quoted strings with
   * spaces, parentheses, commas, bars, escapes and newlines, long enough to
   * span the pieces, so that pieces end inside them too.
   */
  const headPart = fc.constantFrom('not ', '(', 'not (', 'not (\n', ' \n ', 'x = 1 and ', "'q ( r' = 1 or not ", 'x not in (1, ', ')');
  const head = fc
    .tuple(fc.array(headPart, { minLength: 0, maxLength: 20 }), fc.integer({ min: MAX_NESTING, max: 3 * MAX_NESTING }))
    .map(([parts, nots]) => `mlmodel list\n | where ${parts.join('')}${'not ('.repeat(nots)}`);
  const quoted = fc
    .tuple(fc.constantFrom("'", '"'), fc.constantFrom('x', ' ', '(', ')', ',', '|', '\n', 'é', '\\\'', '\\"'), fc.integer({ min: 1, max: 30_000 }))
    .map(([q, inner, n]) => `${q}${inner.repeat(n)}${q} `);
  const run = fc
    .tuple(fc.constantFrom('a = 1 ', '(b) ', 'c, ', '| ', '\n', 'not ', "'' "), fc.integer({ min: 1, max: 5000 }))
    .map(([f, n]) => f.repeat(n));
  const tail = fc.array(fc.oneof(quoted, run), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(''));

  function depthError(text: string): ParseError {
    const { error } = outcome(text);
    expect(error?.message).toMatch(new RegExp(`nest more than ${MAX_NESTING} deep$`));
    return error!;
  }

  it('refuses a long query too deep near its start with the error its head alone gets, whatever follows the head', () => {
    fc.assert(
      fc.property(head, tail, (h, t) => {
        const alone = depthError(`${h}a = 1`);
        const text = `${h}${t}`.slice(0, MAX_QUERY_LENGTH);
        const long = depthError(text);
        expect({ ...long.issues[0] }).toEqual({ ...alone.issues[0] });
        expect(long.issues).toHaveLength(1);
      }),
      { numRuns: runs(60) },
    );
  });

  it('gives a long query too deep near its start the lexer’s error when anything after its head fails to lex', () => {
    const bad = fc.constantFrom("'unterminated", '"unterminated', ' ! ', '!');
    fc.assert(
      fc.property(head, tail, bad, fc.double({ min: 0, max: 1, noNaN: true }), (h, t, b, where) => {
        const at = Math.floor(where * t.length);
        const text = `${h}${t.slice(0, at)}${b}${t.slice(at)}`.slice(0, MAX_QUERY_LENGTH);
        // The lexer alone says where the text stops lexing (the bad part may have become part of a quoted string of the tail).
        const lexed = language.tokens.lexer.tokenize(text);
        const { error } = outcome(text);
        if (lexed.errors.length === 0) {
          expect(error?.message).toMatch(new RegExp(`nest more than ${MAX_NESTING} deep$`));
        } else {
          expect(error?.issues.map((i) => i.offset)).toEqual(lexed.errors.slice(0, 20).map((e) => e.offset));
          expect(error?.message).toMatch(/^(unterminated quoted string|unexpected character)/);
        }
      }),
      { numRuns: runs(60) },
    );
  });

  it('reads a long query nested to the limit, with words that begin like keywords wherever its head may end, and refuses one first too deep far from its start', () => {
    const at = fc.integer({ min: 0, max: 6000 });
    fc.assert(
      fc.property(at, fc.constantFrom(' ', '\n'), (pad, blank) => {
        // 64 levels, then names that start with `not`, `and` and `or` around where a head might be cut.
        const text = `mlmodel list | where ${'not ('.repeat(MAX_NESTING / 2)}${blank.repeat(pad)}${'nothing = 1 and notable = 2 or order = 3 and '.repeat(2000)}x = 1${')'.repeat(MAX_NESTING / 2)}`;
        const { error } = outcome(text);
        expect(error).toBeUndefined();
      }),
      { numRuns: runs(40) },
    );
    const prefix = `mlmodel list | where ${'x = 1 and '.repeat(1000)}`;
    const far = `${prefix}${'not ('.repeat(2 * MAX_NESTING)}a = 1${' and b = 2'.repeat(20_000)}`;
    expect(depthError(far).offset).toBe(prefix.length + (MAX_NESTING / 2) * 'not ('.length);
  });

  it('keeps `and` and `or` from adding up: many negated operands side by side are not deep', () => {
    const wide = `mlmodel list | where ${Array.from({ length: 500 }, () => `not not (not a = 1)`).join(' and ')}`;
    expect(outcome(wide).error).toBeUndefined();
  });
});
