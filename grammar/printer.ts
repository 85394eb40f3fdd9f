import type * as A from './ast.js';
import { isKeyword } from './tokens.js';
import { readsAsNumber } from './visitor.js';

/**
 * Canonical text for an AST: lower-case keywords, single spaces, `==` as `=`,
 * `<>` as `!=`, descending sort keys as `-field`, and quotes only where a
 * value needs them. `parse(print(ast))` equals `ast`.
 */
export function print(query: A.Query): string {
  return [printCommand(query.command), ...query.stages.map(printStage)].join(' | ');
}

export function printCommand(c: A.Command): string {
  switch (c.kind) {
    case 'list':
      return 'mlmodel list';
    case 'summary':
      return `mlmodel summary ${printModelRef(c.model)}${c.fields ? ` ${c.fields.join(', ')}` : ''}`;
    case 'delete':
      return `mlmodel delete ${printModelRef(c.model)}`;
    case 'rename':
      return `mlmodel rename ${printModelRef(c.model)} as ${c.to}`;
    case 'import':
      return `mlmodel import${printOptions(c.options)}`;
    case 'export':
      return `mlmodel export${printOptions(c.options)}`;
    case 'deploy':
      return `mlmodel deploy ${printModelRef(c.model)}${printOptions(c.options)}`;
    case 'stop':
      return `mlmodel stop ${printModelRef(c.model)}`;
    case 'servingStatus':
      return `serving status ${printModelRef(c.model)}`;
    case 'versions':
    case 'verify':
      return `mlmodel ${c.kind} ${printModelRef(c.model)}`;
    case 'tag':
    case 'untag':
      return `mlmodel ${c.kind} ${printModelRef(c.model)} ${c.tags.join(', ')}`;
    case 'alias':
    case 'unalias':
      return `mlmodel ${c.kind} ${printModelRef(c.model)} ${c.alias}`;
    case 'files':
    case 'pull':
      return `mlmodel ${c.kind} ${printModelRef(c.model)}${printOptions(c.options)}`;
    case 'fsck':
      return `mlmodel fsck${printOptions(c.options)}`;
  }
}

export function printModelRef(ref: A.ModelRef): string {
  if (ref.version !== undefined) return `${ref.name}@${ref.version}`;
  if (ref.alias !== undefined) return `${ref.name}@${ref.alias}`;
  return ref.name;
}

function printOptions(options: readonly A.OptionAssignment[]): string {
  return options.map((o) => ` ${o.key}=${printText(o.value)}`).join('');
}

export function printStage(s: A.Stage): string {
  switch (s.kind) {
    case 'where':
      return `where ${printCondition(s.condition)}`;
    case 'fields':
      return `fields ${s.fields.join(', ')}`;
    case 'sort':
      return `sort ${s.keys.map((k) => (k.direction === 'desc' ? `-${k.field}` : k.field)).join(', ')}`;
    case 'head':
      return `head ${s.count}`;
  }
}

export function printCondition(c: A.Condition): string {
  switch (c.kind) {
    case 'and':
    case 'or':
      return c.operands.map((o) => (o.kind === 'and' || o.kind === 'or' ? `(${printCondition(o)})` : printCondition(o))).join(` ${c.kind} `);
    case 'not': {
      const inner = printCondition(c.operand);
      // `not NOT like 'x'` would read back with the field and the negation swapped
      // (the first `not` taken as the field): a keyword-named field keeps its parentheses.
      const group = c.operand.kind === 'and' || c.operand.kind === 'or' || (c.operand.kind !== 'not' && isKeyword(c.operand.field));
      return group ? `not (${inner})` : `not ${inner}`;
    }
    case 'compare':
      return `${c.field} ${c.op} ${printLiteral(c.value)}`;
    case 'like':
      return `${c.field} like ${quote(c.pattern)}`;
    case 'in':
      return `${c.field} in (${c.values.map(printLiteral).join(', ')})`;
  }
}

export function printLiteral(l: A.Literal): string {
  if (l.kind === 'number') return String(l.value);
  // A string that would read back as a number must stay quoted.
  return readsAsNumber(l.value) ? quote(l.value) : printText(l.value);
}

const BARE = /^[^,|\s()'"=<>!\\]+$/;

/** A word as is when it would lex back as the same plain word; otherwise quoted. */
export function printText(text: string): string {
  return BARE.test(text) && !isKeyword(text) && text !== '*' ? text : quote(text);
}

export function quote(text: string): string {
  return `'${text.replace(/[\\'\n\r\t\0]/g, (ch) => ESCAPED[ch]!)}'`;
}

const ESCAPED: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };
