import type { ILexingError, ISyntacticContentAssistPath, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF, createTokenInstance, tokenMatcher } from './chevrotain.js';
import type { Query } from './ast.js';
import { AssistWindow, WINDOW_LIMIT } from './assist-window.js';
import { ParseError, tokenIssue, type ParseIssue } from './errors.js';
import type { FastParse } from './fast-parse.js';
import type { MlmodelParser } from './parser.js';
import { nearest } from './suggest.js';
import * as T from './tokens.js';
import type { AstBuilder } from './visitor.js';

/**
 * Parentheses and `not` nest the parser's recursion (each is a rule call
 * inside the one before); a limit far above any real query keeps hostile
 * input from exhausting the stack, here and in every later walk of the tree.
 */
export const MAX_NESTING = 64;

/** Longer input is refused before lexing: a query is a line, not a file. */
export const MAX_QUERY_LENGTH = 1_000_000;

/** Past this length a query's tokens outlive the young generation: its nesting is first checked on a prefix (tooDeepEarly). */
const LONG_QUERY = 1 << 16;

/** The prefix tooDeepEarly keeps the tokens of: 65 levels of nesting fit in a few hundred characters. */
const PREFIX_LENGTH = 1 << 12;

/** The pieces tooDeepEarly lexes the rest in, each small enough for its tokens to die young. */
const PIECE_LENGTH = 1 << 14;

/** Characters that only whitespace, a one-character token or a quoted string holds: a piece of the text may end after one. */
const PIECE_END = /[\s(),|]/g;

/** Just past the first piece-ending character at or after `from`; the text's length if there is none. */
function pieceEnd(text: string, from: number): number {
  if (from >= text.length) return text.length;
  PIECE_END.lastIndex = from;
  return PIECE_END.exec(text) === null ? text.length : PIECE_END.lastIndex;
}

/** Recovery can find an error per token in garbage; past this many, more say nothing new. */
const MAX_ISSUES = 20;

/** How far past a reported error we look for the token that really broke the query. */
const MAX_WALK = 64;

/**
 * Tokens of content assist one parse may ask for in all, across its issues
 * and their walks: each question costs its window's length, and a constant
 * total keeps describing errors from growing with the input. An ordinary
 * query never comes near it; past it, an issue names no alternatives.
 */
const ASSIST_BUDGET = 20_000;

/** What a parse function is made of: one language's tokens, parser and CST→AST builder, and its fast path. */
export interface ParseParts {
  readonly tokens: T.TokenSet;
  readonly parser: MlmodelParser;
  readonly builder: AstBuilder;
  /** Tried first on the lexed tokens; when it declines (or is not given), Chevrotain parses them. */
  readonly fast?: FastParse;
}

/** How a query is read: the fast path first (the default), the fast path alone, or Chevrotain alone. */
export type ParsePath = 'both' | 'fast' | 'chevrotain';

export interface ParseFunctions {
  /** Parses one query into its AST. Throws `ParseError` — and only `ParseError` — listing every problem found. */
  parse(text: string): Query;
  /** The fast path alone: the AST, or undefined where it declines (throws as `parse` does before either path runs). */
  fast(text: string): Query | undefined;
  /** `parse` without the fast path. */
  chevrotain(text: string): Query;
}

/**
 * Makes the `parse` of one language: it turns one query into its AST and
 * throws `ParseError` — and only `ParseError` — listing every problem found,
 * each with its position.
 */
