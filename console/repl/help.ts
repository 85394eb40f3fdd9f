import type { Alternation as AlternationNode, IProduction, Rule, Terminal as TerminalNode, TokenType } from 'chevrotain';
import {
  Alternation,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Terminal,
} from '../../grammar/chevrotain.js';
import { describeOptionType } from '../../grammar/command-syntax.js';
import type { CommandRule } from '../../grammar/parser.js';
import { nearest } from '../../grammar/suggest.js';
import * as T from '../../grammar/tokens.js';
import { COMMANDS, type CommandModule } from '../../src/commands/index.js';
import { language } from '../../src/language.js';

/**
 * `help` and `help <command>`. The BNF is printed from the parser's own
 * grammar, so it is always the grammar that runs; what a command does, its
 * options and examples (which the tests parse) come from its module.
 */
interface Topic {
  readonly summary: string;
  readonly examples: readonly string[];
  readonly notes?: readonly string[];
}

/** The stages' topics; each command's comes from its module. */
const STAGE_TOPICS: Readonly<Record<string, Topic>> = {
  where: {
    summary: 'Keeps the rows that match: = != < <= > >=, like (% any run, _ one character), in (…), and/or/not, parentheses.',
    examples: [
      "mlmodel list | where type = tf and (category = classification or name like 'mnist%')",
      'mlmodel list | where name not in (mnist_v1, iris) and create > 20190101000000',
    ],
    notes: ['Times compare as yyyyMMddHHmmss numbers.'],
  },
  fields: {
    summary: 'Keeps only these columns, in this order.',
    examples: ['mlmodel list | fields id, name, modified'],
  },
  sort: {
    summary: 'Orders the rows; -field or field desc sorts descending.',
    examples: ['mlmodel list | sort type, -modified'],
  },
  head: {
    summary: 'Keeps the first N rows.',
    examples: ['mlmodel list | sort -modified | head 5'],
  },
};

/** Each command under each of its keywords (`tag`, `untag`) and, for a prefix other than `mlmodel`, the prefix (`serving`). */
const COMMAND_TOPICS = new Map<string, { readonly module: CommandModule; readonly rule: CommandRule }>();
for (const rule of language.commandRules) {
  const module = COMMANDS.find((c) => c.syntax === rule.syntax)!;
  for (const k of rule.syntax.keywords) if (!COMMAND_TOPICS.has(k)) COMMAND_TOPICS.set(k, { module, rule });
  if (rule.prefix !== 'mlmodel' && !COMMAND_TOPICS.has(rule.prefix)) COMMAND_TOPICS.set(rule.prefix, { module, rule });
}

const CONSOLE_HELP = `Console:
  Enter runs the query; a trailing \\, an open quote or parenthesis continues it on the next line.
  Tab completes actions, options, model and field names, versions after NAME@, object keys and paths;
  Up/Down recall history; Ctrl-R searches it.
  Ctrl-C cancels a running query (or clears the line); Ctrl-D on an empty line exits.
  What is typed or pasted while a query runs waits, and runs after it; Ctrl-L clears the screen.
  \\x [on|off|auto]   expanded display, one record per block (auto: when a table is too wide)
  \\format NAME       table, json, jsonl, csv, tsv, markdown or html
  \\clear             clear the screen
  \\pager [on|off]    results taller than the window in $MLMODEL_PAGER, $PAGER or less -SR
  help COMMAND       the grammar of a command or stage, with an example
  \\q, exit           leave`;

/** The text `help` prints: commands, stages and the console's own keys. */
export function generalHelp(): string {
  const width = Math.max(...language.commandRules.map((r) => `${r.prefix} ${r.syntax.keywords.join('|')}`.length)) + 2;
  const commands = language.commandRules.map((r) => {
    const module = COMMAND_TOPICS.get(r.syntax.keywords[0])!.module;
    const name = `${r.prefix} ${r.syntax.keywords.join('|')}`;
    return `  ${name.padEnd(width)}${firstSentence(module.summary)}`;
  });
  const stages = T.STAGE_KEYWORDS.map((s) => `  | ${s.padEnd(16)}${STAGE_TOPICS[s]?.summary.split('. ')[0]?.replace(/[.:].*$/, '') ?? ''}`);
  return [
    'Commands:',
    ...commands,
    '',
    'Stages (after a command, each after a |):',
    ...stages,
    '',
    'Example: mlmodel list | where type = tf | sort -modified | head 5',
    '',
    CONSOLE_HELP,
  ].join('\n');
}

