import type { CstElement, CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import {
  bareCommandNode,
  commandNode,
  compareNode,
  headNode,
  inNode,
  joined,
  likeNode,
  literalOf,
  modelRefNode,
  negated,
  sortKeyNode,
  type OptionTokens,
} from './ast-parts.js';
import type * as C from './cst.js';
import type { ParseIssue } from './errors.js';
import type { CommandRule, MlmodelParser } from './parser.js';

export { readModelRef, readsAsNumber, readsTypedBare } from './ast-parts.js';

/** The children of a rule the visitor reads generically: labelled tokens and sub-rules. */
type GenericChildren = Record<string, CstElement[] | undefined>;

/** What parse() needs of the visitor. */
export interface AstBuilder {
  issues: ParseIssue[];
  query(ctx: C.QueryCstChildren): A.Query;
}

function isNode(e: CstElement): e is CstNode {
  return (e as CstNode).children !== undefined;
}

function onlyNode(ctx: GenericChildren): CstNode {
  for (const v of Object.values(ctx)) {
    const first = v?.[0];
    if (first !== undefined && isNode(first)) return first;
  }
  throw new Error('a command rule has no child');
}

/**
 * Turns the CST into the typed AST. Problems the grammar cannot express (a
 * version that is not a number, `head x`, an option given twice or of the
 * wrong type) are collected as issues at the token that caused them, so one
 * parse reports them all. Command rules are visited by one generic method
 * that reads the command's declared syntax; the structure's rules have typed
 * methods over the generated CST types (grammar/cst.d.ts).
 */
export function createAstBuilder(parser: MlmodelParser): AstBuilder {
  const BaseVisitor = parser.getBaseCstVisitorConstructor<void, unknown>();

  class Builder extends BaseVisitor implements AstBuilder {
    issues: ParseIssue[] = [];

    constructor() {
      super();
      const self = this as unknown as Record<string, (ctx: GenericChildren) => unknown>;
      for (const rule of parser.commandRules) self[rule.name] = (ctx) => this.commandNode(rule, ctx);
      for (const p of parser.prefixRules) self[p.name] = (ctx) => this.prefixNode(p.commands, ctx);
      self.command = (ctx) => this.visit(onlyNode(ctx));
      this.validateVisitor();
    }

    query(ctx: C.QueryCstChildren): A.Query {
      return {
        kind: 'query',
        command: this.visit(ctx.command[0]!) as A.Command,
        stages: (ctx.stage ?? []).map((s) => this.stage(s.children)),
      };
    }

    /** After a prefix word: the command named, or the one a bare prefix stands for. */
    private prefixNode(commands: readonly CommandRule[], ctx: GenericChildren): A.Command {
      const child = Object.values(ctx).find((v) => v?.[0] !== undefined && isNode(v[0]))?.[0];
      if (child) return this.visit(child as CstNode) as A.Command;
      return bareCommandNode(commands.find((r) => r.syntax.bareDefault)!);
    }

    /** Any command, from its declared syntax: its parts' tokens, read by the one commandNode. */
    private commandNode(rule: CommandRule, ctx: GenericChildren): A.Command {
      const fields: Record<string, readonly IToken[] | IToken | undefined> = {};
      let model: IToken | undefined;
      let options: OptionTokens[] | undefined;
      for (const arg of rule.syntax.args) {
        switch (arg.kind) {
          case 'model':
            model = ((ctx.model![0] as CstNode).children as C.ModelRefCstChildren).Name[0]!;
            break;
          case 'options':
            options = (((ctx.options![0] as CstNode).children as C.OptionsCstChildren).optionAssignment ?? []).map((node) => {
              const value = node.children.value[0]!.children;
              return { key: node.children.key[0]!, value: value.Quoted?.[0] ?? value.Name![0]! };
            });
            break;
          case 'names': {
            const list = ctx[arg.field]?.[0] as CstNode | undefined;
            fields[arg.field] = list ? (list.children as C.NameListCstChildren).Name : undefined;
            break;
          }
          case 'word':
            fields[arg.field] = ctx[arg.field]![0] as IToken;
            break;
        }
      }
      return commandNode(rule, { keyword: ctx.keyword![0] as IToken, model, options, fields }, this.issues);
    }

    modelRef(ctx: C.ModelRefCstChildren): A.ModelRef {
      return modelRefNode(ctx.Name[0]!, this.issues);
    }

    nameList(ctx: C.NameListCstChildren): string[] {
      return ctx.Name.map((t) => t.image);
    }

    options(): never {
      throw new Error('options are visited through commandNode()');
    }

    optionAssignment(): never {
      throw new Error('optionAssignment is visited through commandNode()');
    }

    value(ctx: C.ValueCstChildren): A.Literal {
      return literalOf(valueToken(ctx), this.issues);
    }

    stage(ctx: C.StageCstChildren): A.Stage {
      if (ctx.whereStage) return this.whereStage(ctx.whereStage[0]!.children);
      if (ctx.fieldsStage) return this.fieldsStage(ctx.fieldsStage[0]!.children);
      if (ctx.sortStage) return this.sortStage(ctx.sortStage[0]!.children);
      return this.headStage(ctx.headStage![0]!.children);
    }

    whereStage(ctx: C.WhereStageCstChildren): A.WhereStage {
      return { kind: 'where', condition: this.orExpr(ctx.orExpr[0]!.children) };
    }

    fieldsStage(ctx: C.FieldsStageCstChildren): A.FieldsStage {
      return { kind: 'fields', fields: this.nameList(ctx.nameList[0]!.children) };
    }

    sortStage(ctx: C.SortStageCstChildren): A.SortStage {
      return { kind: 'sort', keys: ctx.sortKey.map((k) => this.sortKey(k.children)) };
    }

    sortKey(ctx: C.SortKeyCstChildren): A.SortKey {
      return sortKeyNode(ctx.Name[0]!, ctx.Asc?.[0] ?? ctx.Desc?.[0], this.issues);
    }

    headStage(ctx: C.HeadStageCstChildren): A.HeadStage {
      return headNode(ctx.count[0]!, this.issues);
    }

    orExpr(ctx: C.OrExprCstChildren): A.Condition {
      return joined('or', ctx.andExpr.map((n) => this.andExpr(n.children)));
    }

    andExpr(ctx: C.AndExprCstChildren): A.Condition {
      return joined('and', ctx.notExpr.map((n) => this.notExpr(n.children)));
    }

    notExpr(ctx: C.NotExprCstChildren): A.Condition {
      if (ctx.notExpr) return { kind: 'not', operand: this.notExpr(ctx.notExpr[0]!.children) };
      return this.atom(ctx.atom![0]!.children);
    }

    atom(ctx: C.AtomCstChildren): A.Condition {
      if (ctx.orExpr) return this.orExpr(ctx.orExpr[0]!.children);
      return this.predicate(ctx.predicate![0]!.children);
    }

    predicate(ctx: C.PredicateCstChildren): A.Condition {
      const field = ctx.field[0]!;
      let condition: A.Condition;
      if (ctx.CompareOp) condition = compareNode(field, ctx.CompareOp[0]!, valueToken(ctx.value![0]!.children), this.issues);
      else if (ctx.Like) condition = likeNode(field, valueToken(ctx.pattern![0]!.children));
      else condition = inNode(field, ctx.member!.map((m) => valueToken(m.children)), this.issues);
      return negated(condition, ctx.negated !== undefined);
    }
  }

  return new Builder();
}

/** A value's one token: a quoted string or a word. */
function valueToken(ctx: C.ValueCstChildren): IToken {
  return ctx.Quoted?.[0] ?? ctx.Name![0]!;
}
