import type { IToken, TokenType } from 'chevrotain';
import { kindFor, type OptionSyntax } from '../../grammar/command-syntax.js';
import { quote } from '../../grammar/printer.js';
import * as T from '../../grammar/tokens.js';
import { LIST_COLUMNS } from '../../src/commands/list.js';
import { commandModule, language } from '../../src/language.js';
import type { CommandModule } from '../../src/commands/index.js';
import { helpTopics } from './help.js';

/**
 * What completion knows beyond the grammar and the command modules (which
 * declare every option, its type and every result column): names read from
 * the store.
 */
export interface Catalog {
  /** Model names in the registry. */
  readonly models: readonly string[];
  /** Fields of a model table (what `where`, `sort` and `fields` may name after list, delete, rename). */
  readonly fields: readonly string[];
  /** Fields `summary NAME f1,f2` may ask for. */
  readonly summaryFields: readonly string[];
  /** Values offered after `type =` in a condition. */
  readonly modelTypes: readonly string[];
  /** Connector names, offered as `OBJECTSTORAGE.<NAME>:` after `path=`. */
  readonly connectors: readonly string[];
  /** What only the stores can say, asked for at Tab: absent, those words complete from the grammar alone. */
  readonly lookups?: Lookups;
}

/**
 * Names too many or too changeable to read ahead: the keys of a connector,
 * local paths, a model's versions. Each answers within its signal (a Tab
 * waits at most LOOKUP_TIMEOUT_MS) and with nothing on any failure.
 */
export interface Lookups {
  /**
   * What lies directly under a location prefix (`OBJECTSTORAGE.X:USERS/ro`,
   * `/srv/mo`), as whole locations that start with the prefix as typed;
   * a level ends in '/'.
   */
  locations(prefix: string, signal: AbortSignal): Promise<readonly string[]>;
  /** `NAME@N` for each version of a model and `NAME@ALIAS` for each alias, `model` as typed. */
  refs(model: string, signal: AbortSignal): Promise<readonly string[]>;
  /** How long a Tab waits for these (default LOOKUP_TIMEOUT_MS). */
  readonly timeoutMs?: number;
}

/** How long a Tab waits for a store: a slow one leaves the word as it was, never the prompt stuck. */
export const LOOKUP_TIMEOUT_MS = 2000;

export const EMPTY_CATALOG: Catalog = {
  models: [],
  fields: [],
  summaryFields: [],
  modelTypes: [],
  connectors: [],
};

export interface Completion {
  /** The text from `start` to the cursor is the word being completed. */
  readonly start: number;
  readonly word: string;
  /** Whole replacements for that word, best first. */
  readonly candidates: readonly string[];
  /** What follows an accepted candidate: `=` after an option key, nothing after `OBJECTSTORAGE.X:`, else a space. */
  readonly suffix: string;
}

const NONE = (start: number): Completion => ({ start, word: '', candidates: [], suffix: ' ' });

