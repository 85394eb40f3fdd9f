import type { IToken, TokenType } from 'chevrotain';
import type * as A from './ast.js';
import {
  bareCommandNode,
  commandNode,
  compareNode,
  headNode,
  inNode,
  joined,
  likeNode,
  negated,
  sortKeyNode,
  type CommandTokens,
  type IssueSink,
  type OptionTokens,
} from './ast-parts.js';
import { createTokenInstance, EOF, tokenMatcher } from './chevrotain.js';
import type { ParseIssue } from './errors.js';
import { startsPredicateAt, type CommandRule, type MlmodelParser } from './parser.js';
import * as T from './tokens.js';

/**
 * The fast path: a recursive-descent recogniser over the same tokens as the
 * Chevrotain parser (parser.ts), building the AST directly with the same
 * builders as the CST visitor (ast-parts.ts). It exists for speed alone:
 * Chevrotain's recogniser and the CST walk cost more than the lexer, and a
 * query that reads cleanly needs neither. It accepts only what it reads to the
 * end without a single problem; at anything else — a token it did not expect,
 * an option of the wrong type, a bad version — it declines (undefined), and
 * parse() runs Chevrotain on the same tokens, so every error message, caret,
 * suggestion and recovery is Chevrotain's as before.
 *
 * It knows no command: the commands' rules are read from the parser's
 * `commandRules` and `prefixRules` (made from the command list's declared
 * syntax), and each declared part is read the way parser.ts's `argument`
 * reads it, with the same gates. Each decision mirrors Chevrotain's: it takes
 * the first alternative whose gate holds and whose first token fits, and
 * Chevrotain's LL(k) lookahead paths are prefixes of every sentence of an
 * alternative, so a sentence this path reads to the end is one Chevrotain
 * reads the same way (test/grammar/fast-path.test.ts holds the two to equal
 * ASTs and to the same verdicts).
 */
export type FastParse = (tokens: readonly IToken[]) => A.Query | undefined;

/** Thrown to give up; caught at the top. One object: giving up must cost nothing. */
const DECLINE = { declined: true };

/** An issue from a builder means the query is not clean: Chevrotain will report it. */
const DECLINING_SINK: IssueSink = {
  push(_issue: ParseIssue): void {
    throw DECLINE;
  },
};

interface PrefixTable {
  /** The rule each keyword token after this prefix starts. */
  readonly byKeyword: ReadonlyMap<TokenType, CommandRule>;
  /** The command the bare prefix stands for, if any. */
  readonly bare: CommandRule | undefined;
}

