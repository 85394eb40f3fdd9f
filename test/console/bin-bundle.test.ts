import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../scripts/node-flags.js';
import { archives } from '../integration/archives.js';

/**
 * The `mlmodel` bin is a /bin/sh launcher (scripts/snapshot.ts) that restores
 * the command line from a V8 startup snapshot when the node on PATH is the one
 * that built it, and otherwise runs the command line bundled by esbuild
 * (scripts/bundle.ts). Each way must be the same program as
 * dist/console/cli.js — the same output, errors and statuses — and load only
 * what `-c` needs: not the REPL's Ink and React, not a server's driver, not TLS.
 */
const PACKAGE = new URL('../../', import.meta.url);
const BIN = new URL((JSON.parse(readFileSync(new URL('package.json', PACKAGE), 'utf8')) as { bin: { mlmodel: string } }).bin.mlmodel, PACKAGE)
  .pathname;
const ESM_BIN = new URL('dist/bin/mlmodel.js', PACKAGE).pathname;
const BLOB = new URL('dist/bin/mlmodel.blob', PACKAGE).pathname;
const UNBUNDLED = new URL('dist/console/cli.js', PACKAGE).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-bin-'));
const archive = join(root, 'mnist.tar');
writeFileSync(archive, archives.tfSavedModel());
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The ways the command line is run: the launcher, the snapshot restored by hand, the ESM bundle, tsc's output. */
const WAYS = {
  launcher: [BIN],
  snapshot: [process.execPath, ...NODE_FLAGS, '--snapshot-blob', BLOB, ESM_BIN],
  bundle: [process.execPath, ESM_BIN],
  unbundled: [process.execPath, UNBUNDLED],
} as const;

