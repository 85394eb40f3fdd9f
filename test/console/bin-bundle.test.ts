import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';

/**
 * The `mlmodel` bin is the command line bundled by esbuild (scripts/bundle.ts).
 * It must be the same program as dist/console/cli.js — the same output,
 * errors and statuses — and load only what `-c` needs: not the REPL's Ink
 * and React, not a server's driver, not TLS.
 */
const PACKAGE = new URL('../../', import.meta.url);
const BIN = new URL((JSON.parse(readFileSync(new URL('package.json', PACKAGE), 'utf8')) as { bin: { mlmodel: string } }).bin.mlmodel, PACKAGE)
  .pathname;
const UNBUNDLED = new URL('dist/console/cli.js', PACKAGE).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-bin-'));
const archive = join(root, 'mnist.tar');
writeFileSync(archive, archives.tfSavedModel());

function run(cli: string, home: string, args: string[], node: string[] = []) {
  const r = spawnSync(process.execPath, [...node, cli, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', TZ: 'UTC' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled mlmodel bin', () => {
  it('is package.json\'s bin and not the unbundled entry', () => {
    expect(BIN).toMatch(/dist\/bin\/mlmodel\.js$/);
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
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
    const homes = [mkdtempSync(join(root, 'a-')), mkdtempSync(join(root, 'b-'))];
    for (const q of queries) {
      const bundled = run(BIN, homes[0]!, q);
      const plain = run(UNBUNDLED, homes[1]!, q);
      // Times and ids of the import differ by nothing but the clock; compare what does not.
      const norm = (s: string) => s.replace(/\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/g, 'T').replace(/\d+(\.\d+)? ?ms/g, 'N ms');
      expect({ q, status: bundled.status, stdout: norm(bundled.stdout), stderr: norm(bundled.stderr) }).toEqual({
        q,
        status: plain.status,
        stdout: norm(plain.stdout),
        stderr: norm(plain.stderr),
      });
    }
    // Fourteen whole processes; a hang bound only, generous for a loaded machine.
  }, 180_000);

  it('loads no REPL, no server driver and no TLS for -c "mlmodel list" on the embedded store', () => {
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
    const r = run(BIN, mkdtempSync(join(root, 'c-')), ['-c', 'mlmodel list'], ['--import', register]);
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
});
