import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlowS3, type SlowS3 } from '../e2e/slow-s3.js';
import { Tmux, tmuxAvailable } from '../e2e/tmux.js';
import { startHarness, TOKENS, type Harness } from '../http/harness.js';
import { CLI, needNotebook, notebook, startIPython, type CellReport, type Notebook } from './ipython.js';

/**
 * Long imports in real IPython: the progress bar the magic draws from the
 * CLI's progress side channel (MLMODEL_PROGRESS_FD), and Ctrl-C — SIGINT
 * sent to the IPython process, as a notebook's "interrupt kernel" does —
 * stopping the query with one line, the CLI process gone or the HTTP
 * request dropped, and nothing recorded. The archive comes from a loopback
 * S3 endpoint that serves it slowly (test/e2e/slow-s3.ts).
 */
let nb: Notebook | Error;
let slow: SlowS3;
let small: SlowS3;

beforeAll(async () => {
  nb = await notebook();
  slow = await startSlowS3();
  // 3 MiB at 128 KiB every 50 ms: about 1.2 s, longer than the bar's 300 ms delay.
  small = await startSlowS3({ payload: 3 * 1024 * 1024 });
}, 600_000);

afterAll(async () => {
  await slow?.close();
  await small?.close();
});

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes whose command line names `marker` (the CLI runs with --home <a directory of this test>). */
function processesNaming(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(marker)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const PROGRESS_LINE = /^import +\[[█░]+\] +\d+% +[\d.]+ (B|KiB|MiB) \/ [\d.]+ MiB/;

describe('through the CLI', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(() => {
    if (nb instanceof Error) return;
    home = join(nb.root, 'cli-home');
    env = { MLMODEL_CLI: `${process.execPath} ${CLI}`, MLMODEL_USER: 'dana', MLMODEL_CONNECTOR_SLOW: slow.url, MLMODEL_CONNECTOR_SMALL: small.url };
  });

  it('draws a progress bar that updates in place and is wiped when the import is done', async (ctx) => {
    const py = needNotebook(nb, ctx);
    const cells = await startIPython(py, ['%load_ext mlmodel_magic', `%mlmodel --home ${home} import name=smallmodel type=tf path=OBJECTSTORAGE.SMALL:big.tar`], env).report;
    const cell = cells[1]!;
    expect(cell.error).toBeUndefined();
    expect(cell.result!.frame!.data[0]!.slice(0, 2)).toEqual(['ok', 'smallmodel']);
    const p = cell.progress;
    // One display, then updates of it: a notebook shows one bar, not a column of them.
    expect(p.length).toBeGreaterThanOrEqual(3);
    expect(p[0]!.update).toBe(false);
    expect(p.slice(1).every((u) => u.update)).toBe(true);
    const drawn = p.slice(0, -1);
    for (const u of drawn) {
      expect(u.data['text/plain']).toMatch(PROGRESS_LINE);
      expect(u.data['text/html']).toMatch(/^<div class="mlmodel-progress"><progress value="[01]\.\d{4}" max="1"><\/progress> <code>import +\[/);
    }
    const percents = drawn.map((u) => Number(/(\d+)%/.exec(u.data['text/plain']!)![1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(p.at(-1)!.data).toEqual({ 'text/plain': '' });
    // The cell's own output is only its result: no progress text left in it.
    expect(cell.stdout).not.toContain('import  [');
  }, 120_000);

  it('stops at SIGINT with one line, the CLI process gone and nothing recorded', async (ctx) => {
    const py = needNotebook(nb, ctx);
    const abortedBefore = slow.aborted();
    const servedBefore = slow.served();
    const query = 'import name=slowmodel type=tf path=OBJECTSTORAGE.SLOW:big.tar';
    const ipy = startIPython(
      py,
      [
        '%load_ext mlmodel_magic',
        `%mlmodel --home ${home} ${query}`,
        `%mlmodel --home ${home} list | where name = slowmodel | fields name`,
        // The time limit cancels the same way.
        `%mlmodel --home ${home} --timeout 2 import name=late type=tf path=OBJECTSTORAGE.SLOW:big.tar`,
        `%mlmodel --home ${home} list | where name = late | fields name`,
      ],
      env,
    );
    // Bytes flowing, and longer than the bar's delay: the import is well under way.
    await until('the import to be under way', () => slow.served() - servedBefore > 512 * 1024);
    await new Promise((r) => setTimeout(r, 800));
    expect(processesNaming(home)).toHaveLength(1);
    ipy.child.kill('SIGINT');
    const cells = await ipy.report;
    const cell = cells[1]!;
    expect(cell.success).toBe(false);
    expect(cell.error).toEqual({ type: 'Interrupted', code: 'INTERRUPTED', rendered: `interrupted: ${query}` });
    for (const text of [cell.stdout, cell.stderr]) {
      expect(text).not.toContain('Traceback');
      expect(text).not.toContain('KeyboardInterrupt');
    }
    expect(cell.progress.some((u) => PROGRESS_LINE.test(u.data['text/plain'] ?? ''))).toBe(true);
    expect(cell.progress.at(-1)!.data).toEqual({ 'text/plain': '' });
    // The CLI was cancelled, not left running: it dropped the download and exited; the next cells ran. (The
    // timed-out import may be cancelled before its download begins, on a busy machine: it counts at most one more.)
    await until('the server to see the download dropped', () => slow.aborted() >= abortedBefore + 1, 5000);
    expect(slow.aborted()).toBeLessThanOrEqual(abortedBefore + 2);
    expect(slow.served()).toBeLessThan(servedBefore + slow.size);
    expect(processesNaming(home)).toEqual([]);
    expect(cells[2]!.error).toBeUndefined();
    expect(cells[2]!.result!.frame!.data).toEqual([]);
    expect(cells[3]!.error).toEqual({ type: 'QueryError', code: 'TIMEOUT', rendered: 'mlmodel: the query ran longer than 2 s and was cancelled (TIMEOUT)' });
    expect(cells[3]!.stdout).not.toContain('Traceback');
    expect(cells[4]!.result!.frame!.data).toEqual([]);
    expect(processesNaming(home)).toEqual([]);
  }, 120_000);
});

describe('in a terminal IPython (tmux)', () => {
  it('draws the bar as one line on stderr; Ctrl-C from the terminal stops the import with one line', async (ctx) => {
    const py = needNotebook(nb, ctx);
    if (!tmuxAvailable()) {
      if (process.env.CI === 'true') throw new Error('tmux is required under CI');
      ctx.skip('no tmux');
    }
    const home = join(py.root, 'tty-home');
    const abortedBefore = slow.aborted();
    const t = Tmux.start({
      command: [py.python, '-m', 'IPython', '--quick', '--no-banner', '--colors=NoColor', '--ext=mlmodel_magic'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: py.root,
        IPYTHONDIR: join(py.root, '.ipython-tty'),
        PYTHONPATH: py.site,
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        TZ: 'UTC',
        MLMODEL_CLI: `${process.execPath} ${CLI}`,
        MLMODEL_USER: 'dana',
        MLMODEL_CONNECTOR_SLOW: slow.url,
      },
      width: 140,
      height: 30,
    });
    try {
      await t.waitFor(/In \[1\]:/, 60_000, 'the IPython prompt');
      const query = 'import name=tty type=tf path=OBJECTSTORAGE.SLOW:big.tar';
      t.type(`%mlmodel --home ${home} ${query}`);
      t.press('Enter');
      const screen = await t.waitFor(/^import +\[[█░]+\] +\d+% +[\d.]+ (KiB|MiB) \/ 64\.0 MiB/m, 60_000, 'the progress line');
      // Rewritten in place: one line, not one per update.
      expect(screen.split('\n').filter((l) => l.startsWith('import ')).length).toBe(1);
      t.press('C-c');
      const after = await t.waitFor(/In \[2\]:/, 30_000, 'the next prompt');
      expect(after).toContain(`interrupted: ${query}`);
      expect(after).not.toContain('Traceback');
      expect(after).not.toContain('KeyboardInterrupt');
      expect(after).not.toMatch(/^import +\[/m);
      // The CLI had a session of its own, so the terminal's Ctrl-C reached it only through the magic: it exited cleanly.
      await until('the server to see the download dropped', () => slow.aborted() === abortedBefore + 1, 10_000);
      expect(processesNaming(home)).toEqual([]);
      t.type(`%mlmodel --home ${home} list | where name = tty | fields name`);
      t.press('Enter');
      await t.waitFor(/Out\[\d+\]:[\s\S]*Empty DataFrame/, 30_000, 'an empty list');
      t.type('exit');
      t.press('Enter');
      expect(await t.waitForExit(20_000)).toEqual({ code: 0, signal: null });
    } finally {
      t.kill();
    }
  }, 180_000);
});

describe('over the HTTP query API', () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('stops at SIGINT with one line; the dropped request cancels the import on the server', async (ctx) => {
    const py = needNotebook(nb, ctx);
    h = await startHarness({ connectors: { SLOW: slow.url } });
    const abortedBefore = slow.aborted();
    const servedBefore = slow.served();
    const query = 'import name=slowmodel type=tf path=OBJECTSTORAGE.SLOW:big.tar';
    const ipy = startIPython(py, ['%load_ext mlmodel_magic', `%%mlmodel\n# a slow one\n${query}\nlist`, '%mlmodel list | fields name'], {
      MLMODEL_URL: h.url,
      MLMODEL_TOKEN: TOKENS.alice,
    });
    await until('the import to be under way', () => slow.served() - servedBefore > 512 * 1024);
    ipy.child.kill('SIGINT');
    const cells: CellReport[] = await ipy.report;
    const cell = cells[1]!;
    expect(cell.error).toEqual({ type: 'Interrupted', code: 'INTERRUPTED', rendered: `interrupted: ${query} …` });
    expect(cell.stdout).not.toContain('Traceback');
    await until('the server to drop the download', () => slow.aborted() === abortedBefore + 1, 10_000);
    expect(cells[2]!.error).toBeUndefined();
    expect(cells[2]!.result!.frame!.data).toEqual([]);
    expect((await h.registry.run('mlmodel list | where name = slowmodel')).rows).toEqual([]);
  }, 120_000);
});
