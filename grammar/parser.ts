import type { CstNode, IToken, TokenType } from 'chevrotain';
import { CstParser, EOF, tokenMatcher } from './chevrotain.js';
import { COMMAND_PREFIXES, type ArgSyntax, type CommandPrefix, type CommandSyntax } from './command-syntax.js';
import { LazyLookaheadStrategy } from './lazy-lookahead.js';
import * as T from './tokens.js';

type RuleFn = () => CstNode;

const MAX_LOOKAHEAD = 3;

/** The grammar rule a command module's syntax became, with what the visitor needs to build its AST. */
export interface CommandRule {
  readonly name: string;
  readonly syntax: CommandSyntax;
  readonly prefix: CommandPrefix;
  readonly keywordTokens: readonly TokenType[];
}

/**
 * The mlmodel grammar (docs/language.md) as a Chevrotain CST parser. The structure
 * — `query`, stages, conditions, model references, options — is written out
 * below; each command's rule is made from its module's declared syntax, in
 * the constructor, before the self-analysis, as Chevrotain requires. One
 * instance per language is built and reused for every input.
 */
export class MlmodelParser extends CstParser {
  readonly commandRules: readonly CommandRule[];
  /** The rule after each prefix word (`mlmodel`, `serving`), and the commands it offers. */
  readonly prefixRules: readonly { readonly prefix: CommandPrefix; readonly name: string; readonly commands: readonly CommandRule[] }[];

  public query!: RuleFn;
  private command!: RuleFn;

  /**
   * `validate` runs Chevrotain's grammar checks (ambiguities, left recursion,
   * unreachable alternatives). The tests run them; the instance every query
   * uses skips them, as Chevrotain advises for production: they are most of
   * the cost of building a parser.
   */
  constructor(tokens: T.TokenSet, commands: readonly CommandSyntax[], options: { validate?: boolean } = {}) {
    super([...tokens.all], {
      recoveryEnabled: true,
      maxLookahead: MAX_LOOKAHEAD,
      skipValidations: options.validate !== true,
      lookaheadStrategy: new LazyLookaheadStrategy({ maxLookahead: MAX_LOOKAHEAD }),
    });
    const keywordToken = (word: string): TokenType => tokens.byWord.get(word.toLowerCase())!;
    this.commandRules = commands.map((syntax) => {
      const rule: CommandRule = {
        name: `${camel(syntax.kind ?? syntax.keywords[0])}Command`,
        syntax,
        prefix: syntax.prefix ?? 'mlmodel',
        keywordTokens: syntax.keywords.map(keywordToken),
      };
      return rule;
    });
    const ruleFns = new Map<string, RuleFn>();
    for (const rule of this.commandRules) ruleFns.set(rule.name, this.RULE(rule.name, this.commandBody(rule)));

    this.prefixRules = COMMAND_PREFIXES.map((prefix) => ({
      prefix,
      name: `${prefix}Prefix`,
      commands: this.commandRules.filter((r) => r.prefix === prefix),
    })).filter((p) => p.commands.length > 0);
    const prefixFns = this.prefixRules.map((p) => {
      const token = keywordToken(p.prefix);
      const alts = p.commands.map((r) => ({ ALT: () => this.SUBRULE(ruleFns.get(r.name)!) }));
      // IRIS: `mlmodel_command : LIST | <empty>` — a bare prefix may stand for a command.
      const bare = p.commands.some((r) => r.syntax.bareDefault === true);
      return this.RULE(p.name, () => {
        this.CONSUME(token);
        if (bare) this.OPTION(() => this.OR(alts));
        else this.OR(alts);
      });
    });
    const prefixAlts = prefixFns.map((fn) => ({ ALT: () => this.SUBRULE(fn) }));

    this.query = this.RULE('query', () => {
      this.OPTION({
        GATE: () => this.LA(2).tokenType === T.Pipe,
        DEF: () => {
          this.CONSUME(T.Star);
          this.CONSUME(T.Pipe);
        },
      });
      this.SUBRULE(this.command);
      this.MANY(() => {
        this.CONSUME2(T.Pipe);
        this.SUBRULE(this.stage);
      });
    });
    this.command = this.RULE('command', () => this.OR(prefixAlts));
    this.performSelfAnalysis();
  }

  /** A command's rule: its keyword, then each declared part in order, each labelled for the visitor. */
  private commandBody(rule: CommandRule): () => void {
    const [first, ...others] = rule.keywordTokens;
    // Built once: Chevrotain advises against new alternative arrays on every parse.
    const alts = rule.keywordTokens.map((t) => ({ ALT: () => this.CONSUME(t, { LABEL: 'keyword' }) }));
    return () => {
      if (others.length === 0) this.CONSUME(first!, { LABEL: 'keyword' });
      else this.OR(alts);
      rule.syntax.args.forEach((arg, i) => this.argument(arg, i + 1));
    };
  }

  private argument(arg: ArgSyntax, idx: number): void {
    switch (arg.kind) {
      case 'model':
        this.subrule(idx, this.modelRef, { LABEL: 'model' });
        return;
      case 'options':
        this.subrule(idx, this.options, { LABEL: 'options' });
        return;
      case 'names':
        // An optional list never starts `word =`: that is the options after it (`runs stale=5m`).
        // Chevrotain's OPTION looks only at its own first token, so the gate says it.
        if (arg.optional) this.option(idx, { GATE: () => this.LA(2).tokenType !== T.Eq, DEF: () => this.subrule(idx, this.nameList, { LABEL: arg.field }) });
        else this.subrule(idx, this.nameList, { LABEL: arg.field });
        return;
      case 'word':
        if (arg.optionalKeyword !== undefined) {
          // `rename a as b` or `rename a b`; a model may itself be called `as`.
          this.option(idx, {
            GATE: () => this.LA(2).tokenType !== T.Pipe && this.LA(2).tokenType !== EOF,
            DEF: () => this.consume(idx, T.As),
          });
        }
        this.consume(idx, T.Name, { LABEL: arg.field });
        return;
    }
  }

