import type { TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

/**
 * Every token of the mlmodel language, in one place.
 *
 * `Name` is an abstract category: plain words and every keyword belong to it,
 * so wherever the grammar wants a name it consumes `Name` and a model called
 * `list` or a field called `status` still works. Keywords use `longer_alt:
 * Word`, so `listing` or `list.csv` lex as one word, not a keyword and a tail.
 */

export const Name = createToken({ name: 'Name', pattern: Lexer.NA });

/**
 * IRIS's WORD is `[^,|\s()'"=]+`; ours also stops at `<`, `>` and `!` so that
 * `a>5` lexes as three tokens. Everything else — Hangul, `@`, `:`, `/`, `.`,
 * `-`, `%`, `*` — may appear in a word.
 */
export const Word = createToken({
  name: 'Word',
  pattern: /[^,|\s()'"=<>!]+/,
  categories: [Name],
  start_chars_hint: wordStartChars(),
});

/**
 * Chevrotain cannot derive the first characters of a complement set, and
 * without them the lexer tries every pattern at every position. So list
 * them: every character below U+0100 that a word may start with, and every
 * UTF-16 code unit above (Chevrotain folds those into a few buckets and
 * skips consecutive repeats, so the long list costs little).
 */
function wordStartChars(): number[] {
  const excluded = new Set([...',|()\'"=<>!'].map((c) => c.charCodeAt(0)));
  const codes: number[] = [];
  for (let c = 0; c < 256; c++) {
    if (!excluded.has(c) && !/\s/.test(String.fromCharCode(c))) codes.push(c);
  }
  for (let c = 256; c < 65536; c++) codes.push(c);
  return codes;
}

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /\s+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/** A quoted string may span lines and hold any character; `\` escapes the next one. */
export const Quoted = createToken({
  name: 'Quoted',
  pattern: /'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*"/,
  line_breaks: true,
  start_chars_hint: ["'", '"'],
});

export const Pipe = createToken({ name: 'Pipe', pattern: '|', label: "'|'" });
export const Comma = createToken({ name: 'Comma', pattern: ',', label: "','" });
export const LParen = createToken({ name: 'LParen', pattern: '(', label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: ')', label: "')'" });

/** Comparison operators; `==` and `<>` are spellings of `=` and `!=`. */
export const CompareOp = createToken({ name: 'CompareOp', pattern: Lexer.NA, label: 'a comparison operator' });
export const EqEq = createToken({ name: 'EqEq', pattern: '==', categories: [CompareOp], label: "'=='" });
export const NotEq = createToken({ name: 'NotEq', pattern: '!=', categories: [CompareOp], label: "'!='" });
export const LtGt = createToken({ name: 'LtGt', pattern: '<>', categories: [CompareOp], label: "'<>'" });
export const Gte = createToken({ name: 'Gte', pattern: '>=', categories: [CompareOp], label: "'>='" });
export const Lte = createToken({ name: 'Lte', pattern: '<=', categories: [CompareOp], label: "'<='" });
export const Gt = createToken({ name: 'Gt', pattern: '>', categories: [CompareOp], label: "'>'" });
export const Lt = createToken({ name: 'Lt', pattern: '<', categories: [CompareOp], label: "'<'" });
/** `=` is both the option assignment and a comparison. */
export const Eq = createToken({ name: 'Eq', pattern: '=', categories: [CompareOp], label: "'='" });

function keyword(word: string): TokenType {
  const name = word.charAt(0).toUpperCase() + word.slice(1);
  const lower = word.charAt(0);
  return createToken({
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

export const Mlmodel = keyword('mlmodel');
export const Serving = keyword('serving');
export const List = keyword('list');
export const Summary = keyword('summary');
export const Delete = keyword('delete');
export const Rename = keyword('rename');
export const As = keyword('as');
export const Import = keyword('import');
export const Export = keyword('export');
export const Deploy = keyword('deploy');
export const Stop = keyword('stop');
export const Status = keyword('status');
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
export const Versions = keyword('versions');
export const Tag = keyword('tag');
export const Untag = keyword('untag');
export const Alias = keyword('alias');
export const Unalias = keyword('unalias');
export const Files = keyword('files');
export const Pull = keyword('pull');
export const Verify = keyword('verify');
export const Fsck = keyword('fsck');
export const Desc = keyword('desc');

/** IRIS's "search everything" prefix `* |`; a lone `*` is otherwise a word. */
export const Star = createToken({
  name: 'Star',
  pattern: '*',
  longer_alt: Word,
  categories: [Name],
  label: "'*'",
});

/** The actions after `mlmodel`: IRIS's, in the order its reference lists them, then ours. */
export const ACTION_KEYWORDS = [
  'list', 'summary', 'delete', 'rename', 'import', 'export', 'deploy', 'stop',
  'versions', 'tag', 'untag', 'alias', 'unalias', 'files', 'pull', 'verify', 'fsck',
] as const;
export const STAGE_KEYWORDS = ['where', 'fields', 'sort', 'head'] as const;
export const COMMAND_KEYWORDS = ['mlmodel', 'serving'] as const;
export const SERVING_ACTION_KEYWORDS = ['status'] as const;

export const KEYWORDS: readonly TokenType[] = [
  Mlmodel, Serving, List, Summary, Delete, Rename, As, Import, Export, Deploy, Stop, Status,
  Where, Fields, Sort, Head, And, Or, Not, Like, In, Asc, Desc,
  Versions, Tag, Untag, Alias, Unalias, Files, Pull, Verify, Fsck,
];

const KEYWORD_WORDS = new Set(KEYWORDS.map((t) => String(t.LABEL)));

/** True when `text` on its own would lex as a keyword (case-insensitive). */
export function isKeyword(text: string): boolean {
  return KEYWORD_WORDS.has(text.toLowerCase());
}

/** Order matters: longer operators before their prefixes, keywords before Word. */
export const ALL_TOKENS: readonly TokenType[] = [
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
  ...[...KEYWORDS].sort((a, b) => String(b.LABEL).length - String(a.LABEL).length),
  Star,
  Word,
  Name,
];

/** `validate` checks the token definitions (the tests do); the shared lexer skips that work at start-up. */
export function createLexer(options: { validate?: boolean } = {}): InstanceType<typeof Lexer> {
  return new Lexer([...ALL_TOKENS], {
    positionTracking: 'full',
    ensureOptimizations: options.validate === true,
    skipValidations: options.validate !== true,
  });
}

export const lexer = createLexer();