export function createParse({ tokens: tokens_, parser, builder: astBuilder, fast }: ParseParts): ParseFunctions {
  function parse(text: string): Query {
    return guarded(text, 'both')!;
  }

  function guarded(text: string, path: ParsePath): Query | undefined {
    let result: Query | undefined;
    try {
      result = parseOrThrow(text, path);
    } catch (e) {
      if (e instanceof ParseError) throw e;
      // The grammar is meant to reject every bad input with a ParseError; if
      // something deeper fails, the caller still gets the one error type it handles.
      throw new ParseError(text, [
        issueAt(text, 0, 0, `the parser failed on this input (${e instanceof Error ? e.message : String(e)})`, []),
      ]);
    }
    return result;
  }

  function parseOrThrow(text: string, path: ParsePath): Query | undefined {
    if (text.length > MAX_QUERY_LENGTH) {
      throw new ParseError(text, [issueAt(text, MAX_QUERY_LENGTH, 1, `a query is limited to ${MAX_QUERY_LENGTH} characters`, [])]);
    }
    const early = text.length > LONG_QUERY ? tooDeepEarly(text) : undefined;
    if (early) throw new ParseError(text, [tokenIssue(early.token, early.message, [])]);
    const lexed = tokens_.lexer.tokenize(text);
    // Syntax errors after a lexing error mostly echo it (the bad character is
    // simply missing from the token stream), so the lexer's word is final.
    if (lexed.errors.length > 0) {
      throw new ParseError(text, lexed.errors.slice(0, MAX_ISSUES).map((e) => lexIssue(text, e)));
    }
    const tokens = lexed.tokens;
    const deep = tooDeep(tokens);
    if (deep) throw new ParseError(text, [tokenIssue(deep.token, deep.message, [])]);

    // A clean query is read by the fast path; anything it declines, Chevrotain reads and explains.
    if (path !== 'chevrotain' && fast !== undefined) {
      const quick = fast(tokens);
      if (quick !== undefined || path === 'fast') return quick;
    }

    const cst = recognize(tokens, MAX_ISSUES);
    if (cst === undefined || parser.errors.length > 0) {
      // Copied first: describing an issue re-runs the parser on prefixes.
      const errors = parser.errors.slice(0, MAX_ISSUES);
      const budget = { left: ASSIST_BUDGET };
      const issues = errors.map((e) => syntaxIssue(text, tokens, e, budget));
      throw new ParseError(text, dedupe(issues));
    }

    astBuilder.issues = [];
    const ast = astBuilder.query(cst.children as never);
    if (astBuilder.issues.length > 0) throw new ParseError(text, astBuilder.issues);
    return ast;
  }

  /**
   * Thrown out of the parser once it has recorded enough errors. Recovery finds
   * an error at nearly every token of garbage, and Chevrotain works out the
   * lookahead paths of each one as it is raised (about half a millisecond
   * apiece), so recovering to the end made a long invalid query take seconds
   * per kilobyte. Not a recognition exception, so no rule catches it.
   */
  class EnoughErrors extends Error {}

  type Recorder = { SAVE_ERROR(error: IRecognitionException): IRecognitionException };
  let errorLimit = Infinity;
  let errorCount = 0;
  const recorder = parser as unknown as Recorder;
  const saveError = recorder.SAVE_ERROR.bind(parser);
  recorder.SAVE_ERROR = (error) => {
    const saved = saveError(error);
    if (++errorCount >= errorLimit) throw new EnoughErrors();
    return saved;
  };

  /** Runs the parser over `tokens`, stopping at the `limit`-th error. */
  function recognize(tokens: IToken[], limit: number): ReturnType<typeof parser.query> | undefined {
    parser.input = tokens;
    errorLimit = limit;
    errorCount = 0;
    try {
      return parser.query();
    } catch (e) {
      if (e instanceof EnoughErrors) return undefined;
      throw e;
    } finally {
      errorLimit = Infinity;
    }
  }

  /**
   * The first token at which parentheses and `not` nest deeper than
   * MAX_NESTING. Each open parenthesis counts, and each `not` in the run before
   * the operand it negates (an `and` or `or` ends the run; a `(` keeps the run
   * outside it open until its `)`). A field called `not` counts too: the limit
   * is far above real queries, so overcounting one costs nothing.
   */
  function tooDeep(tokens: readonly IToken[]): { token: IToken; message: string } | undefined {
    // Each token deepens the nesting by one at most: a short query cannot be too deep (most are).
    if (tokens.length <= MAX_NESTING) return undefined;
    // Per open parenthesis: the `not`s pending outside it.
    const outer: number[] = [];
    let pending = 0;
    let depth = 0;
    let nots = false;
    for (const t of tokens) {
      const type = t.tokenType;
      if (type === T.LParen) {
        outer.push(pending);
        pending = 0;
        depth++;
      } else if (type === T.RParen) {
        if (outer.length > 0) {
          depth -= pending + 1 + outer.pop()!;
          pending = 0;
        }
      } else if (type === T.Not) {
        pending++;
        depth++;
        nots = true;
      } else if (type === T.And || type === T.Or || type === T.Pipe) {
        depth -= pending;
        pending = 0;
        if (type === T.Pipe) {
          depth = 0;
          outer.length = 0;
        }
      }
      if (depth > MAX_NESTING) {
        const what = nots ? '`not` and parentheses' : 'parentheses';
        return { token: t, message: `${what} nest more than ${MAX_NESTING} deep` };
      }
    }
    return undefined;
  }

  /**
   * The depth error of a long query that nests too deep near its start, found
   * without keeping the whole query's tokens: exactly the error the lexing and
   * tooDeep above would give it, or undefined (they then run as usual).
   *
   * A megabyte lexes to up to a million tokens, all alive until the lexer
   * returns: the garbage collector copies them out of the young generation and
   * marks them in the old one, which made rejecting a deep 1 MB query cost
   * three to four times as much per megabyte as a 100 KB one, whose tokens die
   * young. Here only a prefix's tokens are kept, and the rest is lexed a piece
   * at a time for the lexer's errors alone (which come first: the lexer's word
   * is final), each piece's tokens dropped as the next is lexed.
   *
   * Why the pieces answer as the whole text would: each piece ends just after
   * a character that only whitespace, a one-character token or a quoted string
   * holds (whitespace, `(`, `)`, `,`, `|`) and, past the prefix, starts where
   * the one before ended. A pattern that matches at a place of a piece matches
   * the same there on the whole text unless its match would run past the
   * piece's end; but for whitespace (skipped), only a quoted string can, and
   * one cut off there is an error of the piece. So a piece without errors has the whole
   * text's tokens (the prefix's are kept, a word like `nothing` never cut into
   * `not`), and the whole text has an error only where a piece does. Any error
   * in a piece, real or made by the cut, hands the query back to the
   * whole-text lexing, which reports it.
   */
  function tooDeepEarly(text: string): { token: IToken; message: string } | undefined {
    const prefixEnd = pieceEnd(text, PREFIX_LENGTH);
    if (prefixEnd >= text.length) return undefined;
    const head = tokens_.lexer.tokenize(text.slice(0, prefixEnd));
    if (head.errors.length > 0) return undefined;
    // The prefix starts where the text does: its tokens' offsets, lines and columns are the whole text's.
    const deep = tooDeep(head.tokens);
    if (deep === undefined) return undefined;
    for (let from = prefixEnd; from < text.length; ) {
      const to = pieceEnd(text, from + PIECE_LENGTH);
      if (tokens_.lexer.tokenize(text.slice(from, to)).errors.length > 0) return undefined;
      from = to;
    }
    return deep;
  }

  function lexIssue(text: string, e: ILexingError): ParseIssue {
    const ch = text.charAt(e.offset);
    const common = {
      line: e.line ?? 1,
      column: e.column ?? 1,
      offset: e.offset,
    };
    if (ch === "'" || ch === '"') {
      return {
        ...common,
        length: e.length,
        text: text.slice(e.offset, e.offset + e.length),
        message: `unterminated quoted string: close it with ${ch}`,
        expected: [ch],
      };
    }
    const bad = text.slice(e.offset, e.offset + e.length);
    const hint = ch === '!' ? ` (did you mean '!='?)` : '';
    return { ...common, length: e.length, text: bad, message: `unexpected character ${JSON.stringify(bad)}${hint}`, expected: [] };
  }

  /** Context for a misplaced word, keyed by the token just before it. */
  interface Slot {
    readonly what: string;
    readonly choices: readonly string[];
  }

  // The words each slot takes come from the commands' declared keywords.
  const SLOT_AFTER_PIPE: Slot = { what: 'a pipeline stage', choices: T.STAGE_KEYWORDS };
  const SLOT_START: Slot = { what: 'a command', choices: parser.prefixRules.map((p) => p.prefix) };
  const prefixSlots = new Map<TokenType, Slot>(
    parser.prefixRules.map((p) => [
      tokens_.byWord.get(p.prefix)!,
      { what: `a ${p.prefix} action`, choices: p.commands.flatMap((r) => r.syntax.keywords) },
    ]),
  );

  function slotFor(previous: IToken | undefined): Slot | undefined {
    if (previous === undefined) return SLOT_START;
    if (previous.tokenType === T.Pipe) return SLOT_AFTER_PIPE;
    return prefixSlots.get(previous.tokenType);
  }

  /** Stages do not depend on the command before them: a bare `mlmodel list` stands in for it when describing a stage. */
  const listRule = parser.commandRules.find((r) => r.syntax.bareDefault) ?? parser.commandRules[0]!;
  const STAND_IN: readonly IToken[] = [
    createTokenInstance(tokens_.byWord.get(listRule.prefix)!, listRule.prefix, NaN, NaN, NaN, NaN, NaN, NaN),
    createTokenInstance(listRule.keywordTokens[0]!, listRule.syntax.keywords[0], NaN, NaN, NaN, NaN, NaN, NaN),
  ];

  interface Budget {
    left: number;
  }

  function syntaxIssue(text: string, tokens: IToken[], e: IRecognitionException, budget: Budget): ParseIssue {
    const reported = e.token.tokenType === EOF || Number.isNaN(e.token.startOffset) ? tokens.length : tokens.indexOf(e.token);
    const window = new AssistWindow(tokens, reported < 0 ? tokens.length : reported, STAND_IN);
    const index = reported < 0 ? tokens.length : firstInvalid(tokens, reported, window, budget);
    const token: IToken | undefined = tokens[index];
    const previous = index > 0 ? tokens[index - 1] : undefined;
    const prefix = window.tokens();
    const complete = token !== undefined && isComplete(index <= WINDOW_LIMIT ? tokens.slice(0, index) : prefix);
    const expected = labels(paths(prefix, budget), complete);
    const found = token ? `[${token.image}]` : 'end of input';

    // A wrong word where an action, a stage or the command belongs is answered
    // the IRIS way, naming what is available there.
    const slot = slotFor(previous);
    if (slot && token) {
      const suggestion = nearest(token.image, slot.choices);
      const didYouMean = suggestion ? ` Did you mean ${suggestion}?` : '';
      const message = `[${token.image}] is not ${slot.what}.${didYouMean} Available: ${slot.choices.join(', ')}`;
      return { ...tokenIssue(token, message, expected), ...(suggestion ? { suggestion } : {}) };
    }

    const message = `expected ${listOr(expected)} but found ${found}`;
    if (token) {
      const suggestion = nearest(token.image, expected.filter((x) => /^[a-z]+$/.test(x)));
      return {
        ...tokenIssue(token, suggestion ? `${message}. Did you mean ${suggestion}?` : message, expected),
        ...(suggestion ? { suggestion } : {}),
      };
    }
    const last = tokens[tokens.length - 1];
    const end = last ? last.endOffset! + 1 : text.length;
    return issueAt(text, end, 0, message, expected);
  }

  /**
   * Chevrotain reports a failed alternative at the token where the alternative
   * began (`where a 5` fails at `a`); walk forward while each token is one the
   * grammar accepts after the tokens before it, to the token that really broke
   * the query.
   */
  function firstInvalid(tokens: readonly IToken[], from: number, window: AssistWindow, budget: Budget): number {
    let i = from;
    const limit = Math.min(tokens.length, from + MAX_WALK);
    while (i < limit && budget.left > 0) {
      const token = tokens[i]!;
      if (!paths(window.tokens(), budget).some((p) => tokenMatcher(token, p.nextTokenType))) break;
      window.advance();
      i++;
    }
    return i;
  }

  /**
   * Would the query be complete if it ended here? Asked of the tokens before
   * the position while they are few, else of its window (none: no); one error
   * settles it, so the parser stops there.
   */
  function isComplete(prefix: IToken[] | undefined): boolean {
    if (prefix === undefined) return false;
    recognize(prefix, 1);
    return parser.errors.length === 0;
  }

  /**
   * Chevrotain's content assist: every token the grammar accepts after
   * `prefix` (a window from AssistWindow; none when no window fits). Stages do
   * not depend on the command before them, so a stage gets a precise
   * "expected" even when an earlier part of the query was already wrong.
   */
  function paths(prefix: IToken[] | undefined, budget: Budget): ISyntacticContentAssistPath[] {
    if (prefix === undefined || budget.left < prefix.length) return [];
    budget.left -= prefix.length;
    try {
      return parser.computeContentAssist('query', prefix);
    } catch {
      // An invalid prefix has no continuation to offer; the message still names what was found.
      return [];
    }
  }

  /** Readable labels for what could have come next, so the message lists exactly the valid tokens. */
  function labels(next: readonly ISyntacticContentAssistPath[], orEnd: boolean): string[] {
    const result = new Set<string>();
    for (const p of next) {
      // `* |` is an optional prefix nobody needs to be told about.
      if (p.nextTokenType !== T.Star) result.add(labelFor(p.nextTokenType, p.ruleStack[p.ruleStack.length - 1], p.ruleStack[p.ruleStack.length - 2]));
    }
    if (orEnd) result.add('end of input');
    return [...result];
  }

  const NAME_LABELS: Readonly<Record<string, string>> = {
    modelRef: 'a model name',
    // A command's own words (`rename a as NEW`, `alias m@1 NAME`) say what they are.
    ...Object.fromEntries(
      parser.commandRules.flatMap((r) => r.syntax.args.flatMap((a) => (a.kind === 'word' ? [[r.name, a.label] as const] : []))),
    ),
    nameList: 'a field name',
    optionAssignment: 'an option name',
    value: 'a value',
    predicate: 'a field name',
    sortKey: 'a field name',
    headStage: 'a number of rows',
  };

  /** A names part of a command (`tag m a, b`) says what its names are. */
  const LIST_LABELS: Readonly<Record<string, string>> = Object.fromEntries(
    parser.commandRules.flatMap((r) => r.syntax.args.flatMap((a) => (a.kind === 'names' ? [[r.name, a.label] as const] : []))),
  );

  function labelFor(type: TokenType, rule: string | undefined, parent: string | undefined): string {
    if (type === T.Name || type === T.Word) {
      if (rule === 'nameList' && parent !== undefined && LIST_LABELS[parent]) return LIST_LABELS[parent];
      return NAME_LABELS[rule ?? ''] ?? 'a name';
    }
    if (type === T.Quoted) return rule === 'value' ? 'a value' : 'a quoted string';
    if (type === T.CompareOp) return 'a comparison operator';
    return String(type.LABEL ?? type.name);
  }

  return { parse, fast: (text) => guarded(text, 'fast'), chevrotain: (text) => guarded(text, 'chevrotain')! };
}

function listOr(items: readonly string[]): string {
  if (items.length === 0) return 'something else';
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** An issue at a raw offset (end of input, or before any token). */
function issueAt(text: string, offset: number, length: number, message: string, expected: readonly string[]): ParseIssue {
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n|\r|\n/);
  return {
    message,
    line: lines.length,
    column: (lines[lines.length - 1] ?? '').length + 1,
    offset,
    length,
    text: text.slice(offset, offset + length),
    expected,
  };
}

/** Recovery can report the same spot twice; keep the first word on each. */
function dedupe(issues: ParseIssue[]): ParseIssue[] {
  const seen = new Set<number>();
  return issues
    .sort((a, b) => a.offset - b.offset)
    .filter((i) => {
      if (seen.has(i.offset)) return false;
      seen.add(i.offset);
      return true;
    });
}
