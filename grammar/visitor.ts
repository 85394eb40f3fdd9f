import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import type * as C from './cst.js';
import { tokenIssue, type ParseIssue } from './errors.js';
import { parser } from './parser.js';

const BaseVisitor = parser.getBaseCstVisitorConstructor<void, unknown>();

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when an unquoted word would be read as a number. */
export function readsAsNumber(text: string): boolean {
  return NUMBER.test(text);
}

/**
 * Turns the CST into the typed AST. Problems the grammar cannot express (a
 * version that is not a number, `head x`, an option given twice) are
 * collected as issues at the token that caused them, so one parse reports
 * them all.
 */
class AstBuilder extends BaseVisitor {
  issues: ParseIssue[] = [];

  constructor() {
    super();
    this.validateVisitor();
  }

  private issue(token: IToken, message: string, expected: readonly string[] = []): void {
    this.issues.push(tokenIssue(token, message, expected));
  }

  query(ctx: C.QueryCstChildren): A.Query {
    return {
      kind: 'query',
      command: this.command(ctx.command[0]!.children),
      stages: (ctx.stage ?? []).map((s) => this.stage(s.children)),
    };
  }

  command(ctx: C.CommandCstChildren): A.Command {
    if (ctx.servingCommand) return this.servingCommand(ctx.servingCommand[0]!.children);
    return this.mlmodelCommand(ctx.mlmodelCommand![0]!.children);
  }

  mlmodelCommand(ctx: C.MlmodelCommandCstChildren): A.Command {
    return ctx.action ? this.action(ctx.action[0]!.children) : { kind: 'list' };
  }

  action(ctx: C.ActionCstChildren): A.Command {
    if (ctx.summaryAction) return this.summaryAction(ctx.summaryAction[0]!.children);
    if (ctx.deleteAction) return this.deleteAction(ctx.deleteAction[0]!.children);
    if (ctx.renameAction) return this.renameAction(ctx.renameAction[0]!.children);
    if (ctx.importAction) return this.importAction(ctx.importAction[0]!.children);
    if (ctx.exportAction) return this.exportAction(ctx.exportAction[0]!.children);
    if (ctx.deployAction) return this.deployAction(ctx.deployAction[0]!.children);
    if (ctx.stopAction) return this.stopAction(ctx.stopAction[0]!.children);
    if (ctx.versionsAction) return this.versionsAction(ctx.versionsAction[0]!.children);
    if (ctx.tagAction) return this.tagAction(ctx.tagAction[0]!.children);
    if (ctx.aliasAction) return this.aliasAction(ctx.aliasAction[0]!.children);
    if (ctx.filesAction) return this.filesAction(ctx.filesAction[0]!.children);
    if (ctx.pullAction) return this.pullAction(ctx.pullAction[0]!.children);
    if (ctx.verifyAction) return this.verifyAction(ctx.verifyAction[0]!.children);
    if (ctx.fsckAction) return this.fsckAction(ctx.fsckAction[0]!.children);
    return { kind: 'list' };
  }

  versionsAction(ctx: C.VersionsActionCstChildren): A.VersionsCommand {
    return { kind: 'versions', model: this.modelRef(ctx.modelRef[0]!.children) };
  }

  tagAction(ctx: C.TagActionCstChildren): A.TagCommand {
    return { kind: ctx.Untag ? 'untag' : 'tag', model: this.modelRef(ctx.modelRef[0]!.children), tags: this.nameList(ctx.nameList[0]!.children) };
  }

  aliasAction(ctx: C.AliasActionCstChildren): A.AliasCommand {
    const token = ctx.aliasName[0]!;
    if (token.image.includes('@') || /^\d+$/.test(token.image)) {
      this.issue(token, `an alias is a name, not a number and without '@': like champion or stable`, ['an alias']);
    }
    return { kind: ctx.Unalias ? 'unalias' : 'alias', model: this.modelRef(ctx.modelRef[0]!.children), alias: token.image };
  }

  filesAction(ctx: C.FilesActionCstChildren): A.FilesCommand {
    return { kind: 'files', model: this.modelRef(ctx.modelRef[0]!.children), options: this.options(ctx.options[0]!.children) };
  }

  pullAction(ctx: C.PullActionCstChildren): A.PullCommand {
    return { kind: 'pull', model: this.modelRef(ctx.modelRef[0]!.children), options: this.options(ctx.options[0]!.children) };
  }

  verifyAction(ctx: C.VerifyActionCstChildren): A.VerifyCommand {
    return { kind: 'verify', model: this.modelRef(ctx.modelRef[0]!.children) };
  }

  fsckAction(ctx: C.FsckActionCstChildren): A.FsckCommand {
    return { kind: 'fsck', options: this.options(ctx.options[0]!.children) };
  }

  summaryAction(ctx: C.SummaryActionCstChildren): A.SummaryCommand {
    return {
      kind: 'summary',
      model: this.modelRef(ctx.modelRef[0]!.children),
      fields: ctx.nameList ? this.nameList(ctx.nameList[0]!.children) : null,
    };
  }

  deleteAction(ctx: C.DeleteActionCstChildren): A.DeleteCommand {
    return { kind: 'delete', model: this.modelRef(ctx.modelRef[0]!.children) };
  }

  renameAction(ctx: C.RenameActionCstChildren): A.RenameCommand {
    const target = ctx.newName[0]!;
    if (target.image.includes('@')) {
      this.issue(target, `a new model name cannot contain '@' (it separates a name from a version or alias)`, ['a model name']);
    }
    return { kind: 'rename', model: this.modelRef(ctx.modelRef[0]!.children), to: target.image };
  }

  importAction(ctx: C.ImportActionCstChildren): A.ImportCommand {
    return { kind: 'import', options: this.options(ctx.options[0]!.children) };
  }

  exportAction(ctx: C.ExportActionCstChildren): A.ExportCommand {
    return { kind: 'export', options: this.options(ctx.options[0]!.children) };
  }

  deployAction(ctx: C.DeployActionCstChildren): A.DeployCommand {
    return {
      kind: 'deploy',
      model: this.modelRef(ctx.modelRef[0]!.children),
      options: this.options(ctx.options[0]!.children),
    };
  }

  stopAction(ctx: C.StopActionCstChildren): A.StopCommand {
    return { kind: 'stop', model: this.modelRef(ctx.modelRef[0]!.children) };
  }

  servingCommand(ctx: C.ServingCommandCstChildren): A.ServingStatusCommand {
    return { kind: 'servingStatus', model: this.modelRef(ctx.modelRef[0]!.children) };
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

  options(ctx: C.OptionsCstChildren): A.OptionAssignment[] {
    const seen = new Set<string>();
    const result: A.OptionAssignment[] = [];
    for (const node of ctx.optionAssignment ?? []) {
      const keyToken = node.children.key[0]!;
      const key = keyToken.image;
      if (seen.has(key.toLowerCase())) {
        this.issue(keyToken, `option ${key} is given twice`);
      }
      seen.add(key.toLowerCase());
      result.push({ key, value: this.text(node.children.value[0]!.children) });
    }
    return result;
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
export function unquote(image: string): string {
  return image.slice(1, -1).replace(/\\([\s\S])/g, (_, ch: string) => ESCAPES[ch] ?? ch);
}

export const astBuilder = new AstBuilder();
