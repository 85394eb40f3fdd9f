import type { CommandAst, CommandSyntax, OptionValues } from '../../grammar/command-syntax.js';
import type { EngineContext } from '../engine/context.js';
import type { PushedStages } from '../planner/plan.js';
import type { PushedRunStages } from '../planner/runs.js';
import type { Column, ResultTable, StreamedTable } from '../result/table.js';

/**
 * One command, whole: what the language derives from (its syntax), what a
 * person reads about it (help), what it answers with (typed columns), whether
 * it changes the registry, and how it runs. The parser, printer, help,
 * completion, the HTTP server's and the REPL's read/write decisions, the
 * docs-coverage test and the test generators all read the list of these in
 * src/commands/index.ts; nothing else names a command.
 */
export interface CommandModule<S extends CommandSyntax = CommandSyntax> {
  readonly syntax: S;
  /** One or two sentences for `help`; the first is the one-line summary. */
  readonly summary: string;
  /** Queries that show the command; the tests parse and round-trip each one. */
  readonly examples: readonly [string, ...string[]];
  readonly notes?: readonly string[];
  /** The columns of its result table, in order. */
  readonly columns: readonly Column[];
  /**
   * Whether it changes anything — the registry, the serving base, a
   * connector's bucket or a local directory — so that a read-only caller
   * (`http.readers`) may not run it and the REPL reads model names again
   * after it. A function when it depends on the options (fsck writes only
   * with repair=true).
   */
  readonly writes: boolean | ((command: CommandAst<S>) => boolean);
  execute(ctx: EngineContext, command: CommandAst<S>, run: CommandRun): Promise<ResultTable>;
  /**
   * The same result as `execute`, its rows read a page at a time as the
   * caller takes them: for a command whose result may be too large to hold
   * (list). Only a caller that asks for streams calls it (the executor's
   * executePlanStreamed); without it, a command's whole table is the answer.
   */
  stream?(ctx: EngineContext, command: CommandAst<S>, run: CommandRun): Promise<StreamedTable>;
}

/** What the planner hands a command besides its AST. */
export interface CommandRun {
  /** The where/sort/head stages the store runs for a command that lists models (null otherwise). */
  readonly pushed: PushedStages | null;
  /** The stages the tracking store and run records take, for `mlmodel runs` (null otherwise). */
  readonly runs?: PushedRunStages | null;
}

/** Declares a command module; the `const` type parameter keeps the syntax's literal types, so its AST type follows. */
export function defineCommand<const S extends CommandSyntax>(module: CommandModule<S>): CommandModule<S> {
  return module;
}

export type { CommandAst, OptionValues };
