import { createLanguage, type Language } from '../grammar/language.js';

/**
 * The package's `mlmodel/grammar` entry: the language machinery and the one
 * language. It loads the command modules (a command's syntax lives with its
 * executor) but no store driver, no YAML parser and nothing of the console:
 * drivers are imported when a store is opened.
 */
export * from '../grammar/index.js';
import type { Command } from '../grammar/ast.js';
import { kindsOf } from '../grammar/command-syntax.js';
import { COMMANDS, type CommandModule } from './commands/index.js';

/**
 * The mlmodel language: the structure of docs/language.md with the commands of
 * src/commands/. One instance, built once at load (Chevrotain's grammar
 * analysis runs here) and used for every query in the process.
 */
export const language: Language = createLanguage(COMMANDS.map((c) => c.syntax));

const byKind = new Map<string, CommandModule>();
for (const c of COMMANDS) for (const k of kindsOf(c.syntax)) byKind.set(k, c);

/** The module of a command's AST kind. */
export function commandModule(kind: string): CommandModule | undefined {
  return byKind.get(kind);
}

/** Whether a command may change anything (see CommandModule.writes); an unknown kind is assumed to. */
export function commandWrites(command: Command): boolean {
  const writes = byKind.get(command.kind)?.writes ?? true;
  if (typeof writes === 'boolean') return writes;
  try {
    return writes(command as never);
  } catch {
    // Options that do not read (an AST built by hand): it will fail when it runs; assume the worst until then.
    return true;
  }
}

export const parse = (text: string) => language.parse(text);
export const print = language.print;
export const printCommand = language.printCommand;
export const printStage = language.printStage;
export const printCondition = language.printCondition;
export const printLiteral = language.printLiteral;
export const printText = language.printText;
export const isKeyword = language.isKeyword;
