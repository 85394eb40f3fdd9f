import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, print } from '../../src/language.js';
import { query, runs } from './arbitraries.js';

describe('printer', () => {
  it('prints canonical text', () => {
    expect(print(parse("MLMODEL list|where a==1 AND b<>'x'|SORT -m, n DESC|head 3"))).toBe(
      'mlmodel list | where a = 1 and b != x | sort -m, -n | head 3',
    );
    expect(print(parse("mlmodel deploy m label='a b'"))).toBe("mlmodel deploy m label='a b'");
    expect(print(parse("mlmodel import name=list description='5' path=\"/a b\""))).toBe("mlmodel import name='list' description=5 path='/a b'");
    expect(print(parse("mlmodel list | where id = '5' and n = 5.0 and s = 'it\\'s' and t = \"a\\nb\""))).toBe(
      "mlmodel list | where id = '5' and n = 5 and s = 'it\\'s' and t = 'a\\nb'",
    );
  });

  it('keeps explicit grouping and negation of groups', () => {
    const text = 'mlmodel list | where not (a = 1 or b = 2) and (c = 3 and d = 4)';
    expect(print(parse(text))).toBe(text);
  });

  it('round-trips every generated AST: parse(print(ast)) equals ast', () => {
    fc.assert(
      fc.property(query, (ast) => {
        expect(parse(print(ast))).toEqual(ast);
      }),
      { numRuns: runs(3000) },
    );
  });

  it('is a fixed point on text: print(parse(print(parse(x)))) equals print(parse(x))', () => {
    fc.assert(
      fc.property(query, (ast) => {
        const once = print(parse(print(ast)));
        expect(print(parse(once))).toBe(once);
      }),
      { numRuns: runs(1000) },
    );
  });
});
