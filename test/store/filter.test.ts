/**
 * The filter language's own rules: the allow-list, and the like compiler
 * checked against a reference matcher, as a JavaScript regex and as SQL.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMlmodelError } from '../../src/errors.js';
import {
  F,
  likeToRegex,
  parseLike,
  regexToLikeTokens,
  validateFilter,
  validateQuery,
} from '../../src/store/filter.js';
import { SqliteMetadataStore } from '../../src/store/sqlite.js';
import { record } from './metadata-conformance.js';
import { likeMatches } from '../support/like-reference.js';

const alphabet = ['a', 'b', '%', '_', '\\', '.', '*', '$', '^', '[', ']', '(', '|', '?', '+', '{', '/', '-', '\n', 'é', '😀'];
const textArb = fc.array(fc.constantFrom(...alphabet), { maxLength: 8 }).map((cs) => cs.join(''));

describe('like', () => {
  it('compiles to an anchored regex that validates, round-trips and matches like the reference', () => {
    fc.assert(
      fc.property(textArb, fc.array(textArb, { minLength: 1, maxLength: 10 }), (pattern, texts) => {
        const re = likeToRegex(pattern);
        expect(re.startsWith('^') && re.endsWith('$')).toBe(true);
        // The validator accepts exactly what the compiler makes.
        expect(regexToLikeTokens(re)).toEqual(parseLike(pattern));
        validateFilter(F.like('name', pattern));
        const js = new RegExp(re, 'u');
        for (const t of texts) expect(js.test(t)).toBe(likeMatches(parseLike(pattern), t));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads \\ as an escape: \\% \\_ \\\\ are literal, a trailing \\ is itself', () => {
    expect(parseLike('a\\%b\\_c\\\\d\\')).toEqual([{ kind: 'lit', text: 'a%b_c\\d\\' }]);
    expect(parseLike('%%_')).toEqual([{ kind: 'one' }, { kind: 'any' }]);
    // Any run of wildcards is its `_`s then one `%`: `%_%_` is "at least two characters".
    expect(parseLike('a%_%_b')).toEqual([{ kind: 'lit', text: 'a' }, { kind: 'one' }, { kind: 'one' }, { kind: 'any' }, { kind: 'lit', text: 'b' }]);
    expect(regexToLikeTokens('^[\\s\\S]*[\\s\\S]$')).toBeNull();
  });

  describe('as SQL in the SQLite store', () => {
    const store = new SqliteMetadataStore({ path: ':memory:' });
    const names = fc.sample(textArb.filter((t) => t.length > 0), { numRuns: 300, seed: 7 });
    const unique = [...new Set(names)];
    beforeAll(async () => {
      await store.init();
      let id = 0;
      for (const name of unique) await store.insertModel(record({ id: ++id, name }));
    });
    afterAll(() => store.close());

    it('matches the reference on random names and patterns', async () => {
      await fc.assert(
        fc.asyncProperty(textArb, async (pattern) => {
          const plan = store.explain({ filter: F.like('name', pattern) }).plan;
          expect(plan.residual).toBeNull();
          const got = (await store.findModels({ filter: F.like('name', pattern), sort: [['name', 1]] })).map((r) => r.name);
          const want = unique.filter((n) => likeMatches(parseLike(pattern), n)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
          expect(got).toEqual(want);
          const notGot = await store.countModels(F.not(F.like('name', pattern)));
          expect(notGot).toBe(unique.length - want.length);
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('the allow-list', () => {
  it('copies the filter, so changing the caller’s object later changes nothing', () => {
    const f = { type: { $in: ['tf'] }, modified: { $gt: new Date(5) } };
    const v = validateFilter(f);
    f.type.$in.push('x');
    f.modified.$gt.setTime(9);
    expect(v).toEqual({ type: { $in: ['tf'] }, modified: { $gt: new Date(5) } });
  });

  it('bounds size and depth', () => {
    let deep: Record<string, unknown> = { type: 'tf' };
    for (let i = 0; i < 40; i++) deep = { $and: [deep] };
    expect(() => validateFilter(deep)).toThrow(/deeper/);
    expect(() => validateFilter(F.in('name', Array.from({ length: 1001 }, (_, i) => `n${i}`)))).toThrow(/at most 1000/);
    expect(() => validateQuery({ sort: Array.from({ length: 9 }, (_, i) => [`options.k${i}`, 1] as [string, 1]) })).toThrow(/at most 8/);
  });

  it('appends the id tie-break in the direction of the last sort key', () => {
    expect(validateQuery({}).sort).toEqual([['id', 1]]);
    expect(validateQuery({ sort: [['modified', -1]] }).sort).toEqual([['modified', -1], ['id', -1]]);
    expect(validateQuery({ sort: [['id', -1], ['name', 1]] }).sort).toEqual([['id', -1], ['name', 1]]);
  });

  it('names the valid fields when one is unknown', () => {
    try {
      validateFilter({ nmae: 'x' });
      throw new Error('accepted');
    } catch (e) {
      expect(isMlmodelError(e, 'FILTER_INVALID')).toBe(true);
      expect((e as Error).message).toMatch(/unknown field "nmae"; valid fields: uid, model_uid, id, user, name/);
    }
  });
});
