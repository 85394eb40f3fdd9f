import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { kindFor, readOptionValue } from './command-syntax.js';
import { tokenIssue, type ParseIssue } from './errors.js';
import type { CommandRule } from './parser.js';
import { nearest } from './suggest.js';
import * as T from './tokens.js';

/**
 * The AST's pieces made from tokens, and the checks the grammar cannot
 * express (a version that is not a number, `head x`, an option given twice
 * or of the wrong type). Both ways of recognising a query build their AST
 * here — the CST visitor (visitor.ts) and the fast path (fast-parse.ts) — so
 * the two give the same AST by construction; only how the tokens were found
 * differs.
 */

/** Where a piece's problems go: the visitor collects them, the fast path gives up at the first. */
export interface IssueSink {
  push(issue: ParseIssue): void;
}

function report(sink: IssueSink, token: IToken, message: string, expected: readonly string[] = []): void {
  sink.push(tokenIssue(token, message, expected));
}

/** The tokens a command's declared parts were found at; the AST is made from these alone. */
export interface CommandTokens {
  readonly keyword: IToken;
  readonly model?: IToken;
  /** Each `key=value`: the key and the value's one token (a word or a quoted string). */
  readonly options?: readonly OptionTokens[];
  /** Per `names` field its names (absent when optional and not given); per `word` field its one word. */
  readonly fields: Readonly<Record<string, readonly IToken[] | IToken | undefined>>;
}

export interface OptionTokens {
  readonly key: IToken;
  readonly value: IToken;
}

/** `mlmodel deploy`, `serving status`: how a person names the command. */
function commandTitle(rule: CommandRule): string {
  return `${rule.prefix} ${rule.syntax.keywords[0]}`;
}

/** Any command, from its declared syntax: each part lands in the AST field it names. */
export function commandNode(rule: CommandRule, parts: CommandTokens, sink: IssueSink): A.Command {
  const node: Record<string, unknown> = { kind: kindFor(rule.syntax, parts.keyword.image) };
  for (const arg of rule.syntax.args) {
    switch (arg.kind) {
      case 'model':
        node.model = modelRefNode(parts.model!, sink);
        break;
      case 'options': {
        const others: A.OptionAssignment[] | null = arg.others ? [] : null;
        node.options = commandOptions(rule, parts.options ?? [], others, sink);
        if (arg.others) node[arg.others.field] = others;
        break;
      }
      case 'names': {
        const list = parts.fields[arg.field] as readonly IToken[] | undefined;
        node[arg.field] = list ? list.map((t) => t.image) : null;
        break;
      }
      case 'word': {
        const token = parts.fields[arg.field] as IToken;
        const choice = arg.words?.find((w) => w.toLowerCase() === token.image.toLowerCase());
        if (arg.words && choice === undefined) report(sink, token, `expected ${arg.words.join(' or ')}, not ${token.image}`, arg.words);
        const problem = arg.check?.(token.image);
        if (problem) report(sink, token, problem, [arg.label]);
        node[arg.field] = choice ?? token.image;
        break;
      }
    }
  }
  return node as A.Command;
}

/** What a bare prefix (`mlmodel` alone) stands for. */
export function bareCommandNode(rule: CommandRule): A.Command {
  return { kind: kindFor(rule.syntax, rule.syntax.keywords[0]) };
}

/** A command's options, each checked by its declared type: unknown, repeated and invalid ones are issues. */
function commandOptions(rule: CommandRule, options: readonly OptionTokens[], others: A.OptionAssignment[] | null, sink: IssueSink): A.OptionAssignment[] {
  const declared = rule.syntax.options ?? {};
  const seen = new Set<string>();
  const result: A.OptionAssignment[] = [];
  for (const { key: keyToken, value: valueToken } of options) {
    const key = keyToken.image;
    const value = textOf(valueToken);
    const k = key.toLowerCase();
    // Own keys only: `__proto__=x` is an unknown option, not Object.prototype.
    const spec = Object.hasOwn(declared, k) ? declared[k] : undefined;
    if (spec === undefined && others) {
      // A free pair (`lr=0.01`): the command checks it; only a repeat is wrong here.
      if (others.some((o) => o.key.toLowerCase() === k)) report(sink, keyToken, `${key} is given twice`);
      others.push(valueToken.tokenType === T.Quoted && readsTypedBare(value) ? { key, value, quoted: true } : { key, value });
      continue;
    }
    if (spec === undefined) {
      const keys = Object.keys(declared);
      const suggestion = nearest(key, keys);
      const hint = suggestion ? ` Did you mean ${suggestion}?` : '';
      const known = keys.length > 0 ? ` Its options are ${keys.join(', ')}` : ' It takes no options';
      sink.push({ ...tokenIssue(keyToken, `${commandTitle(rule)} has no option ${key}.${hint}${known}`, keys), ...(suggestion ? { suggestion } : {}) });
    } else if (seen.has(k)) {
      report(sink, keyToken, `option ${key} is given twice`);
    } else {
      const read = readOptionValue(k, spec, value, readModelRef);
      if ('problem' in read) report(sink, valueToken, read.problem, read.valid);
    }
    seen.add(k);
    result.push({ key, value });
  }
  // Required options are the command's to ask for when it runs: IRIS's BNF accepts an empty option list.
  return result;
}

