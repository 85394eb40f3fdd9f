import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING, MAX_QUERY_LENGTH, ParseError } from '../../grammar/index.js';
import { parse } from '../../src/language.js';
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

  it('keeps `and` and `or` from adding up: many negated operands side by side are not deep', () => {
    const wide = `mlmodel list | where ${Array.from({ length: 500 }, () => `not not (not a = 1)`).join(' and ')}`;
    expect(outcome(wide).error).toBeUndefined();
  });
});
