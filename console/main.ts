import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseCommandLine, USAGE, UsageError, type CliOptions } from './args.js';
import { EXIT_USAGE } from './exit-codes.js';
import { runParseOnly } from './parse-mode.js';
import { lineProgress } from './progress.js';
import { InputError, readStatements, type SourcedStatement } from './statements.js';

/** The process's streams, passed in so that tests can drive `main` without a process. */
export interface Io {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === 'serve') {
    const { serveMain } = await import('./serve/main.js');
    return serveMain(argv.slice(1), io);
  }
  let options;
  try {
    options = parseCommandLine(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`mlmodel: ${e.message}\n${USAGE}\n`);
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
  const interactive = options.commands.length === 0 && options.file === undefined && io.stdin.isTTY === true;
  if (interactive && !options.parseOnly) {
    // Ink and React load only here: -c, -f and piped input never pay for them.
    const { runRepl } = await import('./repl/index.js');
    return runRepl(options, io);
  }
  let statements;
  try {
    statements = await readStatements(options, io.stdin);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr.write(`mlmodel: ${e.message}\n`);
    return EXIT_USAGE;
  }
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

/**
 * Opens the registry and runs the statements. The engine and its store
 * drivers are imported only here, so `--parse`, `--help` and usage errors
 * start without them.
 */
async function runQueries(options: CliOptions, statements: SourcedStatement[], io: Io): Promise<number> {
  const [{ runStatements }, { openFromCommandLine }] = await Promise.all([import('./run-mode.js'), import('./open-registry.js')]);
  const registry = await openFromCommandLine(options, io);
  if (typeof registry === 'number') return registry;
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.once('SIGINT', onSignal);
  try {
    return await runStatements(registry, statements, {
      stdout: io.stdout,
      stderr: io.stderr,
      format: options.format,
      continueOnError: options.continueOnError,
      color: io.stdout.isTTY === true && !io.env.NO_COLOR,
      progress: io.stderr.isTTY === true ? lineProgress(io.stderr) : undefined,
      signal: cancel.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    await registry.close();
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
