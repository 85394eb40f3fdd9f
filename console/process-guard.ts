import { redact } from '../src/config/redact.js';
import { EXIT_QUERY_FAILED } from './exit-codes.js';
import { terminalText } from './render/terminal-text.js';

type Proc = Pick<NodeJS.Process, 'stdout' | 'stderr' | 'exit'> & { exitCode?: number | string | undefined | null };

/**
 * A reader that stops reading (`mlmodel … | head -1`) closes the pipe; the
 * next write fails with EPIPE, emitted on the stream. Unheard, Node turns it
 * into a stack trace. `main` cancels the run when it happens during one; a
 * late one (the last write's) changes nothing, so it is dropped here.
 */
export function swallowClosedOutput(proc: Proc): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') return;
      failQuietly(e, proc);
    });
  }
}

/**
 * The last resort for an error no layer handled: one line on stderr, URL
 * passwords and credential parameters removed, control characters escaped,
 * never a stack trace; status 1.
 */
export function failQuietly(e: unknown, proc: Proc): void {
  const message = e instanceof Error ? e.message : String(e);
  const name = e instanceof Error && e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  try {
    proc.stderr.write(`mlmodel: internal error: ${terminalText(redact(`${name}${message}`))}\n`);
  } catch {
    // stderr itself is gone: nothing more can be said.
  }
  proc.exit(EXIT_QUERY_FAILED);
}