function firstSentence(text: string): string {
  return (text.split(/\.\s/)[0] ?? text).replace(/\.$/, '');
}

/** `help <topic>`: what it does, its grammar, its options, examples. Undefined for an unknown topic. */
export function topicHelp(topic: string): string | undefined {
  const key = topic.toLowerCase();
  const command = COMMAND_TOPICS.get(key);
  if (command) {
    const { module, rule } = command;
    const production = RULES()[rule.name]!;
    const lines = [`${rule.prefix} ${rule.syntax.keywords.join('|')} — ${module.summary}`, '', ...bnf(`${rule.prefix === 'mlmodel' ? 'mlmodel' : rule.prefix.toUpperCase()} `, production).map((l) => `  ${l}`)];
    const options = Object.entries(rule.syntax.options ?? {});
    if (options.length > 0) {
      lines.push('', 'Options:');
      for (const [k, o] of options) lines.push(`  ${`${k}=${describeOptionType(o)}`.padEnd(34)} ${o.required ? '(required) ' : ''}${o.summary}`);
    }
    lines.push('', `Answers with: ${module.columns.map((c) => c.name).join(', ')}`);
    if (module.notes?.length) lines.push('', ...module.notes.map((n) => `  ${n}`));
    lines.push('', module.examples.length === 1 ? 'Example:' : 'Examples:', ...module.examples.map((e) => `  ${e}`));
    return lines.join('\n');
  }
  if (!(T.STAGE_KEYWORDS as readonly string[]).includes(key)) return undefined;
  const rule = grammarOf(key);
  if (rule === undefined) return undefined;
  const info = STAGE_TOPICS[key];
  const lines = [`| ${key}${info ? ` — ${info.summary}` : ''}`, '', ...bnf(rule.prefix, rule.production).map((l) => `  ${l}`)];
  if (info?.notes?.length) lines.push('', ...info.notes.map((n) => `  ${n}`));
  if (info?.examples.length) lines.push('', info.examples.length === 1 ? 'Example:' : 'Examples:', ...info.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/**
 * What `help` or `help TOPIC` answers, in the REPL and outside it alike:
 * the text, or, for a topic help does not know, the message with its
 * did-you-mean.
 */
export function helpAnswer(topic: string): { readonly text: string } | { readonly unknown: string } {
  if (topic === '') return { text: generalHelp() };
  const text = topicHelp(topic);
  if (text !== undefined) return { text };
  const near = nearest(topic, helpTopics());
  return { unknown: `no help on ${topic}${near ? `; did you mean help ${near}?` : ''}; try help, or help followed by an action or a stage` };
}

/** Every topic `help` knows: each command keyword, each prefix other than `mlmodel`, each stage. */
export function helpTopics(): string[] {
  return [...COMMAND_TOPICS.keys(), ...T.STAGE_KEYWORDS];
}

/** Every example help shows, commands' and stages' (the tests parse each one). */
export function helpExamples(): string[] {
  return [...COMMANDS.flatMap((c) => c.examples), ...Object.values(STAGE_TOPICS).flatMap((t) => t.examples)];
}

interface Located {
  readonly prefix: string;
  readonly production: IProduction;
}

const RULES = (): Record<string, Rule> => language.parser.getGAstProductions();

/** A command's own word in the BNF is named by what it is: `a new model name` → NEW_MODEL_NAME. */
const WORD_NAMES = new Map(
  language.commandRules.flatMap((r) =>
    r.syntax.args.flatMap((a) => (a.kind === 'word' ? [[a.field, a.label.replace(/^an? /, '').replace(/\W+/g, '_').toUpperCase()] as const] : [])),
  ),
);

/** A stage's grammar: the alternative of `stage` that starts with its keyword. */
function grammarOf(key: string): Located | undefined {
  const container = RULES().stage!;
  const alternation = container.definition[0];
  if (!(alternation instanceof Alternation)) return undefined;
  for (const alt of alternation.definition) {
    const first = defsOf(alt)[0];
    if (first instanceof NonTerminal && startsWith(first.referencedRule, key)) return { prefix: '| ', production: first.referencedRule };
  }
  return undefined;
}

function startsWith(p: IProduction, key: string): boolean {
  const first = p instanceof Terminal ? p : defsOf(p)[0];
  if (first instanceof Terminal) return labelOf(first.terminalType) === key;
  if (first instanceof Alternation) return first.definition.some((a) => defsOf(a)[0] !== undefined && startsWith(defsOf(a)[0]!, key));
  return false;
}

function defsOf(p: IProduction): IProduction[] {
  return (p as unknown as { definition?: IProduction[] }).definition ?? [];
}

function labelOf(t: TokenType): string {
  return String(t.LABEL ?? t.name);
}

/** The production on one line, then each rule it refers to, once, IRIS's "Parameters BNF" style. */
function bnf(prefix: string, top: IProduction): string[] {
  const seen = new Set<string>();
  const queue: Rule[] = [];
  const head = prefix + (top instanceof Terminal ? text(top, queue) : sequence((top as Rule).definition, queue));
  const lines = [head.trim()];
  const subLines: string[] = [];
  while (queue.length > 0) {
    const r = queue.shift()!;
    if (seen.has(r.name)) continue;
    seen.add(r.name);
    subLines.push(`${snake(r.name)} : ${sequence(r.definition, queue)}`);
  }
  if (subLines.length) lines.push(...subLines);
  return lines;
}

function sequence(defs: readonly IProduction[], queue: Rule[]): string {
  // A lone alternation needs no parentheses of its own: `value : NAME | QUOTED`.
  if (defs.length === 1 && defs[0] instanceof Alternation) return alternatives(defs[0], queue);
  return defs.map((d) => text(d, queue)).join(' ');
}

function alternatives(p: AlternationNode, queue: Rule[]): string {
  return p.definition.map((a) => sequence(defsOf(a), queue)).join(' | ');
}

/** `x*` for a single item, `(x y)*` for several. */
function group(defs: readonly IProduction[], queue: Rule[], mark: string): string {
  const body = sequence(defs, queue);
  return defs.length === 1 && !(defs[0] instanceof Alternation) ? `${body}${mark}` : `(${body})${mark}`;
}

function text(p: IProduction, queue: Rule[]): string {
  if (p instanceof Terminal) {
    const label = (p as TerminalNode & { label?: string }).label;
    if (p.terminalType === T.Name || p.terminalType === T.Word) return label ? (WORD_NAMES.get(label) ?? snake(label).toUpperCase()) : 'NAME';
    if (p.terminalType === T.Quoted) return 'QUOTED';
    if (p.terminalType === T.CompareOp) return 'op';
    if (language.tokens.keywords.includes(p.terminalType)) return labelOf(p.terminalType).toUpperCase();
    return labelOf(p.terminalType);
  }
  if (p instanceof NonTerminal) {
    queue.push(p.referencedRule);
    return snake(p.nonTerminalName);
  }
  if (p instanceof Option) return `[${sequence(p.definition, queue)}]`;
  if (p instanceof Repetition) return group(p.definition, queue, '*');
  if (p instanceof RepetitionMandatory) return group(p.definition, queue, '+');
  if (p instanceof RepetitionMandatoryWithSeparator || p instanceof RepetitionWithSeparator) {
    const item = sequence(p.definition, queue);
    const sep = labelOf(p.separator);
    const list = `${item} (${sep} ${item})*`;
    return p instanceof RepetitionWithSeparator ? `[${list}]` : list;
  }
  if (p instanceof Alternation) return p.definition.length > 1 ? `(${alternatives(p, queue)})` : alternatives(p, queue);
  return '';
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