function run(way: readonly string[], home: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(way[0]!, [...way.slice(1), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', TZ: 'UTC', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A directory holding `node`, a symbolic link to `target`. */
function linkTo(target: string): string {
  const dir = mkdtempSync(join(root, 'link-'));
  symlinkSync(target, join(dir, 'node'));
  return dir;
}

/** Whether a run took the ESM bin: Node's module debug log names better-sqlite3's JavaScript only then (the snapshot holds it). */
function ranTheEsmBin(stderr: string): boolean {
  return /better-sqlite3\/lib\/index\.js/.test(stderr);
}

describe('the bundled mlmodel bin', () => {
  it('is package.json\'s bin: a launcher beside the ESM bundle and the snapshot this node built', () => {
    expect(BIN).toMatch(/dist\/bin\/mlmodel$/);
    expect(readFileSync(BIN, 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
    expect(readFileSync(ESM_BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(existsSync(BLOB)).toBe(true);
  });

  it('answers as the unbundled command line does: tables, formats, parse errors and failures with their statuses', () => {
    const queries: string[][] = [
      ['-c', `mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep path=${archive}`, '-c', 'mlmodel list | fields name, type'],
      ['--format', 'jsonl', '-c', 'mlmodel list | where type = tf | fields id, name'],
      ['--format', 'csv', '-c', 'mlmodel summary mnist_v1 format'],
      ['-c', 'mlmodel list | where'],
      ['-c', 'mlmodel summary no_such_model'],
      ['--no-such-flag'],
      ['--version'],
    ];
    const ways = Object.keys(WAYS) as (keyof typeof WAYS)[];
    const homes = Object.fromEntries(ways.map((w) => [w, mkdtempSync(join(root, `${w}-`))]));
    // Times and ids of the import differ by nothing but the clock; compare what does not.
    const norm = (s: string) => s.replace(/\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/g, 'T').replace(/\d+(\.\d+)? ?ms/g, 'N ms');
    for (const q of queries) {
      const answers = ways.map((w) => {
        const r = run(WAYS[w], homes[w]!, q);
        return { q, status: r.status, stdout: norm(r.stdout), stderr: norm(r.stderr) };
      });
      for (const [i, a] of answers.entries()) expect(a, ways[i]).toEqual(answers[answers.length - 1]);
    }
    // Twenty-eight whole processes; a hang bound only, generous for a loaded machine.
  }, 240_000);

  it('restores the snapshot from the launcher, and runs the ESM bin when the snapshot is not this node\'s', () => {
    const q = ['--format', 'csv', '-c', 'mlmodel list | fields name'];
    const debug = { NODE_DEBUG: 'module' };
    const home = mkdtempSync(join(root, 'keyed-'));
    const restored = run(WAYS.launcher, home, q, debug);
    expect(restored.status).toBe(0);
    expect(ranTheEsmBin(restored.stderr)).toBe(false);
    // NODE_OPTIONS may carry V8 flags, which a snapshot refuses (node exits 14 before running a line).
    const withOptions = run(WAYS.launcher, home, q, { ...debug, NODE_OPTIONS: '--max-old-space-size=256' });
    expect({ status: withOptions.status, stdout: withOptions.stdout, esm: ranTheEsmBin(withOptions.stderr) }).toEqual({
      status: 0,
      stdout: restored.stdout,
      esm: true,
    });
    // A node on PATH other than the one that built the snapshot: here a script that runs it, noting its arguments.
    const other = mkdtempSync(join(root, 'path-'));
    const args = join(other, 'args.txt');
    writeFileSync(join(other, 'node'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${args}\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
    const linked = run(WAYS.launcher, home, q, { ...debug, PATH: `${linkTo(process.execPath)}:${process.env.PATH}` });
    // A link to the very node that built it is that node: the snapshot is used.
    expect({ status: linked.status, stdout: linked.stdout, esm: ranTheEsmBin(linked.stderr) }).toEqual({ status: 0, stdout: restored.stdout, esm: false });
    const otherNode = run(WAYS.launcher, home, q, { ...debug, PATH: `${other}:${process.env.PATH}` });
    expect({ status: otherNode.status, stdout: otherNode.stdout, esm: ranTheEsmBin(otherNode.stderr) }).toEqual({ status: 0, stdout: restored.stdout, esm: true });
    // The ESM bin gets the bin's V8 flags too (the restored snapshot cannot run without them: it was built with them).
    expect(readFileSync(args, 'utf8').split('\n').slice(0, NODE_FLAGS.length + 1)).toEqual([...NODE_FLAGS, ESM_BIN]);
    // The same node, replaced since the snapshot was built: a copy of dist/bin inside the package
    // (so node_modules resolve as from dist/bin), its blob dated before the node binary.
    const copy = mkdtempSync(join(new URL('dist/', PACKAGE).pathname, 'bin-stale-'));
    try {
      cpSync(new URL('dist/bin/', PACKAGE).pathname, copy, { recursive: true });
      utimesSync(join(copy, 'mlmodel.blob'), new Date(0), new Date(0));
      const stale = run([join(copy, 'mlmodel')], home, q, debug);
      expect({ status: stale.status, stdout: stale.stdout, esm: ranTheEsmBin(stale.stderr) }).toEqual({ status: 0, stdout: restored.stdout, esm: true });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);

  it('loads no REPL, no server driver and no TLS for -c "mlmodel list" on the embedded store (the ESM bin)', () => {
    // A module hook records every module the run loads, and the process's own list of built-ins at exit.
    const hooks = join(root, 'hooks.mjs');
    const log = join(root, 'loaded.txt');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';\nexport async function load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); }\n`,
    );
    const register = join(root, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nimport { appendFileSync } from 'node:fs';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
        `process.on('exit', () => appendFileSync(${JSON.stringify(log)}, process.moduleLoadList.join('\\n') + '\\n'));\n`,
    );
    const r = run([process.execPath, '--import', register, ESM_BIN], mkdtempSync(join(root, 'c-')), ['-c', 'mlmodel list']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const loaded = readFileSync(log, 'utf8').split('\n');
    expect(loaded.some((l) => l.includes('/dist/bin/mlmodel.js'))).toBe(true);
    expect(loaded.some((l) => l.includes('/node_modules/better-sqlite3/'))).toBe(true);
    for (const absent of ['/node_modules/ink/', '/node_modules/react/', '/node_modules/mongodb/', '/node_modules/minio/', '/node_modules/yaml/', '/node_modules/onnxruntime-node/', '/node_modules/mingo/']) {
      expect(loaded.filter((l) => l.includes(absent)), absent).toEqual([]);
    }
    expect(loaded.filter((l) => /^NativeModule (tls|_tls_wrap|_tls_common|https)$/.test(l))).toEqual([]);
    expect(loaded.filter((l) => l.includes('/dist/src/') || l.includes('/dist/console/') || l.includes('/dist/grammar/'))).toEqual([]);
  });

  it('opens the REPL from the launcher on a terminal (the ESM bin, run from the restored snapshot)', () => {
    // A pseudo-terminal from Python's pty module; the REPL reads \\q and leaves.
    const r = spawnSync('python3', ['-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', BIN], {
      input: '\\q\n',
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: mkdtempSync(join(root, 'repl-')), MLMODEL_USER: 'root', TERM: 'dumb' },
      timeout: 60_000,
    });
    expect(r.stdout).toContain('mlmodel console (user root');
    expect(r.stdout).not.toContain('internal error');
    expect(r.status).toBe(0);
  }, 90_000);

  it('loads no module after the snapshot is restored for -c "mlmodel list": the SQLite addon is opened directly', () => {
    const r = run(WAYS.snapshot, mkdtempSync(join(root, 'd-')), ['-c', 'mlmodel list'], { NODE_DEBUG: 'module' });
    expect(r.status).toBe(0);
    // The listing came from the database, so the addon was loaded; by process.dlopen, where the build found it, not by require.
    expect(r.stdout).toContain('(0 rows)');
    const loaded = [...r.stderr.matchAll(/^MODULE \d+: load "([^"]+)"/gm)].map((m) => m[1]);
    expect(loaded).toEqual([]);
  });
});
