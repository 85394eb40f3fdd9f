/**
 * Drives a program in a real pseudo-terminal through tmux: type, press keys,
 * read the screen. Each session gets its own tmux server (its own socket), so
 * tests never touch a person's tmux, and the server ends with the session.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TmuxOptions {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly width?: number;
  readonly height?: number;
}

let counter = 0;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class Tmux {
  readonly socket: string;

  private constructor(socket: string) {
    this.socket = socket;
  }

  static start(options: TmuxOptions): Tmux {
    const socket = `mlmodel-e2e-${process.pid}-${counter++}`;
    const t = new Tmux(socket);
    const env = Object.entries(options.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    // `env -i …` gives the program exactly the environment the test names. The
    // shell around it prints the exit status on the screen: tmux 3.3 now and
    // then leaves an exited pane process unreaped, without a status. Its trap
    // keeps a Ctrl-C meant for the program from ending the shell first.
    const command = `trap true INT; env -i ${env.join(' ')} ${options.command.map(shellQuote).join(' ')}; echo "[exited $?]"`;
    t.tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(options.width ?? 120), '-y', String(options.height ?? 40), command);
    // Keep the pane after the program exits, to read its last screen and exit status.
    t.tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
    t.tmux('set-option', '-t', 'main', 'history-limit', '10000');
    return t;
  }

  tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', HOME: process.env.HOME ?? '/tmp' },
    });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** Presses keys by tmux name: Enter, Tab, Up, C-c, C-d, C-r … */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** The visible screen, trailing blanks trimmed. */
  screen(): string {
    return trimLines(this.tmux('capture-pane', '-p', '-t', 'main'));
  }

  /** The screen with its colours and attributes as escape sequences. */
  screenWithEscapes(): string {
    return this.tmux('capture-pane', '-p', '-e', '-t', 'main');
  }

  /** The whole scrollback and the screen. */
  scrollback(): string {
    return trimLines(this.tmux('capture-pane', '-p', '-t', 'main', '-S', '-'));
  }

  /** The program's exit: its status, or the signal that ended it; null while it runs. */
  exit(): { code: number | null; signal: number | null } | null {
    const m = /^\[exited (\d+)\]$/m.exec(this.scrollback());
    if (!m) return null;
    const n = Number(m[1]);
    return n > 128 ? { code: null, signal: n - 128 } : { code: n, signal: null };
  }

  /** Waits for the program to exit. */
  async waitForExit(timeoutMs = 10_000): Promise<{ code: number | null; signal: number | null }> {
    await this.waitFor(() => this.exit() !== null, timeoutMs, 'the program to exit');
    return this.exit()!;
  }

  /** Polls the screen until `test` holds; fails with the last screen after `timeoutMs`. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 15_000, what = String(test)): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      last = this.scrollback();
      if (ok(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
      await sleep(40);
    }
  }

  /** The last non-blank line of the screen (where the prompt is). */
  lastLine(): string {
    const lines = this.screen().split('\n').filter((l) => l.trim() !== '');
    return lines[lines.length - 1] ?? '';
  }

  kill(): void {
    let socketPath = '';
    try {
      socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
    // tmux leaves its socket file behind; a CI machine runs these tests often.
    if (socketPath) rmSync(socketPath, { force: true });
  }
}

function trimLines(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trimEnd();
}

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
}
