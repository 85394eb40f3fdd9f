/**
 * The in-process like matcher: it agrees with a reference on generated
 * patterns and texts (code points, escapes, surrogates), with the regex the
 * pattern compiles to, and with mingo's selection of values; and it stays
 * fast on the patterns that made the regex backtrack for hours.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { F, likeToRegex, parseLike } from '../../src/store/filter.js';
import { likeMatcher } from '../../src/store/like.js';
import { filterQuery } from '../../src/store/mingo.js';
import { likeMatchesPattern } from '../support/like-reference.js';

// Wildcards, the escape, regex metacharacters, a newline, case, a BMP
// letter, an astral one (a surrogate pair) and both lone surrogate halves.
const alphabet = ['a', 'b', 'A', '%', '_', '\\', '.', '*', '$', '^', '[', '(', '|', '?', '+', '\n', 'é', '😀', '\uD83D', '\uDE00'];
const textArb = (maxLength: number) => fc.array(fc.constantFrom(...alphabet), { maxLength }).map((cs) => cs.join(''));

const matches = (pattern: string, text: string) => likeMatcher(parseLike(pattern))(text);

describe('likeMatcher', () => {
  it('agrees with a dynamic-programming reference on generated patterns and texts', () => {
    fc.assert(
      fc.property(textArb(12), fc.array(textArb(16), { minLength: 1, maxLength: 8 }), (pattern, texts) => {
        for (const t of texts) expect(matches(pattern, t), `${JSON.stringify(pattern)} on ${JSON.stringify(t)}`).toBe(likeMatchesPattern(pattern, t));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the reference when the text is built to match (a matching text is rare at random)', () => {
    // A text made from the pattern: literals kept, `_` one character, `%` zero to three.
    const filled = textArb(12).chain((pattern) =>
      fc.array(textArb(3), { minLength: 40, maxLength: 40 }).map((fills) => {
        let k = 0;
        const text = [...pattern]
          .map((c) => (c === '%' ? fills[k++ % 40]! : c === '_' ? ([...fills[k++ % 40]!, 'x'][0] ?? 'x') : c === '\\' ? '' : c))
          .join('');
        return { pattern, text };
      }),
    );
    let matched = 0;
    fc.assert(
      fc.property(filled, ({ pattern, text }) => {
        const expected = likeMatchesPattern(pattern, text);
        if (expected) matched++;
        expect(matches(pattern, text)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    // The point of building texts: most of them match, so both answers get exercised.
    expect(matched).toBeGreaterThan(2500);
  });

  it('agrees with the compiled regex (the filter it travels in), `u` flag, on generated cases', () => {
    fc.assert(
      fc.property(textArb(8), fc.array(textArb(10), { minLength: 1, maxLength: 8 }), (pattern, texts) => {
        const re = new RegExp(likeToRegex(pattern), 'u');
        for (const t of texts) expect(matches(pattern, t)).toBe(re.test(t));
      }),
      { numRuns: 3000 },
    );
  });

  it('counts code points: `_` is one emoji, and a literal half of a pair does not match inside it', () => {
    expect(matches('_', '😀')).toBe(true);
    expect(matches('__', '😀')).toBe(false);
    expect(matches('%\uDE00', '😀')).toBe(false);
    expect(matches('%\uDE00', 'a\uDE00')).toBe(true);
    expect(matches('a_c', 'a\nc')).toBe(true);
    expect(matches('ABC', 'abc')).toBe(false);
    expect(matches('100\\%', '100%')).toBe(true);
    expect(matches('100\\%', '1000')).toBe(false);
  });

  it('stays fast on patterns that make a backtracking regex run for hours', () => {
    const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const long = 'a'.repeat(20_000);
    const cases: Array<[string, string, boolean]> = [
      ['%_%_%_%_%_%_%_%_%_%_%!', sha, false],
      [`${'%_'.repeat(200)}%!`, sha, false],
      [`${'%a'.repeat(40)}%b`, long, false],
      [`${'%a'.repeat(40)}%`, long, true],
      [`%${'_'.repeat(500)}%b`, long, false],
      [`${'a%'.repeat(1000)}a`, long, true],
    ];
    for (const [pattern, text, expected] of cases) {
      const started = performance.now();
      expect(matches(pattern, text)).toBe(expected);
      // A hang bound: the worst of these is (20,000 × 1,000) steps; the regex would take days on the first.
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });
});

describe('filterQuery', () => {
  it('selects values as mingo selects them for $regex: a string, any string of a list, never another type', () => {
    const q = filterQuery(F.like('tags', 'prod%'));
    expect(q.test({ tags: ['dev', 'prod-eu'] })).toBe(true);
    expect(q.test({ tags: ['dev'] })).toBe(false);
    expect(q.test({ tags: 'production' })).toBe(true);
    expect(q.test({ tags: 5 })).toBe(false);
    expect(q.test({})).toBe(false);
    expect(filterQuery(F.not(F.like('name', 'a%'))).test({ name: 'bob' })).toBe(true);
    expect(filterQuery(F.and(F.like('name', 'a%'), F.or(F.like('name', '%z'), F.eq('version', 2)))).test({ name: 'ab', version: 2 })).toBe(true);
  });
});
