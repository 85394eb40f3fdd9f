import { packageVersion } from './version.js';
import { drainedOrClosed } from '../src/result/drain.js';
import { Writable, type Readable } from 'node:stream';
import { parseCommandLine, USAGE, UsageError, type CliOptions } from './args.js';
import { EXIT_OK, EXIT_QUERY_FAILED, EXIT_USAGE } from './exit-codes.js';
import { runParseOnly } from './parse-mode.js';
import { lineProgress } from './progress.js';
import { progressChannel } from './progress-channel.js';
import { helpTopicOf, runHelp } from './help-mode.js';
import { terminalText } from './render/terminal-text.js';
import { InputError, readStatements, type SourcedStatement } from './statements.js';
import { widenThreadPool } from './thread-pool.js';

/** The process's streams, passed in so that tests can drive `main` without a process. */
export interface Io {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  // First, before anything starts the thread pool (console/thread-pool.ts).
  widenThreadPool(process.env);
  if (argv[0] === 'serve') {
    const { serveMain } = await import('./serve/main.js');
    return serveMain(argv.slice(1), io);
  }
  let options;
  try {
    options = parseCommandLine(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`mlmodel: ${terminalText(e.message)}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    io.stdout.write(USAGE + '\n');
    return 0;
  }
  if (options.version) {
    io.stdout.write(`mlmodel ${packageVersion()}\n`);
    return 0;
  }
  // io.stdin is read only where a statement may come from it: process.stdin
  // is a getter that builds a stream (and loads tty or net) when first asked.
  if (opensRepl(options, { get isTTY() { return io.stdin.isTTY; } })) {
    // Ink and React load only here: -c, -f and piped input never pay for them.
    const { runRepl } = await import('./repl/index.js');
    return runRepl(options, io);
  }
  let statements;
  try {
    statements = await readStatements(options, () => io.stdin);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr.write(`mlmodel: ${terminalText(e.message)}\n`);
    return EXIT_USAGE;
  }
  const helpTopic = helpTopicOf(statements);
  if (helpTopic !== undefined && !options.parseOnly) return runHelp(helpTopic, io);
  if (options.parseOnly) {
    return runParseOnly(statements, {
      stdout: io.stdout,
      stderr: io.stderr,
      pretty: io.stdout.isTTY === true,
      continueOnError: options.continueOnError,
    });
  }
  return runQueries(options, statements, io);
}

/** Whether this command line opens the REPL: no statements given and a terminal on stdin. */
export function opensRepl(options: CliOptions, stdin: { readonly isTTY?: boolean }): boolean {
  const interactive = options.commands.length === 0 && options.words === undefined && options.file === undefined && stdin.isTTY === true;
  return interactive && !options.parseOnly;
}

/**
 * Opens the registry and runs the statements. The engine and its store
 * drivers are imported only here, so `--parse`, `--help` and usage errors
 * start without them.
 */
async function runQueries(options: CliOptions, statements: SourcedStatement[], io: Io): Promise<number> {
  const [{ runStatements }, { openFromCommandLine }, { terminalPager }] = await Promise.all([
    import('./run-mode.js'),
    import('./open-registry.js'),
    import('./pager.js'),
  ]);
  const registry = await openFromCommandLine(options, io);
  if (typeof registry === 'number') return registry;
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.once('SIGINT', onSignal);
  // The reader went away (`mlmodel … | head -1`): what SIGPIPE does to a C
  // program, but orderly — the running statement is cancelled, none after it
  // runs, the stores are closed, nothing more is said, and the status is 0.
  let readerGone = false;
  const gone = () => {
    readerGone = true;
    cancel.abort();
  };
  const onOutputError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') gone();
  };
  io.stdout.on('error', onOutputError);
  try {
    const status = await runStatements(registry, statements, {
      stdout: watchedOutput(io.stdout, gone),
      stderr: quietAfter(io.stderr, () => readerGone),
      format: options.format,
      raw: options.raw,
      continueOnError: options.continueOnError,
      color: io.stdout.isTTY === true && !io.env.NO_COLOR,
      progress: progressChannel(io.env) ?? (io.stderr.isTTY === true ? lineProgress(io.stderr) : undefined),
      pager: options.pager ? terminalPager({ stdout: io.stdout, env: io.env }) : null,
      signal: cancel.signal,
    });
    return readerGone ? EXIT_OK : status;
  } catch (e) {
    if (readerGone) return EXIT_OK;
    // Not one of ours (an MlmodelError or a ParseError is reported per statement): a bug or a
    // driver's surprise. One line, secrets removed, never a stack trace.
    const { redact } = await import('../src/config/redact.js');
    const message = e instanceof Error ? e.message : String(e);
    io.stderr.write(`mlmodel: internal error: ${terminalText(redact(message, registry.config.secrets))}\n`);
    return EXIT_QUERY_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    io.stdout.off('error', onOutputError);
    await registry.close();
  }
}

/**
 * `to`, noticing at once when a write finds the reader gone. The 'error'
 * event says so only when the event loop next turns, and a batch on the
 * embedded store may run many statements before it does.
 */
function watchedOutput(to: Io['stdout'], gone: () => void): Io['stdout'] {
  const out = new Writable({
    write(chunk: Buffer | string, encoding, done) {
      const ok = to.writable && to.write(chunk, encoding);
      if (!to.writable) gone();
      if (ok || !to.writable) {
        done();
        return;
      }
      // `to` is full (a slow reader): this stream reports full too, so a
      // streamed result waits for the reader instead of piling up in memory.
      void drainedOrClosed(to).then(() => done());
    },
  });
  Object.defineProperty(out, 'isTTY', { get: () => to.isTTY });
  Object.defineProperty(out, 'columns', { get: () => to.columns });
  Object.defineProperty(out, 'rows', { get: () => to.rows });
  return out;
}

/** A stream that passes writes on to `to` until `silent()` says to stop. */
function quietAfter(to: Writable, silent: () => boolean): Writable {
  return new Writable({
    // Passed on at once, not when `to` has flushed: order and timing stay those of `to` itself.
    write(chunk: Buffer | string, encoding, done) {
      if (!silent()) to.write(chunk, encoding);
      done();
    },
  });
}

