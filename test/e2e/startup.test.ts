import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tmux } from './tmux.js';

/**
 * What the built CLI loads on each path: batch runs (-c, -f, a pipe, --parse)
 * must not load Ink or React, which only the interactive console needs, nor a
 * database driver the configuration does not use.
 */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const HOOK = new URL('./record-loads.mjs', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-startup-'));

function loadsOf(args: string[], input = '', extraEnv: Record<string, string> = {}): { status: number | null; stdout: string; loaded: string[] } {
  const file = join(root, `loads-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', HOOK, CLI, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root', MLMODEL_TEST_LOADS: file, ...extraEnv },
  });
  const loaded = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  rmSync(file);
  return { status: r.status, stdout: r.stdout, loaded };
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

const UI = /node_modules\/(ink|react|react-reconciler|yoga-layout|ink-testing-library)\/|\/dist\/console\/repl\//;
const DRIVERS = /node_modules\/(mongodb|minio)\//;

describe('start-up of the non-interactive paths', () => {
  it('-c on the embedded store loads SQLite, but no Ink, React or the REPL', () => {
    const r = loadsOf(['-c', 'mlmodel list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(0 rows)');
    // The hook does see packages: the store's driver and the table renderer are there.
    expect(r.loaded.some((u) => /node_modules\/better-sqlite3\//.test(u))).toBe(true);
    expect(r.loaded.some((u) => /node_modules\/cli-table3\//.test(u))).toBe(true);
    expect(r.loaded.filter((u) => UI.test(u))).toEqual([]);
  });

  it('-c on the embedded store loads neither the MongoDB nor the MinIO driver, even with a connector configured', () => {
    const r = loadsOf(['-c', 'mlmodel list'], '', { MLMODEL_CONNECTOR_ARCHIVE: 'http://AK:s3cr3tkey@127.0.0.1:9/bucket' });
    expect(r.status).toBe(0);
    expect(r.loaded.filter((u) => DRIVERS.test(u))).toEqual([]);
    // The hook would see them: a dynamic import of each driver is recorded.
    const file = join(root, 'control.txt');
    const control = spawnSync(process.execPath, ['--import', HOOK, '--input-type=module', '-e', "await import('mongodb'); await import('minio');"], {
      cwd: new URL('../../', import.meta.url).pathname,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MLMODEL_TEST_LOADS: file },
    });
    expect(control.status).toBe(0);
    const seen = readFileSync(file, 'utf8');
    expect(seen).toMatch(/node_modules\/mongodb\//);
    expect(seen).toMatch(/node_modules\/minio\//);
  });

  it('-c loads neither ONNX Runtime nor the serving engine; a dynamic import of it would be seen', () => {
    const r = loadsOf(['-c', 'mlmodel list']);
    expect(r.status).toBe(0);
    expect(r.loaded.filter((u) => /node_modules\/onnxruntime-(node|common)\/|\/dist\/src\/serving\/model-server\.js/.test(u))).toEqual([]);
    const file = join(root, 'control-ort.txt');
    const control = spawnSync(process.execPath, ['--import', HOOK, '--input-type=module', '-e', "await import('onnxruntime-node');"], {
      cwd: new URL('../../', import.meta.url).pathname,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MLMODEL_TEST_LOADS: file },
    });
    expect(control.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/node_modules\/onnxruntime-node\//);
  });

  it('a piped batch, -f and --parse load no Ink or React either', () => {
    const piped = loadsOf(['--format', 'csv'], '# list\nmlmodel list | fields name\n');
    expect(piped.stdout).toBe('name\r\n');
    expect(piped.loaded.filter((u) => UI.test(u))).toEqual([]);
    const script = join(root, 'jobs.mlq');
    writeFileSync(script, 'mlmodel list\n');
    const fromFile = loadsOf(['-f', script]);
    expect(fromFile.status).toBe(0);
    expect(fromFile.loaded.filter((u) => UI.test(u))).toEqual([]);
    const parsed = loadsOf(['--parse', '-c', 'mlmodel list | head 1']);
    expect(parsed.status).toBe(0);
    expect(parsed.loaded.filter((u) => UI.test(u) || DRIVERS.test(u) || /better-sqlite3/.test(u))).toEqual([]);
  });
});

describe('start-up of the interactive console', () => {
  it('loads Ink and React (so the checks above would see them)', async () => {
    const file = join(root, 'repl-loads.txt');
    const t = Tmux.start({
      command: [process.execPath, '--import', HOOK, CLI],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, MLMODEL_HOME: join(root, 'home'), TERM: 'xterm-256color', MLMODEL_TEST_LOADS: file },
    });
    try {
      await t.waitFor(() => t.lastLine() === 'mlmodel>', 15_000, 'the prompt');
      t.press('C-d');
      expect(await t.waitForExit()).toEqual({ code: 0, signal: null });
    } finally {
      t.kill();
    }
    expect(existsSync(file)).toBe(true);
    const loaded = readFileSync(file, 'utf8');
    expect(loaded).toMatch(/node_modules\/ink\//);
    expect(loaded).toMatch(/node_modules\/react\//);
    expect(loaded).toMatch(/\/dist\/console\/repl\/app\.js/);
  });
});
