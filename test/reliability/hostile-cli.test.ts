import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasUnsafeChar } from '../../grammar/control-chars.js';
import { runs } from '../grammar/arbitraries.js';
import { hostileText, queryLiteral as literal } from '../console/render/hostile.js';
import { file, tar } from '../archive/tar-writer.js';

/**
 * Issue 15.5 with the real CLI: names in queries and errors, descriptions in
 * results, every format. Nothing on stdout or stderr acts on a terminal.
 */
const CLI = resolve(import.meta.dirname, '../../dist/console/cli.js');
let root: string;
let env: NodeJS.ProcessEnv;

function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', () => res({ stdout, stderr }));
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-hostile-cli-'));
  env = { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: join(root, 'none.yaml') };
  await writeFile(join(root, 'none.yaml'), '');
  await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'graph')));
  const texts = fc.sample(hostileText, runs(60));
  // Each statement on one line: a query file continues lines with a trailing \ and
  // splits at line breaks, so texts holding them are written with escapes the grammar reads.
  const lines = texts.flatMap((t, i) => [
    `mlmodel import name=h${i} type=tf path=${join(root, 'm.tar')} description=${literal(t).replace(/\r|\n/g, ' ')}`,
    `mlmodel summary ${literal(t).replace(/\r|\n/g, ' ')}`,
    `mlmodel summary h${i}`,
  ]);
  await writeFile(join(root, 'q.txt'), lines.join('\n'));
}, 120_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the CLI prints hostile names, descriptions and errors escaped', () => {
  for (const format of ['table', 'json', 'csv', 'markdown']) {
    it(`--format ${format}`, async () => {
      const r = await cli(['--format', format, '--continue-on-error', '-f', join(root, 'q.txt')]);
      expect(r.stderr.length).toBeGreaterThan(0);
      expect(hasUnsafeChar(r.stderr.replace(/[\n\t]/g, '')), JSON.stringify(r.stderr)).toBe(false);
      expect(hasUnsafeChar(r.stdout.replace(/\r\n|[\n\t]/g, '')), JSON.stringify(r.stdout)).toBe(false);
      expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    }, 120_000);
  }
});
