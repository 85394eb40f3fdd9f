import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { file, tar } from '../archive/tar-writer.js';
import { Tmux } from './tmux.js';

/**
 * Results taller than the terminal go through a pager, as psql's do: in the
 * console and in batch mode, only on a terminal, off with `\pager off`,
 * `--no-pager` or an empty PAGER. Driven in a real terminal (tmux) with the
 * machine's real less.
 */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-e2e-pager-'));
let env: Record<string, string>;
let t: Tmux | undefined;

beforeAll(() => {
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root', TZ: 'UTC', TERM: 'xterm-256color', LANG: 'C.UTF-8' };
  // 41 files: a `files` listing of 41 rows, taller than a 20-line terminal.
  const files = [file('saved_model.pb', 'x'), ...Array.from({ length: 40 }, (_, i) => file(`variables/v${String(i).padStart(2, '0')}`, String(i)))];
  writeFileSync(join(root, 'many.tar'), tar(...files));
  const r = spawnSync(process.execPath, [CLI, '-c', `mlmodel import name=many type=tf path=${join(root, 'many.tar')}`], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(r.stderr);
});

afterEach(() => {
  t?.kill();
  t = undefined;
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const QUERY = 'mlmodel files many | fields path, size';

/** less's prompt on the last line: `:` while there is more, `(END)` at the end. */
const inLess = (s: Tmux) => /^(:|\(END\))$/.test(s.lastLine());

describe('the pager', () => {
  it('shows a tall result in less at the console; q brings the prompt back with the row count', async () => {
    t = Tmux.start({ command: [process.execPath, CLI], env, width: 100, height: 20 });
    await t.waitFor(() => t!.lastLine() === 'mlmodel>', 15_000, 'the first prompt');
    t.type(QUERY);
    t.press('Enter');
    await t.waitFor(() => inLess(t!), 15_000, 'less');
    expect(t.screen()).toMatch(/│ variables\/v00 +│/);
    // Keys are less's now: G goes to the end.
    t.press('G');
    await t.waitFor(() => /│ variables\/v39 +│/.test(t!.screen()) && t!.lastLine() === '(END)', 5000, 'the end');
    t.press('q');
    await t.waitFor(/\(41 rows\) shown in the pager/, 10_000, 'the row count');
    await t.waitFor(() => t!.lastLine() === 'mlmodel>', 5000, 'the prompt back');
    // Typing reaches the console again; with the pager off the table prints in full.
    t.type('\\pager off');
    t.press('Enter');
    await t.waitFor(/Pager is off\./, 5000, 'the pager off');
    t.type(QUERY);
    t.press('Enter');
    await t.waitFor(/│ variables\/v39 +│ +2 B │\n└─+┴─+┘\n\(41 rows\)/, 10_000, 'the whole table');
  });

  it('pages a tall result of -c on a terminal, never with --no-pager or an empty PAGER', async () => {
    t = Tmux.start({ command: [process.execPath, CLI, '-c', QUERY], env, width: 100, height: 20 });
    await t.waitFor(() => inLess(t!), 15_000, 'less');
    t.press('q');
    expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    t.kill();

    t = Tmux.start({ command: [process.execPath, CLI, '--no-pager', '-c', QUERY], env, width: 100, height: 20 });
    expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    expect(t.scrollback()).toMatch(/│ variables\/v39 +│ +2 B │\n└─+┴─+┘\n\(41 rows\)/);
    t.kill();

    t = Tmux.start({ command: [process.execPath, CLI, '-c', QUERY], env: { ...env, PAGER: '' }, width: 100, height: 20 });
    expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    expect(t.scrollback()).toContain('(41 rows)');
  });

  it('leaves a result that fits, and output to a pipe, unpaged', async () => {
    t = Tmux.start({ command: [process.execPath, CLI, '-c', 'mlmodel list | fields name'], env, width: 100, height: 20 });
    expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    expect(t.scrollback()).toContain('│ many │');
    const piped = spawnSync(process.execPath, [CLI, '-c', QUERY], { encoding: 'utf8', env });
    expect(piped.stdout).toContain('(41 rows)');
  });
});
