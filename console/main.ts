import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseCommandLine, USAGE, UsageError } from './args.js';
import { EXIT_USAGE } from './exit-codes.js';
import { runParseOnly } from './parse-mode.js';
import { InputError, readStatements } from './statements.js';

/** The process's streams, passed in so that tests can drive `main` without a process. */
export interface Io {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
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
  if (interactive) {
    io.stderr.write('mlmodel: the interactive console is not available in this build; pass -c "<query>", -f FILE or pipe queries in\n');
    return EXIT_USAGE;
  }
  if (!options.parseOnly) {
    io.stderr.write('mlmodel: running queries is not available in this build yet; use --parse to check and print their syntax\n');
    return EXIT_USAGE;
  }
  let statements;
  try {
    statements = await readStatements(options, io.stdin);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr.write(`mlmodel: ${e.message}\n`);
    return EXIT_USAGE;
  }
  return runParseOnly(statements, {
    stdout: io.stdout,
    stderr: io.stderr,
    pretty: io.stdout.isTTY === true,
    continueOnError: options.continueOnError,
  });
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
