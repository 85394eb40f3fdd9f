import type { ILexingError, ISyntacticContentAssistPath, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF, createTokenInstance, tokenMatcher } from './chevrotain.js';
import type { Query } from './ast.js';
import { ParseError, tokenIssue, type ParseIssue } from './errors.js';
import type { MlmodelParser } from './parser.js';
import { nearest } from './suggest.js';
import * as T from './tokens.js';
import type { AstBuilder } from './visitor.js';

/**
 * Parentheses nest the parser's recursion; a limit far above any real query
 * keeps hostile input from exhausting the stack.
 */
export const MAX_NESTING = 64;

/** Longer input is refused before lexing: a query is a line, not a file. */
export const MAX_QUERY_LENGTH = 1_000_000;

/** Recovery can find an error per token in garbage; past this many, more say nothing new. */
const MAX_ISSUES = 20;

/** How far past a reported error we look for the token that really broke the query. */
const MAX_WALK = 64;

/** What a parse function is made of: one language's tokens, parser and CST→AST builder. */
export interface ParseParts {
  readonly tokens: T.TokenSet;
  readonly parser: MlmodelParser;
  readonly builder: AstBuilder;
}

/**
 * Makes the `parse` of one language: it turns one query into its AST and
 * throws `ParseError` — and only `ParseError` — listing every problem found,
 * each with its position.
 */
export function createParse({ tokens: tokens_, parser, builder: astBuilder }: ParseParts): (text: string) => Query {
  /**
   * Parses one query into its AST. Throws `ParseError` — and only
   * `ParseError` — listing every problem found, each with its position.
   */
  function parse(text: string): Query {
    let result: Query;
    try {
      result = parseOrThrow(text);
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

  function parseOrThrow(text: string): Query {
    if (text.length > MAX_QUERY_LENGTH) {
      throw new ParseError(text, [issueAt(text, MAX_QUERY_LENGTH, 1, `a query is limited to ${MAX_QUERY_LENGTH} characters`, [])]);
    }
    const lexed = tokens_.lexer.tokenize(text);
    // Syntax errors after a lexing error mostly echo it (the bad character is
    // simply missing from the token stream), so the lexer's word is final.
    if (lexed.errors.length > 0) {
      throw new ParseError(text, lexed.errors.slice(0, MAX_ISSUES).map((e) => lexIssue(text, e)));
    }
    const tokens = lexed.tokens;
    const deep = tooDeep(tokens);
    if (deep) throw new ParseError(text, [tokenIssue(deep, `parentheses nest more than ${MAX_NESTING} deep`, [])]);

    parser.input = tokens;
    const cst = parser.query();
    if (parser.errors.length > 0) {
      // Copied first: describing an issue re-runs the parser on prefixes.
      const errors = parser.errors.slice(0, MAX_ISSUES);
      const issues = errors.map((e) => syntaxIssue(text, tokens, e));
      throw new ParseError(text, dedupe(issues));
    }

    astBuilder.issues = [];
    const ast = astBuilder.query(cst.children as never);
    if (astBuilder.issues.length > 0) throw new ParseError(text, astBuilder.issues);
    return ast;
  }

  function tooDeep(tokens: readonly IToken[]): IToken | undefined {
    let depth = 0;
    for (const t of tokens) {
      if (t.tokenType === T.LParen && ++depth > MAX_NESTING) return t;
      if (t.tokenType === T.RParen) depth--;
    }
    return undefined;
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

  function syntaxIssue(text: string, tokens: readonly IToken[], e: IRecognitionException): ParseIssue {
    const reported = e.token.tokenType === EOF || Number.isNaN(e.token.startOffset) ? tokens.length : tokens.indexOf(e.token);
    const index = reported < 0 ? tokens.length : firstInvalid(tokens, reported);
    const token: IToken | undefined = tokens[index];
    const previous = index > 0 ? tokens[index - 1] : undefined;
    const expected = labels(paths(prefixBefore(tokens, index)), token !== undefined && isComplete(tokens.slice(0, index)));
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
  function firstInvalid(tokens: readonly IToken[], from: number): number {
    let i = from;
    const limit = Math.min(tokens.length, from + MAX_WALK);
    while (i < limit) {
      const token = tokens[i]!;
      if (!paths(prefixBefore(tokens, i)).some((p) => tokenMatcher(token, p.nextTokenType))) break;
      i++;
    }
    return i;
  }

  /**
   * The tokens to ask content assist about for position `index`. Stages do not
   * depend on the command before them, so from the last `|` on, a stand-in
   * `mlmodel list` replaces whatever came before: a stage gets a precise
   * "expected" even when an earlier part of the query was already wrong.
   */
  function prefixBefore(tokens: readonly IToken[], index: number): IToken[] {
    for (let i = index - 1; i >= 0; i--) {
      if (tokens[i]!.tokenType === T.Pipe) return [...STAND_IN, ...tokens.slice(i, index)];
    }
    return tokens.slice(0, index);
  }

  const listRule = parser.commandRules.find((r) => r.syntax.bareDefault) ?? parser.commandRules[0]!;
  const STAND_IN: readonly IToken[] = [
    createTokenInstance(tokens_.byWord.get(listRule.prefix)!, listRule.prefix, NaN, NaN, NaN, NaN, NaN, NaN),
    createTokenInstance(listRule.keywordTokens[0]!, listRule.syntax.keywords[0], NaN, NaN, NaN, NaN, NaN, NaN),
  ];

  /** Would the query be complete if it ended here? */
  function isComplete(prefix: readonly IToken[]): boolean {
    parser.input = [...prefix];
    parser.query();
    return parser.errors.length === 0;
  }

  /** Chevrotain's content assist: every token the grammar accepts after `prefix`. */
  function paths(prefix: IToken[]): ISyntacticContentAssistPath[] {
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

  return parse;
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
