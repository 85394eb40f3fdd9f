import type { Query } from './ast.js';
import { kindsOf, type CommandSyntax } from './command-syntax.js';
import { createFastParse } from './fast-parse.js';
import { createParse, type ParseFunctions } from './parse.js';
import { MlmodelParser, type CommandRule } from './parser.js';
import { createPrinter, type Printer } from './printer.js';
import { createTokens, type TokenSet } from './tokens.js';
import { createAstBuilder } from './visitor.js';

/**
 * One language: the structure of docs/language.md plus the commands it is given.
 * Everything that knows a command — tokens, parser rules, the AST builder,
 * the printer, the error messages — is made here from the commands'
 * declared syntax, once; the engine builds the one language its command
 * modules declare (src/language.ts).
 */
export interface Language extends Printer {
  readonly commands: readonly CommandSyntax[];
  readonly tokens: TokenSet;
  readonly parser: MlmodelParser;
  readonly commandRules: readonly CommandRule[];
  /** Parses one query; throws ParseError, and only ParseError. */
  parse(text: string): Query;
  /**
   * The two ways `parse` reads a query, each on its own, for the tests that
   * hold them to one another and for bench:parse: `fast` is the fast path
   * alone (undefined where it declines; it throws what `parse` throws before
   * either path runs: too long, a lexing error, too deep a nesting),
   * `chevrotain` is `parse` without the fast path.
   */
  readonly paths: Pick<ParseFunctions, 'fast' | 'chevrotain'>;
  /** True when `text` on its own would lex as a keyword (case-insensitive). */
  isKeyword(text: string): boolean;
  /** The rule of the command an AST kind belongs to. */
  ruleFor(kind: string): CommandRule | undefined;
}

export function createLanguage(commands: readonly CommandSyntax[], options: { validate?: boolean } = {}): Language {
  checkCommands(commands);
  const words = commands.flatMap((c) => [c.prefix ?? 'mlmodel', ...c.keywords]);
  const tokens = createTokens(words, options);
  const parser = new MlmodelParser(tokens, commands, options);
  const builder = createAstBuilder(parser);
  const { parse, fast, chevrotain } = createParse({ tokens, parser, builder, fast: createFastParse(parser, tokens) });
  const byKind = new Map<string, CommandRule>();
  for (const r of parser.commandRules) for (const k of kindsOf(r.syntax)) byKind.set(k, r);
  const ruleFor = (kind: string) => byKind.get(kind);
  const printer = createPrinter({ ruleFor, isKeyword: tokens.isKeyword });
  return {
    ...printer,
    commands,
    tokens,
    parser,
    commandRules: parser.commandRules,
    parse,
    paths: { fast, chevrotain },
    isKeyword: tokens.isKeyword,
    ruleFor,
  };
}

/** A command list that two commands claim the same word or kind in is a programming error; say so at once. */
function checkCommands(commands: readonly CommandSyntax[]): void {
  const kinds = new Set<string>();
  const words = new Set<string>();
  for (const c of commands) {
    for (const k of kindsOf(c)) {
      if (kinds.has(k)) throw new Error(`two commands declare the kind ${k}`);
      kinds.add(k);
    }
    for (const w of c.keywords) {
      const key = `${c.prefix ?? 'mlmodel'} ${w}`;
      if (words.has(key)) throw new Error(`two commands declare ${key}`);
      words.add(key);
    }
    if (c.args.filter((a) => a.kind === 'model').length > 1 || c.args.filter((a) => a.kind === 'options').length > 1) {
      throw new Error(`${c.keywords[0]}: at most one model and one options part`);
    }
    if (c.options !== undefined && !c.args.some((a) => a.kind === 'options')) throw new Error(`${c.keywords[0]}: options declared without an options part`);
    for (const key of Object.keys(c.options ?? {})) if (key !== key.toLowerCase()) throw new Error(`${c.keywords[0]}: option ${key} must be lower-case`);
  }
}
