import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';
import { startSlowS3, type SlowS3 } from './slow-s3.js';
import { Tmux } from './tmux.js';

/**
 * The built `mlmodel` in a real pseudo-terminal (tmux): what a person types
 * and what the screen then shows. Each step waits for the screen, never for
 * a fixed time.
 */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-e2e-repl-'));
const home = join(root, 'home');
let slow: SlowS3;
/** A slow archive small enough to finish: about a second of import to type over. */
let quick: SlowS3;
let env: Record<string, string>;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`mlmodel ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  slow = await startSlowS3();
  quick = await startSlowS3({ payload: 2 * 1024 * 1024, chunk: 64 * 1024, tickMs: 40 });
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    MLMODEL_HOME: home,
    MLMODEL_USER: 'root',
    TZ: 'UTC',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    MLMODEL_CONNECTOR_SLOW: slow.url,
    MLMODEL_CONNECTOR_QUICK: quick.url,
  };
  writeFileSync(join(root, 'mnist.tar'), archives.tfSavedModel());
  writeFileSync(join(root, 'iris.tar.gz'), archives.sklearn());
  cli(['-c', `mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep path=${join(root, 'mnist.tar')}`]);
  cli(['-c', `mlmodel import name=iris_classifier type=sklearn category=classification path=${join(root, 'iris.tar.gz')}`]);
});

afterAll(async () => {
  await slow?.close();
  await quick?.close();
  rmSync(root, { recursive: true, force: true });
});

const count = (text: string, needle: string) => text.split(needle).length - 1;

/**
 * A copy of the home the models were imported into, for one test: its own
 * store and its own history file, so what a test sees and recalls is what it
 * did itself, whatever ran before it.
 */
function homeOfItsOwn(): Record<string, string> {
  const copy = mkdtempSync(join(root, 'home-'));
  cpSync(home, copy, { recursive: true });
  return { ...env, MLMODEL_HOME: copy };
}

/** The REPL in a new terminal, on `env`, once its first prompt shows. */
async function startRepl(env: Record<string, string>, size = { width: 120, height: 40 }): Promise<Tmux> {
  const t = Tmux.start({ command: [process.execPath, CLI], env, ...size });
  try {
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 15_000, 'the first prompt');
  } catch (e) {
    t.kill();
    throw e;
  }
  return t;
}

/** Types a line, presses Enter, and waits for `answer` and then the prompt. */
async function enter(t: Tmux, line: string, answer: RegExp): Promise<string> {
  t.type(line);
  t.press('Enter');
  const screen = await t.waitFor(answer, 10_000, `the answer to ${line}`);
  await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
  return screen;
}

describe('the REPL in a terminal', () => {
  // A fresh REPL on a home of its own for each test: a clean screen, an empty
  // history, expanded display off (about a second each on a loaded machine).
  let t: Tmux;
  let replEnv: Record<string, string>;
  beforeEach(async () => {
    replEnv = homeOfItsOwn();
    t = await startRepl(replEnv);
  });
  afterEach(() => t?.kill());

  it('runs a typed query and draws the table within the window', async () => {
    t.type('mlmodel list');
    t.press('Enter');
    const screen = await t.waitFor(/\(2 rows\)/);
    // Nine columns need 124 screen columns: text columns give way (with an ellipsis), times and numbers do not.
    expect(screen).toMatch(/│ +1 │ root │ mnist_v1 +│ tf +│ classificat… │ deep +│ off +│ \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d │ \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d │/);
    expect(screen).toMatch(/│ +2 │ root │ iris_classi… │ sklearn │ classificat… │ +│ off/);
    for (const line of screen.split('\n')) expect(line.length).toBeLessThan(120);
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
  });

  it('completes a model name read from the store with Tab, then runs it', async () => {
    t.type('mlmodel summary iri');
    t.press('Tab');
    await t.waitFor(() => t.lastLine() === 'mlmodel> mlmodel summary iris_classifier', 5000, 'the completed name');
    t.type('format, type');
    t.press('Enter');
    const screen = await t.waitFor(/│ format │ pickle +│[\s\S]*│ type +│ sklearn +│[\s\S]*\(2 rows\)/);
    expect(screen).toContain('mlmodel> mlmodel summary iris_classifier format, type');
  });

  it('recalls history with Up and finds it with Ctrl-R', async () => {
    await enter(t, 'mlmodel list', /\(2 rows\)/);
    await enter(t, 'mlmodel summary iris_classifier format, type', /│ type +│ sklearn +│[\s\S]*\(2 rows\)/);
    t.press('Up');
    await t.waitFor(() => t.lastLine() === 'mlmodel> mlmodel summary iris_classifier format, type', 5000, 'the last entry');
    t.press('Up');
    await t.waitFor(() => t.lastLine() === 'mlmodel> mlmodel list', 5000, 'the entry before');
    t.press('C-u');
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'an empty line');
    t.press('C-r');
    t.type('lis');
    await t.waitFor(() => t.lastLine() === "(reverse-i-search)'lis': mlmodel list", 5000, 'the search');
    t.press('Enter');
    await t.waitFor((s) => count(s, '(2 rows)') === 3, 10_000, 'the list run again');
  });

  it('continues an entry after a trailing backslash and an open parenthesis', async () => {
    t.type('mlmodel list \\');
    t.press('Enter');
    await t.waitFor(() => t.lastLine() === '      ->', 5000, 'the continuation prompt');
    t.type('| where (name = mnist_v1');
    t.press('Enter');
    t.type(') | fields id, name');
    t.press('Enter');
    const screen = await t.waitFor(/│ id │ name +│\n├─+┼─+┤\n│ +1 │ mnist_v1 │\n└─+┴─+┘\n\(1 row\)/);
    expect(screen).toContain('      -> | where (name = mnist_v1\n      -> ) | fields id, name');
  });

  it('shows help with the BNF and an example', async () => {
    t.type('help summary');
    t.press('Enter');
    const screen = await t.waitFor(/Examples?:\n {2}mlmodel summary mnist_v1/);
    expect(screen).toContain('mlmodel SUMMARY model_ref [name_list]');
  });

  it('cancels a slow import with Ctrl-C: progress was shown, the prompt returns, no model is recorded', async () => {
    const abortedBefore = slow.aborted();
    t.type('mlmodel import name=slowmodel type=tf path=OBJECTSTORAGE.SLOW:big.tar');
    t.press('Enter');
    // Bytes done, the total, a rate and an ETA, under a bar.
    await t.waitFor(/import +\[[█░]+\] +\d+% +[\d.]+ (KiB|MiB) \/ 64\.0 MiB +[\d.]+ (KiB|MiB)\/s +ETA \d+s/, 15_000, 'the progress bar');
    expect(t.screen()).toContain('running… (Ctrl-C cancels)');
    t.press('C-c');
    await t.waitFor(/^cancelled$/m, 10_000, 'the cancellation');
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
    // The download was dropped, not read to the end (the server sees the socket close a moment later).
    await t.waitFor(() => slow.aborted() === abortedBefore + 1, 5000, 'the server to see the download dropped');
    expect(slow.served()).toBeLessThan(slow.size);
    t.type('mlmodel list | where name = slowmodel');
    t.press('Enter');
    await t.waitFor(/\(0 rows\)/, 10_000, 'an empty list');
    expect(t.exit()).toBeNull();
  });

  it('runs every query of a paste, in order, each with its own echo and answer', async () => {
    // Three Enter-terminated queries in one write, as a terminal delivers a paste.
    t.type('mlmodel list | where id = 1 | fields name\rmlmodel list | where id = 2 | fields name\rmlmodel summary mnist_v1 type\r');
    const screen = await t.waitFor(/│ type +│ tf +│[\s\S]*\(1 row\)/, 10_000, 'the third answer');
    const first = screen.indexOf('mlmodel> mlmodel list | where id = 1 | fields name');
    const second = screen.indexOf('mlmodel> mlmodel list | where id = 2 | fields name');
    const third = screen.indexOf('mlmodel> mlmodel summary mnist_v1 type');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(screen.indexOf('│ mnist_v1 │', first));
    expect(screen.indexOf('│ iris_classifier │', second)).toBeGreaterThan(second);
    expect(third).toBeGreaterThan(screen.indexOf('│ iris_classifier │', second));
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
  });

  it('keeps what is typed while an import runs and runs it when the import is done', async () => {
    t.type('mlmodel import name=quick_model type=tf path=OBJECTSTORAGE.QUICK:big.tar');
    t.press('Enter');
    await t.waitFor(/running… \(Ctrl-C cancels\)/, 10_000, 'the import running');
    t.type('mlmodel list | where name = quick_model | fields name, type');
    t.press('Enter');
    const screen = await t.waitFor(/│ quick_model │ tf +│\n└─+┴─+┘\n\(1 row\)/, 20_000, 'the typed-ahead list');
    // The import answered first, then the list that was typed during it.
    expect(screen.indexOf('mlmodel> mlmodel list | where name = quick_model')).toBeGreaterThan(screen.indexOf('mlmodel> mlmodel import name=quick_model'));
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
  });

  it('drops what was typed ahead when Ctrl-C cancels the running query', async () => {
    t.type('mlmodel import name=slowmodel2 type=tf path=OBJECTSTORAGE.SLOW:big.tar');
    t.press('Enter');
    await t.waitFor(/running… \(Ctrl-C cancels\)/, 10_000, 'the import running');
    t.type('mlmodel list | fields name | head 1');
    t.press('Enter');
    t.press('C-c');
    await t.waitFor(/^cancelled$/m, 10_000, 'the cancellation');
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
    expect(t.scrollback()).not.toContain('mlmodel> mlmodel list | fields name | head 1');
  });

  it('clears the screen with Ctrl-L, keeping the entry being typed, and with \\clear', async () => {
    await enter(t, 'mlmodel list | fields name', /\(2 rows\)/);
    t.type('mlmodel summary mni');
    t.press('C-l');
    await t.waitFor(() => t.screen() === 'mlmodel> mlmodel summary mni', 5000, 'a clear screen with the entry on top');
    t.type('st_v1 type');
    t.press('Enter');
    await t.waitFor(/│ type +│ tf +│/, 10_000, 'the answer');
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
    t.type('\\clear');
    t.press('Enter');
    await t.waitFor(() => t.screen() === 'mlmodel>', 5000, 'a clear screen');
    // The scrollback keeps what was on the screen, as readline's clear-screen does.
    expect(t.scrollback()).toContain('│ iris_classifier │');
  });

  it('toggles expanded display with \\x', async () => {
    t.type('\\x');
    t.press('Enter');
    await t.waitFor(/Expanded display is on\./);
    t.type('mlmodel list | where id = 1 | fields id, name');
    t.press('Enter');
    await t.waitFor(/-\[ RECORD 1 \]-+\nid {3}\| 1\nname \| mnist_v1\n\(1 row\)/);
    t.type('\\x');
    t.press('Enter');
    await t.waitFor(/Expanded display is off\./);
  });

  it('leaves on Ctrl-D with status 0; the history file has the entries but no secrets', async () => {
    await enter(t, 'mlmodel list', /\(2 rows\)/);
    await enter(t, 'mlmodel summary iris_classifier format, type', /│ type +│ sklearn +│[\s\S]*\(2 rows\)/);
    await enter(t, 'help summary', /Examples?:\n {2}mlmodel summary mnist_v1/);
    await enter(t, '\\x', /Expanded display is on\./);
    t.type('mlmodel list \\');
    t.press('Enter');
    t.type('| where (name = mnist_v1');
    t.press('Enter');
    await enter(t, ') | fields id, name', /\(1 row\)/);
    t.type("mlmodel export name=mnist_v1 path=OBJECTSTORAGE.SLOW:x.tar token=abc123");
    t.press('Enter');
    await t.waitFor(/export has no option token/);
    t.press('C-c');
    await t.waitFor(/To leave, press Ctrl-C again or Ctrl-D/);
    t.press('C-d');
    expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    // The prompt Ctrl-D was pressed at stays on the screen, above the shell's next line.
    expect(t.screen()).toMatch(/^mlmodel>\n+\[exited 0\]$/m);
    const file = join(replEnv.MLMODEL_HOME!, 'history');
    const history = readFileSync(file, 'utf8').split('\n');
    // One entry a line; a backslash is doubled and a line break is written \n.
    expect(history).toEqual(expect.arrayContaining(['mlmodel list', 'mlmodel summary iris_classifier format, type', 'help summary', '\\\\x']));
    expect(history).toContain('mlmodel list \\\\\\n| where (name = mnist_v1\\n) | fields id, name');
    expect(history.join('\n')).not.toContain('abc123');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('a new session', () => {
  it('starts with the history of the last one', async () => {
    const own = homeOfItsOwn();
    const last = await startRepl(own, { width: 100, height: 20 });
    try {
      await enter(last, 'mlmodel list | head 1', /\(1 row\)/);
      await enter(last, '\\x', /Expanded display is on\./);
      last.press('C-d');
      expect(await last.waitForExit()).toEqual({ code: 0, signal: null });
    } finally {
      last.kill();
    }
    const t = await startRepl(own, { width: 100, height: 20 });
    try {
      t.press('Up');
      await t.waitFor(() => t.lastLine() === 'mlmodel> \\x', 5000, 'the last entry of the previous session');
      t.press('C-u', 'C-d');
      expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    } finally {
      t.kill();
    }
  });
});

describe('batch progress', () => {
  it('is one line on a terminal stderr that rewrites itself, and is wiped before the error', async () => {
    const t = Tmux.start({
      command: [process.execPath, CLI, '-c', 'mlmodel import name=slow2 type=tf path=OBJECTSTORAGE.SLOW:big.tar'],
      env,
      width: 100,
      height: 10,
    });
    try {
      const screen = await t.waitFor(/^import +\[[█░]+\] +\d+% +[\d.]+ (KiB|MiB) \/ 64\.0 MiB/m, 15_000, 'the progress line');
      expect(screen.split('\n').filter((l) => l.startsWith('import')).length).toBe(1);
      t.press('C-c');
      expect(await t.waitForExit()).toEqual({ code: 1, signal: null });
      const after = t.scrollback();
      expect(after).toMatch(/error at -c, line 1: .*cancelled.* \(CANCELLED\)/);
      expect(after).not.toMatch(/^import +\[/m);
    } finally {
      t.kill();
    }
  });

  it('prints nothing on stderr that is not a terminal', async () => {
    const child = spawn(process.execPath, [CLI, '-c', 'mlmodel import name=slow3 type=tf path=OBJECTSTORAGE.SLOW:big.tar'], { env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const servedBefore = slow.served();
    // Wait until bytes are flowing, then a while longer than the progress line's delay.
    const deadline = Date.now() + 15_000;
    while (slow.served() - servedBefore < 512 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 800));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(slow.served() - servedBefore).toBeGreaterThan(512 * 1024);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error at -c, line 1: .* \(CANCELLED\)\n$/);
  });
});

describe('colour', () => {
  async function listOnTerminal(extra: Record<string, string>): Promise<string> {
    const t = Tmux.start({ command: [process.execPath, CLI, '-c', 'mlmodel list'], env: { ...env, ...extra }, width: 140, height: 12 });
    try {
      expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
      expect(t.screen()).toContain('(2 rows)');
      return t.screenWithEscapes();
    } finally {
      t.kill();
    }
  }

  it('is on for a terminal and off under NO_COLOR', async () => {
    // Bold header cells, grey rules.
    // eslint-disable-next-line no-control-regex -- an ANSI escape is what is looked for
    expect(await listOnTerminal({})).toMatch(/\x1b\[[0-9;]*m[^\n]*│/);
    expect(await listOnTerminal({ NO_COLOR: '1' })).not.toContain('\x1b[');
  });

  it('is off when the output is a pipe, even from a terminal', () => {
    const r = spawnSync(process.execPath, [CLI, '-c', 'mlmodel list'], { encoding: 'utf8', env: { ...env, FORCE_COLOR: '1' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(2 rows)');
    expect(r.stdout).not.toContain('\x1b[');
  });
});