/** The characters a WORD may hold (docs/language.md): everything but `,|()'"=<>!` and blanks. */
const PARTIAL_WORD = /[^,|\s()'"=<>!]*$/;

/**
 * Completes the word before the cursor from what the grammar accepts there:
 * keywords (actions, stages, operators), option keys for the command being
 * typed, model names where a model is expected, and field names where a
 * field is. Chevrotain's content assist names the tokens that may come next
 * and the rule each belongs to; the rule tells a model name from a field.
 */
export function complete(text: string, cursor: number, catalog: Catalog): Completion {
  const before = text.slice(0, cursor);
  const word = PARTIAL_WORD.exec(before)![0];
  const start = cursor - word.length;
  // `help <topic>` is the console's, not the language's.
  if (/^\s*help\s+$/i.test(before.slice(0, start))) {
    return { start, word, candidates: helpTopics().filter((t) => t.startsWith(word.toLowerCase())), suffix: ' ' };
  }
  const assist = assistAt(before, start);
  if (assist === null) return NONE(start);
  const { tokens, paths } = assist;

  const out: string[] = [];
  let suffix = ' ';
  let sortDash = '';
  const add = (items: readonly string[]) => {
    for (const c of items) if (!out.includes(c)) out.push(c);
  };
  for (const p of paths) {
    const rule = p.ruleStack[p.ruleStack.length - 1] ?? '';
    const type = p.nextTokenType;
    if (type === T.Name || type === T.Word) {
      switch (rule) {
        case 'modelRef':
          add(sorted(catalog.models));
          break;
        case 'optionAssignment': {
          const given = new Set(optionKeysGiven(tokens));
          add(Object.keys(commandOf(tokens)?.syntax.options ?? {}).filter((k) => !given.has(k)));
          suffix = '=';
          break;
        }
        case 'nameList': {
          // A command's own list (summary's fields, tag's tags) or a `fields` stage's columns.
          const inStage = p.ruleStack.includes('fieldsStage');
          if (inStage) add(stageFields(tokens, catalog));
          else if (commandOf(tokens)?.syntax.args.some((a) => a.kind === 'names' && a.field === 'fields')) add(catalog.summaryFields);
          break;
        }
        case 'predicate':
          add(stageFields(tokens, catalog));
          break;
        case 'sortKey':
          if (word.startsWith('-')) sortDash = '-';
          add(stageFields(tokens, catalog));
          break;
        case 'value':
          add(valuesFor(tokens, catalog));
          break;
        default:
          // A new name (rename), a row count (head): nothing to suggest.
          break;
      }
    } else if (isKeyword(type)) {
      add([String(type.LABEL)]);
    }
  }
  if (tokens.length === 0) add(['help']);
  const typed = word.slice(sortDash.length).toLowerCase();
  const candidates = out.filter((c) => c.toLowerCase().startsWith(typed)).map((c) => sortDash + c);
  // `path=OBJECTSTORAGE.X:` wants the key typed straight after it.
  const glued = candidates.length === 1 && candidates[0]!.endsWith(':');
  return { start, word, candidates, suffix: glued ? '' : suffix };
}

/** The tokens before the word and what the grammar takes there; null inside an unterminated quote or after a bad character. */
function assistAt(before: string, start: number): { tokens: IToken[]; paths: ReturnType<typeof language.parser.computeContentAssist> } | null {
  const lexed = language.tokens.lexer.tokenize(before.slice(0, start));
  if (lexed.errors.length > 0) return null;
  try {
    return { tokens: lexed.tokens, paths: language.parser.computeContentAssist('query', lexed.tokens) };
  } catch {
    return null;
  }
}

/** A location as a `path=` takes it: a connector and a key, or an absolute local path. */
const LOCATION_WORD = /^(?:OBJECTSTORAGE\.[A-Za-z0-9][A-Za-z0-9_-]*:|(?:FILE:)?\/)/i;

/** What the word before the cursor needs a store for: a location after a `path=`, or a version or alias after `NAME@`. */
function lookupAt(text: string, cursor: number): { kind: 'location' | 'ref'; start: number; word: string } | null {
  const before = text.slice(0, cursor);
  const word = PARTIAL_WORD.exec(before)![0];
  const start = cursor - word.length;
  const location = LOCATION_WORD.test(word);
  const at = word.indexOf('@');
  if (!location && at <= 0) return null;
  const assist = assistAt(before, start);
  if (assist === null) return null;
  const { tokens, paths } = assist;
  for (const p of paths) {
    if (p.nextTokenType !== T.Name && p.nextTokenType !== T.Word) continue;
    const rule = p.ruleStack[p.ruleStack.length - 1] ?? '';
    if (rule === 'modelRef' && at > 0) return { kind: 'ref', start, word };
    if (rule !== 'value' || tokens.some((t) => t.tokenType === T.Pipe)) continue;
    const key = tokens[tokens.length - 2]?.image.toLowerCase() ?? '';
    const declared = commandOf(tokens)?.syntax.options;
    const type = declared && Object.hasOwn(declared, key) ? declared[key]!.type : undefined;
    if (type === 'path' && location) return { kind: 'location', start, word };
    if (type === 'model' && at > 0) return { kind: 'ref', start, word };
  }
  return null;
}

/**
 * What Tab does where only a store can answer — a key after
 * `path=OBJECTSTORAGE.X:`, a local path after `path=/`, a version or alias
 * after `NAME@` — or null where the grammar and the catalog answer
 * (applyCompletion, at once). The lookup waits at most `timeoutMs`; on a
 * timeout or a failure the text stays as it was.
 */
export function completeWithLookups(text: string, cursor: number, catalog: Catalog, timeoutMs = catalog.lookups?.timeoutMs ?? LOOKUP_TIMEOUT_MS): Promise<Completed> | null {
  const lookups = catalog.lookups;
  const slot = lookups ? lookupAt(text, cursor) : null;
  if (!lookups || slot === null) return null;
  const signal = AbortSignal.timeout(timeoutMs);
  const asked = slot.kind === 'location' ? lookups.locations(slot.word, signal) : lookups.refs(slot.word.slice(0, slot.word.indexOf('@')), signal);
  const late = new Promise<readonly string[]>((resolve) => signal.addEventListener('abort', () => resolve([]), { once: true }));
  return Promise.race([asked.catch(() => [] as readonly string[]), late]).then((found) => {
    // A key a bare word cannot hold (a space, a quote, '=') is offered quoted, and is then complete.
    const candidates = found.filter((c) => c.startsWith(slot.word) && c !== slot.word).map((c) => (BARE_WORD.test(c) ? c : quote(c)));
    const level = candidates.length === 1 && candidates[0]!.endsWith('/');
    return applyCandidates(text, cursor, { start: slot.start, word: slot.word, candidates, suffix: level ? '' : ' ' });
  });
}

/** A word the lexer reads back whole, unquoted (the printer's rule). */
const BARE_WORD = /^[^,|\s()'"=<>!\\;]+$/;

/** The longest prefix every candidate shares (case as in the first candidate). */
export function commonPrefix(candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  let prefix = candidates[0]!;
  for (const c of candidates.slice(1)) {
    let i = 0;
    while (i < prefix.length && i < c.length && prefix[i]!.toLowerCase() === c[i]!.toLowerCase()) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

export interface Completed {
  readonly text: string;
  readonly cursor: number;
  /** Candidates to show when the word could not be completed further. */
  readonly shown: readonly string[];
}

/**
 * What Tab does: one candidate replaces the word (and is followed by a space
 * or `=`); several extend the word to their common prefix, or, when that adds
 * nothing, are listed for the person to choose.
 */
export function applyCompletion(text: string, cursor: number, catalog: Catalog): Completed {
  return applyCandidates(text, cursor, complete(text, cursor, catalog));
}

function applyCandidates(text: string, cursor: number, c: Completion): Completed {
  if (c.candidates.length === 0) return { text, cursor, shown: [] };
  const put = (replacement: string) => {
    const next = text.slice(0, c.start) + replacement + text.slice(cursor);
    return { text: next, cursor: c.start + replacement.length };
  };
  if (c.candidates.length === 1) {
    const after = text.slice(cursor);
    const suffix = c.suffix !== '' && after.startsWith(c.suffix) ? '' : c.suffix;
    return { ...put(c.candidates[0]! + suffix), shown: [] };
  }
  const prefix = commonPrefix(c.candidates);
  if (prefix.length > c.word.length) return { ...put(prefix), shown: [] };
  return { text, cursor, shown: c.candidates };
}

function isKeyword(type: TokenType): boolean {
  return language.tokens.keywords.includes(type);
}

function sorted(items: readonly string[]): string[] {
  return [...items].sort((a, b) => a.localeCompare(b));
}

/** The module of the command being typed: the prefix word and the keyword after it (a bare prefix: its default). */
function commandOf(tokens: readonly IToken[]): CommandModule | undefined {
  const start = tokens[0]?.tokenType === T.Star ? 2 : 0;
  const prefix = tokens[start]?.image.toLowerCase();
  const keyword = tokens[start + 1];
  const rule = language.commandRules.find(
    (r) => r.prefix === prefix && (keyword === undefined || keyword.tokenType === T.Pipe ? r.syntax.bareDefault === true : r.keywordTokens.includes(keyword.tokenType)),
  );
  return rule ? commandModule(kindFor(rule.syntax, keyword && keyword.tokenType !== T.Pipe ? keyword.image : rule.syntax.keywords[0])) : undefined;
}

function optionKeysGiven(tokens: readonly IToken[]): string[] {
  const keys: string[] = [];
  tokens.forEach((t, i) => {
    if (t.tokenType === T.Eq && i > 0) keys.push(tokens[i - 1]!.image.toLowerCase());
  });
  return keys;
}

/** Fields a stage may name: the model fields after commands that list models, else the command's own columns. */
function stageFields(tokens: readonly IToken[], catalog: Catalog): readonly string[] {
  const module = commandOf(tokens);
  if (module === undefined || module.columns === LIST_COLUMNS) return catalog.fields;
  return module.columns.map((c) => c.name);
}

/** Values offered after an option's `key=` (by its declared type) or after `type =`, `name =` in a condition. */
function valuesFor(tokens: readonly IToken[], catalog: Catalog): readonly string[] {
  const op = tokens[tokens.length - 1];
  const key = tokens[tokens.length - 2];
  if (!op || !key) return [];
  const k = key.image.toLowerCase();
  const inStage = tokens.some((t) => t.tokenType === T.Pipe);
  const declared = inStage ? undefined : commandOf(tokens)?.syntax.options;
  const option = declared && Object.hasOwn(declared, k) ? declared[k] : undefined;
  if (option) return optionValuesFor(k, option, catalog);
  if (k === 'type') return catalog.modelTypes;
  if (k === 'name') return sorted(catalog.models);
  if (k === 'serving') return ['on', 'off'];
  return [];
}

/** By the option's declared type; a `name=` (import's new name or version) offers the names there are. */
function optionValuesFor(key: string, option: OptionSyntax, catalog: Catalog): readonly string[] {
  switch (option.type) {
    case 'enum':
      return option.values;
    case 'boolean':
      return ['true', 'false'];
    case 'path':
      return catalog.connectors.map((c) => `OBJECTSTORAGE.${c}:`);
    case 'model':
      return sorted(catalog.models);
    case 'string':
      return key === 'name' ? sorted(catalog.models) : [];
    default:
      return [];
  }
}
