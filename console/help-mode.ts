import type { Writable } from 'node:stream';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import type { SourcedStatement } from './statements.js';

/** `help`, `mlmodel help` or `help deploy` as a whole line: the topic ('' for general help). */
const HELP = /^\s*(?:mlmodel\s+)?help(?:\s+(\S+))?\s*;?\s*$/i;

/**
 * The REPL's `help` and `help TOPIC` outside the REPL, for a batch that is
 * only that one line (`mlmodel help deploy`, `-c 'help deploy'`, the
 * notebook's `%mlmodel help deploy`): the same text, from the same command
 * declarations. Undefined for anything else, which runs as queries.
 */
export function helpTopicOf(statements: readonly SourcedStatement[]): string | undefined {
  if (statements.length !== 1) return undefined;
  const m = HELP.exec(statements[0]!.text);
  return m ? (m[1] ?? '') : undefined;
}

/** Prints the help for `topic` on stdout, or a did-you-mean on stderr (status 2) for a topic help does not know. */
export async function runHelp(topic: string, out: { stdout: Writable; stderr: Writable }): Promise<number> {
  // The grammar and every command module load only for help, not for each query's start.
  const { helpAnswer } = await import('./repl/help.js');
  const answer = helpAnswer(topic);
  if ('text' in answer) {
    out.stdout.write(answer.text + '\n');
    return EXIT_OK;
  }
  out.stderr.write(`mlmodel: ${answer.unknown}\n`);
  return EXIT_USAGE;
}
