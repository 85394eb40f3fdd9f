import type { CstNode, IToken, TokenType } from 'chevrotain';
import { CstParser, EOF, tokenMatcher } from './chevrotain.js';
import * as T from './tokens.js';

/**
 * The mlmodel grammar (DESIGN §3) as a Chevrotain CST parser. One instance is
 * built at module load and reused for every input: Chevrotain's grammar
 * analysis runs once, and each parse only resets the token vector.
 */
export class MlmodelParser extends CstParser {
  /**
   * `validate` runs Chevrotain's grammar checks (ambiguities, left recursion,
   * unreachable alternatives). The grammar is fixed, so the tests run them and
   * the instance every query uses skips them, as Chevrotain advises for
   * production: they are most of the cost of building a parser.
   */
  constructor(options: { validate?: boolean } = {}) {
    super([...T.ALL_TOKENS], { recoveryEnabled: true, maxLookahead: 3, skipValidations: options.validate !== true });
    this.performSelfAnalysis();
  }

  public query = this.RULE('query', () => {
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

  private command = this.RULE('command', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.mlmodelCommand) },
      { ALT: () => this.SUBRULE(this.servingCommand) },
    ]);
  });

  /** IRIS: `mlmodel_command : LIST | <empty>` — a bare `mlmodel` lists. */
  private mlmodelCommand = this.RULE('mlmodelCommand', () => {
    this.CONSUME(T.Mlmodel);
    this.OPTION(() => this.SUBRULE(this.action));
  });

  private action = this.RULE('action', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.List) },
      { ALT: () => this.SUBRULE(this.summaryAction) },
      { ALT: () => this.SUBRULE(this.deleteAction) },
      { ALT: () => this.SUBRULE(this.renameAction) },
      { ALT: () => this.SUBRULE(this.importAction) },
      { ALT: () => this.SUBRULE(this.exportAction) },
      { ALT: () => this.SUBRULE(this.deployAction) },
      { ALT: () => this.SUBRULE(this.stopAction) },
      { ALT: () => this.SUBRULE(this.versionsAction) },
      { ALT: () => this.SUBRULE(this.tagAction) },
      { ALT: () => this.SUBRULE(this.aliasAction) },
      { ALT: () => this.SUBRULE(this.filesAction) },
      { ALT: () => this.SUBRULE(this.pullAction) },
      { ALT: () => this.SUBRULE(this.verifyAction) },
      { ALT: () => this.SUBRULE(this.fsckAction) },
    ]);
  });

  private versionsAction = this.RULE('versionsAction', () => {
    this.CONSUME(T.Versions);
    this.SUBRULE(this.modelRef);
  });

  /** `tag NAME t1,t2` and `untag NAME t1`. */
  private tagAction = this.RULE('tagAction', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Tag) }, { ALT: () => this.CONSUME(T.Untag) }]);
    this.SUBRULE(this.modelRef);
    this.SUBRULE(this.nameList);
  });

  /** `alias NAME@V champion` and `unalias NAME champion`. */
  private aliasAction = this.RULE('aliasAction', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Alias) }, { ALT: () => this.CONSUME(T.Unalias) }]);
    this.SUBRULE(this.modelRef);
    this.CONSUME(T.Name, { LABEL: 'aliasName' });
  });

  private filesAction = this.RULE('filesAction', () => {
    this.CONSUME(T.Files);
    this.SUBRULE(this.modelRef);
    this.SUBRULE(this.options);
  });

  private pullAction = this.RULE('pullAction', () => {
    this.CONSUME(T.Pull);
    this.SUBRULE(this.modelRef);
    this.SUBRULE(this.options);
  });

  private verifyAction = this.RULE('verifyAction', () => {
    this.CONSUME(T.Verify);
    this.SUBRULE(this.modelRef);
  });

  private fsckAction = this.RULE('fsckAction', () => {
    this.CONSUME(T.Fsck);
    this.SUBRULE(this.options);
  });

  private summaryAction = this.RULE('summaryAction', () => {
    this.CONSUME(T.Summary);
    this.SUBRULE(this.modelRef);
    this.OPTION(() => this.SUBRULE(this.nameList));
  });

  private deleteAction = this.RULE('deleteAction', () => {
    this.CONSUME(T.Delete);
    this.SUBRULE(this.modelRef);
  });

  /** `rename a as b` or `rename a b`; a model may itself be called `as`. */
  private renameAction = this.RULE('renameAction', () => {
    this.CONSUME(T.Rename);
    this.SUBRULE(this.modelRef);
    this.OPTION({
      GATE: () => this.LA(2).tokenType !== T.Pipe && this.LA(2).tokenType !== EOF,
      DEF: () => this.CONSUME(T.As),
    });
    this.CONSUME(T.Name, { LABEL: 'newName' });
  });

  private importAction = this.RULE('importAction', () => {
    this.CONSUME(T.Import);
    this.SUBRULE(this.options);
  });

  private exportAction = this.RULE('exportAction', () => {
    this.CONSUME(T.Export);
    this.SUBRULE(this.options);
  });

  private deployAction = this.RULE('deployAction', () => {
    this.CONSUME(T.Deploy);
    this.SUBRULE(this.modelRef);
    this.SUBRULE(this.options);
  });

  private stopAction = this.RULE('stopAction', () => {
    this.CONSUME(T.Stop);
    this.SUBRULE(this.modelRef);
  });

  private servingCommand = this.RULE('servingCommand', () => {
    this.CONSUME(T.Serving);
    this.CONSUME(T.Status);
    this.SUBRULE(this.modelRef);
  });

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

  private value = this.RULE('value', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Name) }, { ALT: () => this.CONSUME(T.Quoted) }]);
  });

  private stage = this.RULE('stage', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.whereStage) },
      { ALT: () => this.SUBRULE(this.fieldsStage) },
      { ALT: () => this.SUBRULE(this.sortStage) },
      { ALT: () => this.SUBRULE(this.headStage) },
    ]);
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

  private sortKey = this.RULE('sortKey', () => {
    this.CONSUME(T.Name);
    this.OPTION(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Asc) }, { ALT: () => this.CONSUME(T.Desc) }]);
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
  private notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        GATE: () => !this.startsPredicate(2),
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.atom) },
    ]);
  });

  private atom = this.RULE('atom', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.orExpr);
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  private predicate = this.RULE('predicate', () => {
    this.CONSUME(T.Name, { LABEL: 'field' });
    this.OR([
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
    ]);
  });

  /**
   * Does the token at `k` begin the operator part of a predicate? `in` must
   * open a list, and `like` must be followed by a value that ends the
   * predicate, so `not like = 1` negates a field called "like" while
   * `not like 'x%'` matches a field called "not".
   */
  private startsPredicate(k: number): boolean {
    const t = this.LA(k).tokenType;
    if (t === T.In) return this.LA(k + 1).tokenType === T.LParen;
    if (t === T.Like) return isValueToken(this.LA(k + 1)) && ENDS_PREDICATE.has(this.LA(k + 2).tokenType);
    if (t === T.Not) {
      const next = this.LA(k + 1).tokenType;
      return (next === T.Like || next === T.In) && this.startsPredicate(k + 1);
    }
    return tokenMatcher(this.LA(k), T.CompareOp);
  }
}

function isValueToken(token: IToken): boolean {
  return token.tokenType === T.Quoted || tokenMatcher(token, T.Name);
}

const ENDS_PREDICATE: ReadonlySet<TokenType> = new Set([T.And, T.Or, T.RParen, T.Pipe, EOF]);

export const parser = new MlmodelParser();

export type { CstNode, IToken };
