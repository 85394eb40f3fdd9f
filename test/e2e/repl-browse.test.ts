import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';
import { Tmux } from './tmux.js';

/**
 * Browsing a connector in the built `mlmodel`, in a real pseudo-terminal
 * (tmux): Tab completes keys after `path=OBJECTSTORAGE.X:` and aliases after
 * `NAME@`, and `mlmodel objects` lists what is there.
 */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-e2e-browse-'));
let env: Record<string, string>;

beforeAll(() => {
  const lake = join(root, 'lake');
  mkdirSync(join(lake, 'USERS', 'root', 'archive'), { recursive: true });
  writeFileSync(join(lake, 'USERS', 'root', 'mnist.tar'), archives.tfSavedModel());
  writeFileSync(join(lake, 'USERS', 'root', 'archive', 'old.tar'), archives.tfSavedModel());
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    MLMODEL_HOME: join(root, 'home'),
    MLMODEL_USER: 'root',
    TZ: 'UTC',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    MLMODEL_CONNECTOR_LAKE: lake,
    MLMODEL_CONNECTOR_GONE: join(root, 'gone'),
  };
  for (const q of ['mlmodel import name=mnist_v1 type=tf path=OBJECTSTORAGE.LAKE:USERS/root/mnist.tar', 'mlmodel alias mnist_v1@1 champion']) {
    const r = spawnSync(process.execPath, [CLI, '-c', q], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`${q} failed: ${r.stderr}`);
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('browsing connectors in the REPL', () => {
  let t: Tmux;
  beforeEach(async () => {
    t = Tmux.start({ command: [process.execPath, CLI], env, width: 120, height: 40 });
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 15_000, 'the first prompt');
  });
  afterEach(() => t?.kill());

  it('completes a key level by level with Tab, then lists it with mlmodel objects', async () => {
    t.type('mlmodel objects path=OBJECTSTORAGE.LAKE:U');
    t.press('Tab');
    await t.waitFor(() => t.lastLine() === 'mlmodel> mlmodel objects path=OBJECTSTORAGE.LAKE:USERS/', 5000, 'the first level');
    t.type('r');
    t.press('Tab');
    await t.waitFor(() => t.lastLine() === 'mlmodel> mlmodel objects path=OBJECTSTORAGE.LAKE:USERS/root/', 5000, 'the second level');
    t.press('Tab');
    // Two choices: listed under the prompt.
    await t.waitFor(/OBJECTSTORAGE\.LAKE:USERS\/root\/archive\/[\s\S]*OBJECTSTORAGE\.LAKE:USERS\/root\/mnist\.tar/, 5000, 'the choices');
    t.press('Enter');
    const screen = await t.waitFor(/\(2 rows\)/, 10_000, 'the listing');
    expect(screen).toMatch(/│ USERS\/root\/archive\/ +│ prefix │ +│ +│/);
    expect(screen).toMatch(/│ USERS\/root\/mnist\.tar +│ object │ +[\d.]+ (B|KiB|MiB) │ \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d │/);
  });

  it('completes an alias after NAME@ and runs it', async () => {
    t.type('mlmodel summary mnist_v1@ch');
    t.press('Tab');
    await t.waitFor(() => t.lastLine() === 'mlmodel> mlmodel summary mnist_v1@champion', 5000, 'the alias');
    t.type('version');
    t.press('Enter');
    await t.waitFor(/│ version │ 1 +│[\s\S]*\(1 row\)/, 10_000, 'the summary');
  });

  it('says plainly that a bucket does not exist, and names the nearest connector', async () => {
    t.type('mlmodel objects path=OBJECTSTORAGE.LAEK:');
    t.press('Enter');
    await t.waitFor(/unknown connector "LAEK"; did you mean LAKE\?/, 10_000, 'the did-you-mean');
    await t.waitFor(() => t.lastLine() === 'mlmodel>', 5000, 'the prompt back');
    t.type('mlmodel objects path=OBJECTSTORAGE.GONE:');
    t.press('Enter');
    await t.waitFor(/connector GONE: the directory \S+ does not exist/, 10_000, 'the missing bucket');
  });
});
