import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { splitScript, withImplicitCommand } from '../grammar/index.js';
import type { CliOptions } from './args.js';

/** A query to run, and where it came from for error messages. */
export interface SourcedStatement {
  readonly text: string;
  /** Name shown before the line number: a file path, `stdin` or `-c`. */
  readonly origin: string;
  /** 1-based line in `origin` on which the query starts. */
  readonly line: number;
}

export class InputError extends Error {
  override name = 'InputError';
}

/**
 * The queries of -c arguments, of -f FILE, or of standard input, in order.
 * `stdin` is asked for only when the queries come from it.
 */
export async function readStatements(options: CliOptions, stdin: () => Readable): Promise<SourcedStatement[]> {
  // `mlmodel list | head 5` typed at the shell (quoted as the shell needs): a script whose statements may leave out `mlmodel`.
  if (options.words !== undefined) return fromScript(options.words, 'the command line', true);
  if (options.commands.length > 0) {
    // Each -c is a script of its own: `-c "mlmodel list; serving status m"` runs both.
    // Several: each error says which (`-c #2, line 1`).
    const many = options.commands.length > 1;
    return options.commands.flatMap((text, i) => fromScript(text, many ? `-c #${i + 1}` : '-c', options.implicitCommand));
  }
  if (options.file !== undefined && options.file !== '-') {
    let source: string;
    try {
      // Read at once: nothing else runs yet, and the asynchronous read would
      // start libuv's thread pool for it alone (four threads, four hand-offs).
      source = readFileSync(options.file, 'utf8');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new InputError(`cannot read ${options.file}: ${reason}`);
    }
    return fromScript(source, options.file, options.implicitCommand);
  }
  return fromScript(await readAll(stdin()), 'stdin', options.implicitCommand);
}

function fromScript(source: string, origin: string, implicitCommand: boolean): SourcedStatement[] {
  return splitScript(source).map((s) => ({ text: (implicitCommand ? withImplicitCommand(s) : s).text, origin, line: s.line }));
}

async function readAll(stream: Readable): Promise<string> {
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) text += chunk as string;
  return text;
}