/** `name`, `name@3`, `name@alias`. */
export function modelRefNode(token: IToken, sink: IssueSink): A.ModelRef {
  const { ref, problem } = readModelRef(token.image);
  if (problem) report(sink, token, problem.message, problem.expected);
  return ref;
}

/** A value's text: a quoted string unescaped, a word as written. */
export function textOf(token: IToken): string {
  return token.tokenType === T.Quoted ? unquote(token.image) : token.image;
}

/** A literal in a condition: quoted is text; a word is a number when it reads as one. */
export function literalOf(token: IToken, sink: IssueSink): A.Literal {
  if (token.tokenType === T.Quoted) return { kind: 'string', value: unquote(token.image) };
  if (!readsAsNumber(token.image)) return { kind: 'string', value: token.image };
  const n = Number(token.image);
  if (!Number.isFinite(n)) {
    report(sink, token, `${token.image} is too large a number; quote it to compare it as text`);
    return { kind: 'string', value: token.image };
  }
  // -0 and 0 are the same value; keep one spelling so equal queries have equal ASTs.
  return { kind: 'number', value: n === 0 ? 0 : n };
}

/** `-modified` sorts descending, like IRIS; so does `modified desc`. */
export function sortKeyNode(token: IToken, explicit: IToken | undefined, sink: IssueSink): A.SortKey {
  const minus = token.image.startsWith('-');
  const field = minus ? token.image.slice(1) : token.image;
  if (field === '') report(sink, token, `a field name must follow '-' (write -modified to sort descending)`, ['a field name']);
  else if (field.startsWith('-')) report(sink, token, `one '-' is enough to sort descending: -${field.replace(/^-+/, '')}`);
  if (minus && explicit) {
    report(sink, explicit, `'-' already sorts ${field} descending; drop either '-' or ${explicit.image}`);
  }
  const direction = minus || explicit?.tokenType === T.Desc ? 'desc' : 'asc';
  return { field, direction };
}

export function headNode(token: IToken, sink: IssueSink): A.HeadStage {
  const count = /^\d+$/.test(token.image) ? Number(token.image) : NaN;
  if (!Number.isSafeInteger(count)) {
    report(sink, token, `head takes a whole number of rows, like head 5; found ${token.image}`, ['a whole number']);
    return { kind: 'head', count: 0 };
  }
  return { kind: 'head', count };
}

/** `field op value`, `field [not] like pattern`, `field [not] in (…)`: the predicate's node once its parts are read. */
export function compareNode(field: IToken, op: IToken, value: IToken, sink: IssueSink): A.Comparison {
  return { kind: 'compare', field: field.image, op: operator(op.image), value: literalOf(value, sink) };
}

export function likeNode(field: IToken, pattern: IToken): A.LikeCondition {
  return { kind: 'like', field: field.image, pattern: textOf(pattern) };
}

export function inNode(field: IToken, members: readonly IToken[], sink: IssueSink): A.InCondition {
  return { kind: 'in', field: field.image, values: members.map((m) => literalOf(m, sink)) };
}

export function negated(condition: A.Condition, negate: boolean): A.Condition {
  return negate ? { kind: 'not', operand: condition } : condition;
}

/** One operand stands for itself; more are joined by `and` or `or`. */
export function joined(kind: 'and' | 'or', operands: A.Condition[]): A.Condition {
  return operands.length === 1 ? operands[0]! : { kind, operands };
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

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when an unquoted word would be read as a number. */
export function readsAsNumber(text: string): boolean {
  return NUMBER.test(text);
}

/**
 * True when a free pair's value written bare would be read as a number or a
 * boolean (`1`, `true`): only then does quoting it change what it means, so
 * only then does the AST keep that it was quoted (OptionAssignment.quoted).
 * Any other value is text either way, and the printer quotes it or not as
 * its characters need.
 */
export function readsTypedBare(text: string): boolean {
  return readsAsNumber(text) || text === 'true' || text === 'false';
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