  private modelRef = this.RULE('modelRef', () => {
    this.CONSUME(T.Name);
  });

  private nameList = this.RULE('nameList', () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Name) });
  });

  private options = this.RULE('options', () => {
    this.MANY(() => this.SUBRULE(this.optionAssignment));
  });

  private optionAssignment = this.RULE('optionAssignment', () => {
    this.CONSUME(T.Name, { LABEL: 'key' });
    this.CONSUME(T.Eq);
    this.SUBRULE(this.value);
  });

  // The alternatives of each OR below are made once, not at every call: Chevrotain
  // advises it, and making them was a tenth of parsing a `where` clause.
  private readonly valueAlts = [{ ALT: () => this.CONSUME(T.Name) }, { ALT: () => this.CONSUME(T.Quoted) }];
  private value = this.RULE('value', () => {
    this.OR(this.valueAlts);
  });

  private readonly stageAlts = [
    { ALT: () => this.SUBRULE(this.whereStage) },
    { ALT: () => this.SUBRULE(this.fieldsStage) },
    { ALT: () => this.SUBRULE(this.sortStage) },
    { ALT: () => this.SUBRULE(this.headStage) },
  ];
  private stage = this.RULE('stage', () => {
    this.OR(this.stageAlts);
  });

  private whereStage = this.RULE('whereStage', () => {
    this.CONSUME(T.Where);
    this.SUBRULE(this.orExpr);
  });

  private fieldsStage = this.RULE('fieldsStage', () => {
    this.CONSUME(T.Fields);
    this.SUBRULE(this.nameList);
  });

  private sortStage = this.RULE('sortStage', () => {
    this.CONSUME(T.Sort);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.sortKey) });
  });

  private readonly directionAlts = [{ ALT: () => this.CONSUME(T.Asc) }, { ALT: () => this.CONSUME(T.Desc) }];
  private sortKey = this.RULE('sortKey', () => {
    this.CONSUME(T.Name);
    this.OPTION(() => {
      this.OR(this.directionAlts);
    });
  });

  private headStage = this.RULE('headStage', () => {
    this.CONSUME(T.Head);
    this.CONSUME(T.Name, { LABEL: 'count' });
  });

  private orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  private andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  /**
   * `not` binds tighter than `and`. A `not` directly followed by a comparison
   * operator, `like` or `in` is a field called "not", not the operator.
   */
  private readonly notAlts = [
    {
      GATE: () => !this.startsPredicate(2),
      ALT: () => {
        this.CONSUME(T.Not);
        this.SUBRULE(this.notExpr);
      },
    },
    { ALT: () => this.SUBRULE(this.atom) },
  ];
  private notExpr = this.RULE('notExpr', () => {
    this.OR(this.notAlts);
  });

  private readonly atomAlts = [
    {
      ALT: () => {
        this.CONSUME(T.LParen);
        this.SUBRULE(this.orExpr);
        this.CONSUME(T.RParen);
      },
    },
    { ALT: () => this.SUBRULE(this.predicate) },
  ];
  private atom = this.RULE('atom', () => {
    this.OR(this.atomAlts);
  });

  private readonly predicateAlts = [
    {
      ALT: () => {
        this.CONSUME(T.CompareOp);
        this.SUBRULE(this.value);
      },
    },
    {
      ALT: () => {
        this.OPTION(() => this.CONSUME(T.Not, { LABEL: 'negated' }));
        this.CONSUME(T.Like);
        this.SUBRULE2(this.value, { LABEL: 'pattern' });
      },
    },
    {
      ALT: () => {
        this.OPTION2(() => this.CONSUME2(T.Not, { LABEL: 'negated' }));
        this.CONSUME(T.In);
        this.CONSUME(T.LParen);
        this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE3(this.value, { LABEL: 'member' }) });
        this.CONSUME(T.RParen);
      },
    },
  ];
  private predicate = this.RULE('predicate', () => {
    this.CONSUME(T.Name, { LABEL: 'field' });
    this.OR(this.predicateAlts);
  });

  private startsPredicate(k: number): boolean {
    return startsPredicateAt((i) => this.LA(i), k);
  }
}

/**
 * Does the token at `k` begin the operator part of a predicate? `in` must
 * open a list, and `like` must be followed by a value that ends the
 * predicate, so `not like = 1` negates a field called "like" while
 * `not like 'x%'` matches a field called "not". The parser's `not` gate and
 * the fast path (fast-parse.ts) both ask it, of their own lookahead.
 */
export function startsPredicateAt(LA: (k: number) => IToken, k: number): boolean {
  const t = LA(k).tokenType;
  if (t === T.In) return LA(k + 1).tokenType === T.LParen;
  if (t === T.Like) return isValueToken(LA(k + 1)) && ENDS_PREDICATE.has(LA(k + 2).tokenType);
  if (t === T.Not) {
    const next = LA(k + 1).tokenType;
    return (next === T.Like || next === T.In) && startsPredicateAt(LA, k + 1);
  }
  return tokenMatcher(LA(k), T.CompareOp);
}

function isValueToken(token: IToken): boolean {
  return token.tokenType === T.Quoted || tokenMatcher(token, T.Name);
}

const ENDS_PREDICATE: ReadonlySet<TokenType> = new Set([T.And, T.Or, T.RParen, T.Pipe, EOF]);

function camel(word: string): string {
  return word.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

export type { CstNode, IToken };
