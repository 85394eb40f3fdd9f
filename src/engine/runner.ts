import type { Query } from '../../grammar/ast.js';
import { ParseError, type Statement } from '../../grammar/index.js';
import type { BatchOutcome } from '../executor/import-batch.js';
import { MlmodelError } from '../errors.js';
import { parse } from '../language.js';
import { isStreamed, type QueryResult, type ResultTable, type StreamedTable } from '../result/table.js';

/** What one statement came to: its table, or the error that stopped it (a ParseError or an MlmodelError), as a value. */
export type Outcome<S extends Statement = Statement, T extends QueryResult = ResultTable> =
  | { readonly statement: S; readonly table: T }
  | { readonly statement: S; readonly error: unknown };

/** What the runner needs of a registry. */
export interface StatementEngine<O> {
  execute(query: Query, opts: O): Promise<ResultTable>;
  /** execute for a caller that takes streams: a command that streams answers with a StreamedTable (executor/index.ts executePlanStreamed). */
  executeStreamed?(query: Query, opts: O): Promise<QueryResult>;
  importBatch(queries: readonly Query[], opts: O & { stopAtError?: boolean }): Promise<BatchOutcome[]>;
}

/** A statement to run: its text and line, and, when the caller has parsed it already (to answer early), the query. */
export interface RunnableStatement extends Statement {
  readonly query?: Query;
}

export interface RunStatementsOptions {
  /** Go on after a failed statement (a batch's `--continue-on-error`); by default the first failure is the last outcome. */
  readonly continueOnError?: boolean;
  /** Run consecutive imports as one batch (archives stored concurrently, records committed in groups). Default true. */
  readonly batchImports?: boolean;
  /**
   * Yield a streaming command's result (list) as a StreamedTable, read as
   * the caller takes its rows, instead of a whole table. The caller reads
   * each stream before asking for the next outcome (the runner closes one
   * left open before it runs the next statement); an error while reading
   * comes from the stream, after the rows before it, and stopping there
   * (unless going on after errors) is the caller's part. Default false.
   */
  readonly stream?: boolean;
}

/** Consecutive imports committed together; bounds the memory and the time before results are reported. */
const IMPORT_BATCH_SIZE = 1024;

/**
 * The one run loop, behind `-c`, `-f`, standard input, the REPL, the HTTP
 * server, the library and so the notebook: each statement is parsed,
 * planned and executed in turn, a run of imports as one batch, and its
 * outcome yielded as soon as it is known. Errors are values; the loop stops
 * after the first unless told to go on. Cancellation and progress travel in
 * `opts` to every execution.
 */
export function runStatements<S extends RunnableStatement, O extends { readonly signal?: AbortSignal }>(
  engine: StatementEngine<O>,
  statements: readonly S[],
  opts: O,
  run: RunStatementsOptions & { readonly stream: true },
): AsyncGenerator<Outcome<S, QueryResult>, void, undefined>;
export function runStatements<S extends RunnableStatement, O extends { readonly signal?: AbortSignal }>(
  engine: StatementEngine<O>,
  statements: readonly S[],
  opts: O,
  run?: RunStatementsOptions,
): AsyncGenerator<Outcome<S>, void, undefined>;
export async function* runStatements<S extends RunnableStatement, O extends { readonly signal?: AbortSignal }>(
  engine: StatementEngine<O>,
  statements: readonly S[],
  opts: O,
  run: RunStatementsOptions = {},
): AsyncGenerator<Outcome<S, QueryResult>, void, undefined> {
  let open: StreamedTable | null = null;
  try {
    yield* runEach(engine, statements, opts, run, (t) => (open = t));
  } finally {
    await (open as StreamedTable | null)?.close();
  }
}

async function* runEach<S extends RunnableStatement, O extends { readonly signal?: AbortSignal }>(
  engine: StatementEngine<O>,
  statements: readonly S[],
  opts: O,
  run: RunStatementsOptions,
  opened: (t: StreamedTable) => void,
): AsyncGenerator<Outcome<S, QueryResult>, void, undefined> {
  const goOn = run.continueOnError === true;
  let last: StreamedTable | null = null;
  const execute = async (query: Query): Promise<QueryResult> => {
    // A stream the caller left unread holds a cursor: closed before anything else runs.
    await last?.close();
    last = null;
    if (run.stream !== true || engine.executeStreamed === undefined) return engine.execute(query, opts);
    const result = await engine.executeStreamed(query, opts);
    if (isStreamed(result)) opened((last = result));
    return result;
  };
  const parsed = (s: S): Query | ParseError => {
    if (s.query !== undefined) return s.query;
    try {
      return parse(s.text);
    } catch (e) {
      if (e instanceof ParseError) return e;
      throw e;
    }
  };
  for (let i = 0; i < statements.length; ) {
    const statement = statements[i]!;
    const query = parsed(statement);
    if (query instanceof ParseError) {
      i++;
      yield { statement, error: query };
      if (!goOn) return;
      continue;
    }
    const imports: Query[] = [query];
    if (run.batchImports !== false && query.command.kind === 'import') {
      while (imports.length < IMPORT_BATCH_SIZE && i + imports.length < statements.length) {
        const next = parsed(statements[i + imports.length]!);
        if (next instanceof ParseError || next.command.kind !== 'import') break;
        imports.push(next);
      }
    }
    if (imports.length > 1) {
      let outcomes: BatchOutcome[];
      try {
        await (last as StreamedTable | null)?.close();
        last = null;
        outcomes = await engine.importBatch(imports, { ...opts, stopAtError: !goOn });
      } catch (e) {
        // The batch as a whole could not start (cancelled, store unavailable): its first statement carries the error.
        yield { statement, error: e };
        return;
      }
      for (let k = 0; k < outcomes.length; k++) {
        const o = outcomes[k]!;
        if ('skipped' in o) return;
        yield 'table' in o ? { statement: statements[i + k]!, table: o.table } : { statement: statements[i + k]!, error: o.error };
        if ('error' in o && !goOn) return;
      }
      i += imports.length;
      continue;
    }
    i++;
    try {
      yield { statement, table: await execute(query) };
    } catch (e) {
      yield { statement, error: e };
      if (!goOn) return;
    }
  }
}

/** The table of a run of one statement, or its error thrown: for front ends that answer one query at a time. */
export async function tableOf(outcomes: AsyncIterable<Outcome>): Promise<ResultTable> {
  for await (const o of outcomes) {
    if ('error' in o) throw o.error;
    return o.table;
  }
  throw new MlmodelError('INVALID_ARGUMENT', 'there is no query to run');
}
