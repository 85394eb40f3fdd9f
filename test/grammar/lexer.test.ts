import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderCstDts } from '../../grammar/cst-dts.js';
import { language, parse } from '../../src/language.js';
import { COMMANDS } from '../../src/commands/index.js';

const lexer = language.tokens.lexer;

describe('lexer', () => {
  it('splits comparisons out of words: `a>5` is three tokens', () => {
    expect(lexer.tokenize('a>5').tokens.map((t) => [t.tokenType.name, t.image])).toEqual([
      ['Word', 'a'],
      ['Gt', '>'],
      ['Word', '5'],
    ]);
    expect(lexer.tokenize('a>=5<>b!=c==d').tokens.map((t) => t.image)).toEqual(['a', '>=', '5', '<>', 'b', '!=', 'c', '==', 'd']);
  });

  it('reads keywords case-insensitively and longer words as words', () => {
    expect(lexer.tokenize('LIST list LiSt listing asc as desc descending').tokens.map((t) => t.tokenType.name)).toEqual([
      'List', 'List', 'List', 'Word', 'Asc', 'As', 'Desc', 'Word',
    ]);
  });

  it('accepts a word made of any non-separator character in the Basic Multilingual Plane and beyond', () => {
    const chars: string[] = [];
    for (let cp = 0x100; cp < 0x10000; cp += 97) {
      const ch = String.fromCodePoint(cp);
      if (/\s/.test(ch) || (cp >= 0xd800 && cp <= 0xdfff)) continue;
      chars.push(ch);
    }
    chars.push('😀', '𠀀', '\ufe01');
    for (const ch of chars) {
      expect(parse(`mlmodel summary ${ch}x`).command).toEqual({ kind: 'summary', model: { name: `${ch}x` }, fields: null });
    }
  });

  it('lexes a word starting with every UTF-16 code unit from U+0100 up (the word token lists one per lexer bucket)', () => {
    // grammar/tokens.ts names one start character per bucket of Chevrotain's
    // first-character table; a word whose first code unit's bucket were not
    // named would not lex at all. Every code unit, lone surrogates included.
    const words: string[] = [];
    for (let c = 0x100; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      if (!/\s/.test(ch)) words.push(`${ch}x`);
    }
    const { tokens, errors } = lexer.tokenize(words.join(' '));
    expect(errors).toEqual([]);
    expect(tokens.length).toBe(words.length);
    const wrong = tokens.filter((t, i) => t.tokenType.name !== 'Word' || t.image !== words[i]);
    expect(wrong.map((t) => t.image)).toEqual([]);
  });

  it('tracks lines and columns across newlines, including inside quotes', () => {
    const tokens = lexer.tokenize("mlmodel deploy m label='a\nb'\n  | head 1").tokens;
    const head = tokens.find((t) => t.image === 'head')!;
    expect([head.startLine, head.startColumn]).toEqual([3, 5]);
  });
});

describe('generated CST types', () => {
  it('grammar/cst.d.ts matches the grammar (run `npm run gen:cst` after changing the parser)', () => {
    const committed = readFileSync(new URL('../../grammar/cst.d.ts', import.meta.url), 'utf8');
    expect(committed).toBe(renderCstDts(language.parser));
  });
});

describe('grammar validation', () => {
  it("passes Chevrotain's checks of the tokens (every lexer optimisation applies) and of the grammar", async () => {
    const { createTokens } = await import('../../grammar/tokens.js');
    const { MlmodelParser } = await import('../../grammar/parser.js');
    const words = COMMANDS.flatMap((c) => [c.syntax.prefix ?? 'mlmodel', ...c.syntax.keywords]);
    let tokens: ReturnType<typeof createTokens> | undefined;
    expect(() => (tokens = createTokens(words, { validate: true }))).not.toThrow();
    // performSelfAnalysis throws "Parser Definition Errors detected" when a check fails.
    expect(() => new MlmodelParser(tokens!, COMMANDS.map((c) => c.syntax), { validate: true })).not.toThrow();
  });
});
