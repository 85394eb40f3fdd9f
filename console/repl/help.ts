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
import { parser } from '../../grammar/parser.js';
import * as T from '../../grammar/tokens.js';

/**
 * `help` and `help <command>`. The BNF is printed from the parser's own
 * grammar, so it is always the grammar that runs; what a command does and
 * an example (which the tests parse) are written here.
 */
interface Topic {
  readonly summary: string;
  readonly examples: readonly string[];
  readonly notes?: readonly string[];
}

export const TOPICS: Readonly<Record<string, Topic>> = {
  list: {
    summary: 'Every model (its latest version): id, user, name, type, category, algorithm, serving, create, modified.',
    examples: ['mlmodel list', 'mlmodel list | where type = tf | sort -modified | head 5'],
  },
  summary: {
    summary: "One model's fields as name/value rows; name some fields to see only those, in that order.",
    examples: ['mlmodel summary mnist_v1', 'mlmodel summary mnist_v1 format, sha256, size'],
    notes: ['A model is NAME, NAME@VERSION or NAME@ALIAS.'],
  },
  delete: {
    summary: 'Removes a model, every version and its stored archives. A served model must be stopped first.',
    examples: ['mlmodel delete mnist_v1'],
  },
  rename: {
    summary: 'Gives a model a new name; its stored files stay as they are.',
    examples: ['mlmodel rename mnist_v1 as mnist_v2'],
  },
  import: {
    summary: 'Loads a tar archive (optionally gzip-compressed) as a new model, or a new version of one. name, type and path are required.',
    examples: [
      'mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep path=OBJECTSTORAGE.MINIO:models/mnist.tar',
      'mlmodel import name=iris type=sklearn path=/data/iris.tar.gz',
    ],
    notes: [
      'type: r (model.rda), sklearn (model.pkl), spark (data.parquet, metadata), tf (model.h5 or saved_model.pb), onnx (model.onnx).',
      'path: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<absolute path> or an absolute path.',
    ],
  },
  export: {
    summary: "Writes a model's archive to a connector or a local path and answers with a download URL and its expiry.",
    examples: ['mlmodel export name=mnist_v1 path=OBJECTSTORAGE.MINIO:out/mnist.tar expires=600'],
  },
  deploy: {
    summary: 'Lays the latest version out for TensorFlow Serving (<serving base>/<user>_<name>/<version>/) and lists it in models.config.',
    examples: ["mlmodel deploy mnist_v1 label='stable'"],
  },
  stop: {
    summary: 'Takes a model out of serving: removed from models.config, every version STOPPED. The registry copy stays.',
    examples: ['mlmodel stop mnist_v1'],
  },
  serving: {
    summary: "A model's serving versions: version, state (AVAILABLE, STOPPED, FAILED), label, deployed_at.",
    examples: ['serving status mnist_v1'],
  },
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

const ALIASES: Readonly<Record<string, string>> = { status: 'serving' };

export const CONSOLE_HELP = `Console:
  Enter runs the query; a trailing \\, an open quote or parenthesis continues it on the next line.
  Tab completes actions, options, model and field names; Up/Down recall history; Ctrl-R searches it.
  Ctrl-C cancels a running query (or clears the line); Ctrl-D on an empty line exits.
  \\x [on|off|auto]   expanded display, one record per block (auto: when a table is too wide)
  \\format NAME       table, json, jsonl, csv, tsv, markdown or html
  help COMMAND       the grammar of a command or stage, with an example
  \\q, exit           leave`;

/** The text `help` prints: commands, stages and the console's own keys. */
export function generalHelp(): string {
  const actions = T.ACTION_KEYWORDS.map((a) => `  mlmodel ${a.padEnd(10)}${TOPICS[a]?.summary.split('. ')[0]?.replace(/\.$/, '') ?? firstLineOf(a)}`);
  const stages = T.STAGE_KEYWORDS.map((s) => `  | ${s.padEnd(16)}${TOPICS[s]?.summary.split('. ')[0]?.replace(/[.:].*$/, '') ?? ''}`);
  return [
    'Commands:',
    ...actions,
    `  serving status    ${TOPICS.serving!.summary.split(': ')[0]}`,
    '',
    'Stages (after a command, each after a |):',
    ...stages,
    '',
    'Example: mlmodel list | where type = tf | sort -modified | head 5',
    '',
    CONSOLE_HELP,
  ].join('\n');
}

/** For a command without a description, its grammar's first line. */
function firstLineOf(topic: string): string {
  const rule = grammarOf(topic);
  return rule ? (bnf(rule.prefix, rule.production)[0] ?? '') : '';
}

/** `help <topic>`: what it does, its grammar, examples. Undefined for an unknown topic. */
export function topicHelp(topic: string): string | undefined {
  const key = ALIASES[topic.toLowerCase()] ?? topic.toLowerCase();
  const rule = grammarOf(key);
  if (rule === undefined) return undefined;
  const info = TOPICS[key];
  const lines = [`${title(key)}${info ? ` — ${info.summary}` : ''}`, '', ...bnf(rule.prefix, rule.production).map((l) => `  ${l}`)];
  if (info?.notes?.length) lines.push('', ...info.notes.map((n) => `  ${n}`));
  if (info?.examples.length) lines.push('', info.examples.length === 1 ? 'Example:' : 'Examples:', ...info.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Every topic `help` knows: each action, `serving`, each stage. */
export function helpTopics(): string[] {
  return [...T.ACTION_KEYWORDS, 'serving', ...T.STAGE_KEYWORDS];
}

function title(key: string): string {
  if ((T.STAGE_KEYWORDS as readonly string[]).includes(key)) return `| ${key}`;
  if (key === 'serving') return 'serving status';
  return `mlmodel ${key}`;
}

interface Located {
  readonly prefix: string;
  readonly production: IProduction;
}

const RULES = (): Record<string, Rule> => parser.getGAstProductions();

/** The grammar that starts with a keyword: an action after `mlmodel`, a stage, or `serving`. */
function grammarOf(key: string): Located | undefined {
  const rules = RULES();
  if (key === 'serving') return { prefix: '', production: rules.servingCommand! };
  const isAction = (T.ACTION_KEYWORDS as readonly string[]).includes(key);
  const isStage = (T.STAGE_KEYWORDS as readonly string[]).includes(key);
  if (!isAction && !isStage) return undefined;
  const container = rules[isAction ? 'action' : 'stage']!;
  const alternation = container.definition[0];
  if (!(alternation instanceof Alternation)) return undefined;
  for (const alt of alternation.definition) {
    const first = defsOf(alt)[0];
    if (first instanceof Terminal && labelOf(first.terminalType) === key) return { prefix: isAction ? 'mlmodel ' : '| ', production: first };
    if (first instanceof NonTerminal && startsWith(first.referencedRule, key)) {
      return { prefix: isAction ? 'mlmodel ' : '| ', production: first.referencedRule };
    }
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
    if (p.terminalType === T.Name || p.terminalType === T.Word) return label ? snake(label).toUpperCase() : 'NAME';
    if (p.terminalType === T.Quoted) return 'QUOTED';
    if (p.terminalType === T.CompareOp) return 'op';
    if ((T.KEYWORDS as readonly TokenType[]).includes(p.terminalType)) return labelOf(p.terminalType).toUpperCase();
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
