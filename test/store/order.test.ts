import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareText, compareValues } from '../../src/store/order.js';

const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
const byCodePoints = (a: string, b: string) => {
  const x = codePoints(a);
  const y = codePoints(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

/** Any text, weighted towards the units where UTF-16 and code-point order part: high BMP and astral. */
const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'Z', '～', '\uffff', '😀', '𝄞', '\ud7ff', '\ue000'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 6 });
const value = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -3, max: 3 }),
  text,
  fc.boolean(),
  fc.integer({ min: 0, max: 3 }).map((n) => new Date(Date.UTC(2024, 0, 1 + n))),
  fc.dictionary(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 2 }), { maxKeys: 2 }),
);

describe("MongoDB's order in memory", () => {
  it('compares text by code point, as SQLite and MongoDB do', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(Math.sign(compareText(a, b))).toBe(Math.sign(byCodePoints(a, b)));
      }),
      { numRuns: 5000 },
    );
    expect(compareText('x～', 'x😀')).toBeLessThan(0);
    expect('x～' < 'x😀').toBe(false);
  });

  it('is a total order: antisymmetric and transitive over every kind of value', () => {
    fc.assert(
      fc.property(value, value, value, (a, b, c) => {
        expect(Math.sign(compareValues(a, b)) + Math.sign(compareValues(b, a))).toBe(0);
        if (compareValues(a, b) <= 0 && compareValues(b, c) <= 0) expect(compareValues(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 5000 },
    );
  });

  it('ranks the kinds: no value, numbers, text, objects, booleans, times', () => {
    const ranked = [null, -1, 'a', { a: 1 }, false, new Date(0)];
    for (let i = 0; i + 1 < ranked.length; i++) expect(compareValues(ranked[i], ranked[i + 1])).toBeLessThan(0);
    expect(compareValues(undefined, null)).toBe(0);
  });
});