export function createFastParse(parser: MlmodelParser, tokens: T.TokenSet): FastParse {
  const prefixes = new Map<TokenType, PrefixTable>();
  for (const p of parser.prefixRules) {
    const byKeyword = new Map<TokenType, CommandRule>();
    for (const rule of p.commands) for (const t of rule.keywordTokens) byKeyword.set(t, rule);
    prefixes.set(tokens.byWord.get(p.prefix)!, { byKeyword, bare: p.commands.find((r) => r.syntax.bareDefault === true) });
  }

  // The token categories, as flags by token type index: what Chevrotain's tokenMatcher answers, asked once per type.
  const size = Math.max(EOF.tokenTypeIdx!, ...tokens.all.map((t) => t.tokenTypeIdx!)) + 1;
  const nameFlags = new Uint8Array(size);
  const compareFlags = new Uint8Array(size);
  for (const type of tokens.all) {
    const probe = createTokenInstance(type, '', NaN, NaN, NaN, NaN, NaN, NaN);
    if (tokenMatcher(probe, T.Name)) nameFlags[type.tokenTypeIdx!] = 1;
    if (tokenMatcher(probe, T.CompareOp)) compareFlags[type.tokenTypeIdx!] = 1;
  }
  const isName = (type: TokenType): boolean => nameFlags[type.tokenTypeIdx!] === 1;

  /** Past the last token Chevrotain's LA gives an EOF token; so does this. */
  const END: IToken = createTokenInstance(EOF, '', NaN, NaN, NaN, NaN, NaN, NaN);

  let toks: readonly IToken[] = [];
  let pos = 0;

  const LA = (k: number): IToken => toks[pos + k - 1] ?? END;
  const next = (): TokenType => (toks[pos] ?? END).tokenType;

  function name(): IToken {
    const t = toks[pos];
    if (t === undefined || !isName(t.tokenType)) throw DECLINE;
    pos++;
    return t;
  }

  function expect(type: TokenType): IToken {
    const t = toks[pos];
    if (t === undefined || t.tokenType !== type) throw DECLINE;
    pos++;
    return t;
  }

  /** `value`: a word or a quoted string. */
  function value(): IToken {
    const t = toks[pos];
    if (t === undefined || (t.tokenType !== T.Quoted && !isName(t.tokenType))) throw DECLINE;
    pos++;
    return t;
  }

  /** `nameList`: names separated by commas. */
  function nameList(): IToken[] {
    const list = [name()];
    while (next() === T.Comma) {
      pos++;
      list.push(name());
    }
    return list;
  }

  function query(): A.Query {
    // IRIS's `* |`, read when Chevrotain's gate and its one token of lookahead would.
    if (LA(2).tokenType === T.Pipe && next() === T.Star) pos += 2;
    const command = prefixedCommand();
    const stages: A.Stage[] = [];
    while (next() === T.Pipe) {
      pos++;
      stages.push(stage());
    }
    if (pos !== toks.length) throw DECLINE;
    return { kind: 'query', command, stages };
  }

  function prefixedCommand(): A.Command {
    const prefix = prefixes.get(next());
    if (prefix === undefined) throw DECLINE;
    pos++;
    const rule = prefix.byKeyword.get(next());
    if (rule !== undefined) return command(rule);
    if (prefix.bare !== undefined) return bareCommandNode(prefix.bare);
    throw DECLINE;
  }

  /** A command's rule: its keyword, then each declared part in order, read as parser.ts's `argument` reads it. */
  function command(rule: CommandRule): A.Command {
    const keyword = toks[pos++]!;
    let model: IToken | undefined;
    let options: OptionTokens[] | undefined;
    const fields: Record<string, readonly IToken[] | IToken | undefined> = {};
    for (const arg of rule.syntax.args) {
      switch (arg.kind) {
        case 'model':
          model = name();
          break;
        case 'options':
          options = [];
          while (isName(next())) {
            const key = toks[pos++]!;
            expect(T.Eq);
            options.push({ key, value: value() });
          }
          break;
        case 'names':
          if (!arg.optional) fields[arg.field] = nameList();
          else if (LA(2).tokenType !== T.Eq && isName(next())) fields[arg.field] = nameList();
          break;
        case 'word':
          if (arg.optionalKeyword !== undefined) {
            const after = LA(2).tokenType;
            if (after !== T.Pipe && after !== EOF && next() === T.As) pos++;
          }
          fields[arg.field] = name();
          break;
      }
    }
    const parts: CommandTokens = { keyword, model, options, fields };
    return commandNode(rule, parts, DECLINING_SINK);
  }

  function stage(): A.Stage {
    const type = next();
    pos++;
    if (type === T.Where) return { kind: 'where', condition: orExpr() };
    if (type === T.Fields) return { kind: 'fields', fields: nameList().map((t) => t.image) };
    if (type === T.Sort) {
      const keys = [sortKey()];
      while (next() === T.Comma) {
        pos++;
        keys.push(sortKey());
      }
      return { kind: 'sort', keys };
    }
    if (type === T.Head) return headNode(name(), DECLINING_SINK);
    throw DECLINE;
  }

  function sortKey(): A.SortKey {
    const field = name();
    const direction = next();
    const explicit = direction === T.Asc || direction === T.Desc ? toks[pos++] : undefined;
    return sortKeyNode(field, explicit, DECLINING_SINK);
  }

  function orExpr(): A.Condition {
    const operands = [andExpr()];
    while (next() === T.Or) {
      pos++;
      operands.push(andExpr());
    }
    return joined('or', operands);
  }

  function andExpr(): A.Condition {
    const operands = [notExpr()];
    while (next() === T.And) {
      pos++;
      operands.push(notExpr());
    }
    return joined('and', operands);
  }

  /** The parser's notExpr: `not` negates unless what follows makes it a field called "not". */
  function notExpr(): A.Condition {
    if (next() === T.Not && !startsPredicateAt(LA, 2)) {
      pos++;
      return { kind: 'not', operand: notExpr() };
    }
    if (next() === T.LParen) {
      pos++;
      const inner = orExpr();
      expect(T.RParen);
      return inner;
    }
    return predicate();
  }

  function predicate(): A.Condition {
    const field = name();
    const op = toks[pos];
    if (op === undefined) throw DECLINE;
    if (compareFlags[op.tokenType.tokenTypeIdx!] === 1) {
      pos++;
      return compareNode(field, op, value(), DECLINING_SINK);
    }
    let negate = false;
    if (op.tokenType === T.Not) {
      const after = LA(2).tokenType;
      if (after !== T.Like && after !== T.In) throw DECLINE;
      negate = true;
      pos++;
    }
    const type = next();
    pos++;
    if (type === T.Like) return negated(likeNode(field, value()), negate);
    if (type !== T.In) throw DECLINE;
    expect(T.LParen);
    const members = [value()];
    while (next() === T.Comma) {
      pos++;
      members.push(value());
    }
    expect(T.RParen);
    return negated(inNode(field, members, DECLINING_SINK), negate);
  }

  return (input) => {
    toks = input;
    pos = 0;
    try {
      return query();
    } catch (e) {
      if (e === DECLINE) return undefined;
      throw e;
    } finally {
      toks = [];
    }
  };
}
