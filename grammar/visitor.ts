import type { CstElement, CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import { kindFor, readOptionValue } from './command-syntax.js';
import type * as C from './cst.js';
import { tokenIssue, type ParseIssue } from './errors.js';
import type { CommandRule, MlmodelParser } from './parser.js';
import { nearest } from './suggest.js';

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

/** `mlmodel deploy`, `serving status`: how a person names the command. */
function commandTitle(rule: CommandRule): string {
  return `${rule.prefix} ${rule.syntax.keywords[0]}`;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when an unquoted word would be read as a number. */
export function readsAsNumber(text: string): boolean {
  return NUMBER.test(text);
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

    private issue(token: IToken, message: string, expected: readonly string[] = []): void {
      this.issues.push(tokenIssue(token, message, expected));
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
      const bare = commands.find((r) => r.syntax.bareDefault)!;
      return { kind: kindFor(bare.syntax, bare.syntax.keywords[0]) };
    }

    /** Any command, from its declared syntax: each part lands in the AST field it names. */
    private commandNode(rule: CommandRule, ctx: GenericChildren): A.Command {
      const keyword = ctx.keyword![0] as IToken;
      const node: Record<string, unknown> = { kind: kindFor(rule.syntax, keyword.image) };
      for (const arg of rule.syntax.args) {
        switch (arg.kind) {
          case 'model':
            node.model = this.modelRef((ctx.model![0] as CstNode).children as C.ModelRefCstChildren);
            break;
          case 'options': {
            const others: A.OptionAssignment[] | null = arg.others ? [] : null;
            node.options = this.commandOptions(rule, keyword, (ctx.options![0] as CstNode).children as C.OptionsCstChildren, others);
            if (arg.others) node[arg.others.field] = others;
            break;
          }
          case 'names': {
            const list = ctx[arg.field]?.[0] as CstNode | undefined;
            node[arg.field] = list ? this.nameList(list.children as C.NameListCstChildren) : null;
            break;
          }
          case 'word': {
            const token = ctx[arg.field]![0] as IToken;
            const choice = arg.words?.find((w) => w.toLowerCase() === token.image.toLowerCase());
            if (arg.words && choice === undefined) this.issue(token, `expected ${arg.words.join(' or ')}, not ${token.image}`, arg.words);
            const problem = arg.check?.(token.image);
            if (problem) this.issue(token, problem, [arg.label]);
            node[arg.field] = choice ?? token.image;
            break;
          }
        }
      }
      return node as A.Command;
    }

    /** A command's options, each checked by its declared type: unknown, repeated, invalid or missing ones are issues. */
    private commandOptions(rule: CommandRule, keyword: IToken, ctx: C.OptionsCstChildren, others: A.OptionAssignment[] | null): A.OptionAssignment[] {
      const declared = rule.syntax.options ?? {};
      const keys = Object.keys(declared);
      const command = commandTitle(rule);
      const seen = new Set<string>();
      const result: A.OptionAssignment[] = [];
      for (const node of ctx.optionAssignment ?? []) {
        const keyToken = node.children.key[0]!;
        const key = keyToken.image;
        const valueNode = node.children.value[0]!.children;
        const value = this.text(valueNode);
        const k = key.toLowerCase();
        // Own keys only: `__proto__=x` is an unknown option, not Object.prototype.
        const spec = Object.hasOwn(declared, k) ? declared[k] : undefined;
        if (spec === undefined && others) {
          // A free pair (`lr=0.01`): the command checks it; only a repeat is wrong here.
          if (others.some((o) => o.key.toLowerCase() === k)) this.issue(keyToken, `${key} is given twice`);
          others.push({ key, value });
          continue;
        }
        if (spec === undefined) {
          const suggestion = nearest(key, keys);
          const hint = suggestion ? ` Did you mean ${suggestion}?` : '';
          const known = keys.length > 0 ? ` Its options are ${keys.join(', ')}` : ' It takes no options';
          this.issues.push({ ...tokenIssue(keyToken, `${command} has no option ${key}.${hint}${known}`, keys), ...(suggestion ? { suggestion } : {}) });
        } else if (seen.has(k)) {
          this.issue(keyToken, `option ${key} is given twice`);
        } else {
          const read = readOptionValue(k, spec, value, readModelRef);
          if ('problem' in read) this.issue(valueNode.Quoted?.[0] ?? valueNode.Name![0]!, read.problem, read.valid);
        }
        seen.add(k);
        result.push({ key, value });
      }
      // Required options are the command's to ask for when it runs: IRIS's BNF accepts an empty option list.
      return result;
    }

    /** `name`, `name@3`, `name@alias`. */
    modelRef(ctx: C.ModelRefCstChildren): A.ModelRef {
      const token = ctx.Name[0]!;
      const { ref, problem } = readModelRef(token.image);
      if (problem) this.issue(token, problem.message, problem.expected);
      return ref;
    }

    nameList(ctx: C.NameListCstChildren): string[] {
      return ctx.Name.map((t) => t.image);
    }

    options(): never {
      throw new Error('options are visited through commandOptions()');
    }

    optionAssignment(): never {
      throw new Error('optionAssignment is visited through options()');
    }

    /** A value's text: a quoted string unescaped, a word as written. */
    private text(ctx: C.ValueCstChildren): string {
      const quoted = ctx.Quoted?.[0];
      return quoted ? unquote(quoted.image) : ctx.Name![0]!.image;
    }

    value(ctx: C.ValueCstChildren): A.Literal {
      const quoted = ctx.Quoted?.[0];
      if (quoted) return { kind: 'string', value: unquote(quoted.image) };
      const token = ctx.Name![0]!;
      if (!readsAsNumber(token.image)) return { kind: 'string', value: token.image };
      const n = Number(token.image);
      if (!Number.isFinite(n)) {
        this.issue(token, `${token.image} is too large a number; quote it to compare it as text`);
        return { kind: 'string', value: token.image };
      }
      // -0 and 0 are the same value; keep one spelling so equal queries have equal ASTs.
      return { kind: 'number', value: n === 0 ? 0 : n };
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

    /** `-modified` sorts descending, like IRIS; so does `modified desc`. */
    sortKey(ctx: C.SortKeyCstChildren): A.SortKey {
      const token = ctx.Name[0]!;
      const minus = token.image.startsWith('-');
      const field = minus ? token.image.slice(1) : token.image;
      if (field === '') this.issue(token, `a field name must follow '-' (write -modified to sort descending)`, ['a field name']);
      else if (field.startsWith('-')) this.issue(token, `one '-' is enough to sort descending: -${field.replace(/^-+/, '')}`);
      const explicit = ctx.Asc?.[0] ?? ctx.Desc?.[0];
      if (minus && explicit) {
        this.issue(explicit, `'-' already sorts ${field} descending; drop either '-' or ${explicit.image}`);
      }
      const direction = minus || ctx.Desc ? 'desc' : 'asc';
      return { field, direction };
    }

    headStage(ctx: C.HeadStageCstChildren): A.HeadStage {
      const token = ctx.count[0]!;
      const count = /^\d+$/.test(token.image) ? Number(token.image) : NaN;
      if (!Number.isSafeInteger(count)) {
        this.issue(token, `head takes a whole number of rows, like head 5; found ${token.image}`, ['a whole number']);
        return { kind: 'head', count: 0 };
      }
      return { kind: 'head', count };
    }

    orExpr(ctx: C.OrExprCstChildren): A.Condition {
      const operands = ctx.andExpr.map((n) => this.andExpr(n.children));
      return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
    }

    andExpr(ctx: C.AndExprCstChildren): A.Condition {
      const operands = ctx.notExpr.map((n) => this.notExpr(n.children));
      return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
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
      const field = ctx.field[0]!.image;
      let condition: A.Condition;
      if (ctx.CompareOp) {
        condition = { kind: 'compare', field, op: operator(ctx.CompareOp[0]!.image), value: this.value(ctx.value![0]!.children) };
      } else if (ctx.Like) {
        condition = { kind: 'like', field, pattern: this.text(ctx.pattern![0]!.children) };
      } else {
        condition = { kind: 'in', field, values: ctx.member!.map((m) => this.value(m.children)) };
      }
      return ctx.negated ? { kind: 'not', operand: condition } : condition;
    }
  }

  return new Builder();
}

function operator(image: string): A.ComparisonOperator {
  switch (image) {
    case '==':
      return '=';
    case '<>':
      return '!=';
    default:
      return image as A.ComparisonOperator;
  }
}

/**
 * Reads `name`, `name@3` or `name@alias` (as written in a query or in an
 * option value such as `export name=m@2`), saying what is wrong if anything.
 */
export function readModelRef(text: string): { ref: A.ModelRef; problem?: { message: string; expected: string[] } } {
  const at = text.indexOf('@');
  if (at === -1) return { ref: { name: text } };
  const name = text.slice(0, at);
  const selector = text.slice(at + 1);
  if (name === '') return { ref: { name }, problem: { message: `a model name is missing before '@' in ${text}`, expected: ['a model name'] } };
  if (selector === '') {
    return { ref: { name }, problem: { message: `a version number or alias is missing after '@' in ${text}`, expected: ['a version number', 'an alias'] } };
  }
  if (selector.includes('@')) {
    return { ref: { name }, problem: { message: `a model reference has one '@' at most: name@version or name@alias`, expected: [] } };
  }
  if (/^\d+$/.test(selector)) {
    const version = Number(selector);
    if (version < 1 || !Number.isSafeInteger(version)) {
      return { ref: { name, version }, problem: { message: `version ${selector} does not exist: versions are numbered from 1`, expected: ['a version number'] } };
    }
    return { ref: { name, version } };
  }
  return { ref: { name, alias: selector } };
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '0': '\0' };

/** Strips the quotes and resolves backslash escapes (`\n`, `\t`, `\r`, `\0`; any other character stands for itself). */
function unquote(image: string): string {
  return image.slice(1, -1).replace(/\\([\s\S])/g, (_, ch: string) => ESCAPES[ch] ?? ch);
}

