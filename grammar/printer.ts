import type * as A from './ast.js';
import type { CommandRule } from './parser.js';
import { readsAsNumber } from './visitor.js';

/** What the printer needs to know of a language: its command rules and its keywords. */
export interface PrinterLanguage {
  /** The rule of the command an AST kind belongs to. */
  ruleFor(kind: string): CommandRule | undefined;
  isKeyword(text: string): boolean;
}

export interface Printer {
  /** Canonical text for a query: `parse(print(ast))` equals `ast`. */
  print(query: A.Query): string;
  printCommand(c: A.Command): string;
  printStage(s: A.Stage): string;
  printCondition(c: A.Condition): string;
  printLiteral(l: A.Literal): string;
  /** A word as is when it would lex back as the same plain word; otherwise quoted. */
  printText(text: string): string;
}

/**
 * Canonical text for an AST: lower-case keywords, single spaces, `==` as `=`,
 * `<>` as `!=`, descending sort keys as `-field`, and quotes only where a
 * value needs them. Commands are printed from their declared syntax.
 */
export function createPrinter(lang: PrinterLanguage): Printer {
  const { isKeyword, ruleFor } = lang;

  function printText(text: string): string {
    return BARE.test(text) && !isKeyword(text) && text !== '*' ? text : quote(text);
  }

  function printOptions(options: readonly A.OptionAssignment[]): string {
    return options.map((o) => ` ${o.key}=${o.quoted ? quote(o.value) : printText(o.value)}`).join('');
  }

  function printCommand(c: A.Command): string {
    const rule = ruleFor(c.kind);
    if (rule === undefined) throw new TypeError(`no command of kind ${c.kind}`);
    const keyword = rule.syntax.kind === undefined ? c.kind : rule.syntax.keywords[0];
    let text = `${rule.prefix} ${keyword}`;
    for (const arg of rule.syntax.args) {
      switch (arg.kind) {
        case 'model':
          text += ` ${printModelRef(c.model!)}`;
          break;
        case 'options':
          text += printOptions(c.options ?? []);
          if (arg.others) text += printOptions((c[arg.others.field] as readonly A.OptionAssignment[] | undefined) ?? []);
          break;
        case 'names': {
          const names = c[arg.field] as readonly string[] | null;
          if (names) text += ` ${names.join(', ')}`;
          break;
        }
        case 'word':
          text += `${arg.optionalKeyword ? ` ${arg.optionalKeyword}` : ''} ${String(c[arg.field])}`;
          break;
      }
    }
    return text;
  }

  function printCondition(c: A.Condition): string {
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

  function printLiteral(l: A.Literal): string {
    if (l.kind === 'number') return String(l.value);
    // A string that would read back as a number must stay quoted.
    return readsAsNumber(l.value) ? quote(l.value) : printText(l.value);
  }

  function printStage(s: A.Stage): string {
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

  return {
    print: (query) => [printCommand(query.command), ...query.stages.map(printStage)].join(' | '),
    printCommand,
    printStage,
    printCondition,
    printLiteral,
    printText,
  };
}

export function printModelRef(ref: A.ModelRef): string {
  if (ref.version !== undefined) return `${ref.name}@${ref.version}`;
  if (ref.alias !== undefined) return `${ref.name}@${ref.alias}`;
  return ref.name;
}

/** A word the lexer reads back as itself; `;` is quoted too, since a script splits statements there. */
const BARE = /^[^,|\s()'"=<>!\\;]+$/;

export function quote(text: string): string {
  return `'${text.replace(/[\\'\n\r\t\0]/g, (ch) => ESCAPED[ch]!)}'`;
}

const ESCAPED: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };
