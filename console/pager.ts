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

/** A pager run for a streamed result: text is written to it as it comes, with its pipe's backpressure. */
export interface PagerSink {
  /** Resolves when more may be written; after the person has quit the pager, at once (the text goes nowhere). */
  write(text: string): Promise<void>;
  /** Ends the text and resolves once the person has left the pager. */
  end(): Promise<void>;
  /** True once the pager has gone (the person quit it before the end): the writer may stop reading. */
  readonly gone: boolean;
}

/** A pager that can also take a text written a piece at a time. */
export type StreamingPager = Pager & { open(): PagerSink };

/** Text a pager that could not start gets printed as it is; a stream keeps this much of it (after that the pager is known to run). */
const REPLAY_BYTES = 1 << 20;

/**
 * A pager for this terminal, or null when there is none to use (not a
 * terminal, turned off). The pager reads the text from a pipe and the keys
 * from the terminal; while it runs, Ctrl-C belongs to it, so this process
 * ignores SIGINT. A pager that cannot be started (`sh: …: not found`, status
 * 127) leaves the text to be printed as it is. `open` runs it for a text
 * written a piece at a time (a streamed result).
 */
export function terminalPager(term: PagerTerminal, before?: () => void, after?: () => void): StreamingPager | null {
  if (term.stdout.isTTY !== true) return null;
  const command = pagerCommand(term.env);
  if (command === null) return null;
  const open = (replayLimit = REPLAY_BYTES): PagerSink => {
    before?.();
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: term.env as NodeJS.ProcessEnv });
    // The person may quit before reading everything: the pipe then breaks, which is fine.
    child.stdin.on('error', () => undefined);
    let replay: string[] | null = [];
    let kept = 0;
    let failed = false;
    let status: number | null | undefined;
    const closed = new Promise<void>((resolve) => {
      const done = (code: number | null) => {
        if (status !== undefined) return;
        status = code;
        process.off('SIGINT', ignore);
        after?.();
        if (code === 127 && replay !== null) {
          failed = true;
          term.stdout.write(replay.join(''));
        }
        replay = null;
        resolve();
      };
      child.once('error', () => done(127));
      child.once('close', (code) => done(code));
    });
    return {
      get gone() {
        return status !== undefined && !failed;
      },
      async write(text) {
        if (failed) {
          if (!term.stdout.write(text)) await new Promise((r) => term.stdout.once('drain', r));
          return;
        }
        if (status !== undefined) return;
        if (replay !== null) {
          replay.push(text);
          kept += text.length;
          if (kept > replayLimit) replay = null;
        }
        if (!child.stdin.write(text)) await Promise.race([new Promise((r) => child.stdin.once('drain', r)), closed]);
      },
      async end() {
        if (status === undefined) child.stdin.end();
        await closed;
      },
    };
  };
  const page = async (text: string): Promise<void> => {
    // A whole text is kept whole, for the terminal if the pager cannot start.
    const sink = open(Infinity);
    await sink.write(text.endsWith('\n') ? text : text + '\n');
    await sink.end();
  };
  return Object.assign(page, { open });
}
