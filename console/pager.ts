/**
 * A pager for results taller than the terminal, as psql does: only when the
 * output is a terminal, through `$MLMODEL_PAGER` or `$PAGER` (an empty value
 * turns paging off) or else `less -SR` (long lines scroll sideways, colours
 * pass through), and never with `--no-pager` or the console's `\pager off`.
 */
import { spawn } from 'node:child_process';

/** Runs one text through the pager; resolves once the person has left it. */
export type Pager = (text: string) => Promise<void>;

export interface PagerTerminal {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; rows?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_PAGER = 'less -SR';

/** The pager's shell command, or null when paging is off. */
export function pagerCommand(env: PagerTerminal['env']): string | null {
  const chosen = env.MLMODEL_PAGER ?? env.PAGER;
  if (chosen === undefined) return DEFAULT_PAGER;
  return chosen.trim() === '' ? null : chosen;
}

/** Whether `text` needs more lines than the terminal has (one is kept for the prompt). */
export function tallerThan(text: string, rows: number | undefined): boolean {
  if (!rows || rows <= 1) return false;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1 && lines < rows; i = text.indexOf('\n', i + 1)) lines++;
  return lines >= rows;
}

/**
 * A pager for this terminal, or null when there is none to use (not a
 * terminal, turned off). The pager reads the text from a pipe and the keys
 * from the terminal; while it runs, Ctrl-C belongs to it, so this process
 * ignores SIGINT. A pager that cannot be started (`sh: …: not found`, status
 * 127) leaves the text to be printed as it is.
 */
export function terminalPager(term: PagerTerminal, before?: () => void, after?: () => void): Pager | null {
  if (term.stdout.isTTY !== true) return null;
  const command = pagerCommand(term.env);
  if (command === null) return null;
  return (text) =>
    new Promise<void>((resolve) => {
      before?.();
      const ignore = () => undefined;
      process.on('SIGINT', ignore);
      const child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: term.env as NodeJS.ProcessEnv });
      // The person may quit before reading everything: the pipe then breaks, which is fine.
      child.stdin.on('error', () => undefined);
      child.stdin.end(text.endsWith('\n') ? text : text + '\n');
      let settled = false;
      const done = (status: number | null) => {
        if (settled) return;
        settled = true;
        process.off('SIGINT', ignore);
        after?.();
        if (status === 127) term.stdout.write(text.endsWith('\n') ? text : text + '\n');
        resolve();
      };
      child.once('error', () => done(127));
      child.once('close', (code) => done(code));
    });
}
