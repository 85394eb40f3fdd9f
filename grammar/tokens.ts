import type { ITokenConfig, TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

/**
 * Every token of the mlmodel language, in one place.
 *
 * `Name` is an abstract category: plain words and every keyword belong to it,
 * so wherever the grammar wants a name it consumes `Name` and a model called
 * `list` or a field called `status` still works. Keywords use `longer_alt:
 * Word`, so `listing` or `list.csv` lex as one word, not a keyword and a tail.
 */

/**
 * A token, by default one that cannot span lines. Saying so (rather than
 * leaving Chevrotain to find out) spares the lexer an analysis of every
 * pattern's regular expression for line terminators, which was a fifth of
 * building the language at start-up; WhiteSpace and Quoted say they can.
 */
function token(config: ITokenConfig): TokenType {
  return createToken({ line_breaks: false, ...config });
}

export const Name = token({ name: 'Name', pattern: Lexer.NA });

/**
 * IRIS's WORD is `[^,|\s()'"=]+`; ours also stops at `<`, `>` and `!` so that
 * `a>5` lexes as three tokens. Everything else — Hangul, `@`, `:`, `/`, `.`,
 * `-`, `%`, `*` — may appear in a word.
 */
export const Word = token({
  name: 'Word',
  pattern: /[^,|\s()'"=<>!]+/,
  categories: [Name],
  start_chars_hint: wordStartChars(),
});

/**
 * Chevrotain cannot derive the first characters of a complement set, and
 * without them the lexer tries every pattern at every position. So list
 * them: every character below U+0100 that a word may start with, and one
 * UTF-16 code unit of each bucket Chevrotain folds those above into (its
 * lexer's charCodeToOptimizedIndex: 255 + ⌊code / 255⌋, so 256 and every
 * multiple of 255 from 510 on). All 65,280 of them, as before, were a
 * 610 KB array the token keeps, restored with the start-up snapshot at every
 * start; test/grammar/lexer.test.ts lexes a word from every code unit.
 */
function wordStartChars(): number[] {
  const excluded = new Set([...',|()\'"=<>!'].map((c) => c.charCodeAt(0)));
  const codes: number[] = [];
  for (let c = 0; c < 256; c++) {
    if (!excluded.has(c) && !/\s/.test(String.fromCharCode(c))) codes.push(c);
  }
  codes.push(256);
  for (let c = 510; c < 65536; c += 255) codes.push(c);
  return codes;
}

export const WhiteSpace = token({
  name: 'WhiteSpace',
  pattern: /\s+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/** A quoted string may span lines and hold any character; `\` escapes the next one. */
export const Quoted = token({
  name: 'Quoted',
  pattern: /'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*"/,
  line_breaks: true,
  start_chars_hint: ["'", '"'],
});

export const Pipe = token({ name: 'Pipe', pattern: '|', label: "'|'" });
export const Comma = token({ name: 'Comma', pattern: ',', label: "','" });
export const LParen = token({ name: 'LParen', pattern: '(', label: "'('" });
export const RParen = token({ name: 'RParen', pattern: ')', label: "')'" });

/** Comparison operators; `==` and `<>` are spellings of `=` and `!=`. */
export const CompareOp = token({ name: 'CompareOp', pattern: Lexer.NA, label: 'a comparison operator' });
export const EqEq = token({ name: 'EqEq', pattern: '==', categories: [CompareOp], label: "'=='" });
export const NotEq = token({ name: 'NotEq', pattern: '!=', categories: [CompareOp], label: "'!='" });
export const LtGt = token({ name: 'LtGt', pattern: '<>', categories: [CompareOp], label: "'<>'" });
export const Gte = token({ name: 'Gte', pattern: '>=', categories: [CompareOp], label: "'>='" });
export const Lte = token({ name: 'Lte', pattern: '<=', categories: [CompareOp], label: "'<='" });
export const Gt = token({ name: 'Gt', pattern: '>', categories: [CompareOp], label: "'>'" });
export const Lt = token({ name: 'Lt', pattern: '<', categories: [CompareOp], label: "'<'" });
/** `=` is both the option assignment and a comparison. */
export const Eq = token({ name: 'Eq', pattern: '=', categories: [CompareOp], label: "'='" });

function keyword(word: string): TokenType {
  const name = word.charAt(0).toUpperCase() + word.slice(1);
  const lower = word.charAt(0);
  return token({
    name,
    pattern: new RegExp(word, 'i'),
    longer_alt: Word,
    categories: [Name],
    // A case-insensitive pattern hides its first characters from Chevrotain's
    // first-char optimisation; the hint restores it.
    start_chars_hint: [lower, lower.toUpperCase()],
    label: word,
  });
}

/**
 * The keywords of the language's structure. Each command's own keywords
 * (`list`, `deploy`, `status`, …) are declared by its command module and made
 * by `createTokens` with the same `keyword` function.
 */
export const Mlmodel = keyword('mlmodel');
export const Serving = keyword('serving');
export const As = keyword('as');
export const Where = keyword('where');
export const Fields = keyword('fields');
export const Sort = keyword('sort');
export const Head = keyword('head');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const Like = keyword('like');
export const In = keyword('in');
export const Asc = keyword('asc');
export const Desc = keyword('desc');

/** IRIS's "search everything" prefix `* |`; a lone `*` is otherwise a word. */
export const Star = token({
  name: 'Star',
  pattern: '*',
  longer_alt: Word,
  categories: [Name],
  label: "'*'",
});

export const STAGE_KEYWORDS = ['where', 'fields', 'sort', 'head'] as const;

/** The keywords every language has, whatever its commands. */
const STRUCTURE_KEYWORDS: readonly TokenType[] = [Mlmodel, Serving, As, Where, Fields, Sort, Head, And, Or, Not, Like, In, Asc, Desc];

/** The token set of one language: the structure's tokens plus a keyword per command word. */
export interface TokenSet {
  /** Every keyword, structural and command. */
  readonly keywords: readonly TokenType[];
  /** The keyword token for a word (lower-case). */
  readonly byWord: ReadonlyMap<string, TokenType>;
  /** Every token in lexing order. */
  readonly all: readonly TokenType[];
  readonly lexer: InstanceType<typeof Lexer>;
  /** True when `text` on its own would lex as a keyword (case-insensitive). */
  isKeyword(text: string): boolean;
}

/**
 * Builds the tokens for a language whose commands use `commandWords`. A word
 * that is already a structural keyword reuses its token.
 */
export function createTokens(commandWords: readonly string[], options: { validate?: boolean } = {}): TokenSet {
  const byWord = new Map<string, TokenType>(STRUCTURE_KEYWORDS.map((t) => [String(t.LABEL), t]));
  for (const w of commandWords) {
    const word = w.toLowerCase();
    if (!/^[a-z][a-z_]*$/.test(word)) throw new Error(`a command keyword is lower-case letters and _: ${w}`);
    if (!byWord.has(word)) byWord.set(word, keyword(word));
  }
  const keywords = [...byWord.values()];
  const all: TokenType[] = [
    WhiteSpace,
    Quoted,
    Pipe,
    Comma,
    LParen,
    RParen,
    EqEq,
    NotEq,
    LtGt,
    Gte,
    Lte,
    Gt,
    Lt,
    Eq,
    CompareOp,
    // Longest first, so that `asc` is not read as `as` followed by `c`.
    ...[...keywords].sort((a, b) => String(b.LABEL).length - String(a.LABEL).length),
    Star,
    Word,
    Name,
  ];
  // `validate` checks the token definitions (the tests do); the language every query uses skips that work at start-up.
  const lexer = new Lexer(all, {
    positionTracking: 'full',
    ensureOptimizations: options.validate === true,
    skipValidations: options.validate !== true,
  });
  return { keywords, byWord, all, lexer, isKeyword: (text) => byWord.has(text.toLowerCase()) };
}
