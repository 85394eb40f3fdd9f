import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, tar } from '../archive/tar-writer.js';

/**
 * Issue 15.6: a reader that stops early (`mlmodel -c 'mlmodel list' | head -1`)
 * closes the pipe; mlmodel stops quietly, as `head` expects: status 0, nothing
 * on stderr, never a stack trace — with one large result, with a batch that
 * keeps writing after the pipe closed, and in every format.
 */
const CLI = resolve(import.meta.dirname, '../../dist/console/cli.js');
const MODELS = 1500;
let root: string;
let env: NodeJS.ProcessEnv;

/** Runs `mlmodel ARGS | READER` in bash; mlmodel's own stderr and exit status come back separately. */
function piped(args: string[], reader: string): Promise<{ status: number; stderr: string; stdout: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const errFile = join(root, `stderr-${Math.random().toString(36).slice(2)}`);
  const script = `"${process.execPath}" "${CLI}" ${quoted} 2>"${errFile}" | ${reader}; echo "status=\${PIPESTATUS[0]}" >&2`;
  return new Promise((res, rej) => {
    const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let tail = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (tail += d.toString()));
    child.once('error', rej);
    child.once('close', async () => {
      const status = Number(/status=(\d+)/.exec(tail)?.[1] ?? NaN);
      res({ status, stdout, stderr: await readFile(errFile, 'utf8') });
    });
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-epipe-'));
  env = { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: join(root, 'none.yaml') };
  await writeFile(join(root, 'none.yaml'), '');
  await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'graph')));
  const imports = Array.from({ length: MODELS }, (_, i) => `mlmodel import name=model_${i} type=tf path=${join(root, 'm.tar')} description='a description long enough to make rows wide ${i}'`);
  await writeFile(join(root, 'imports.txt'), imports.join('\n'));
  const r = await piped(['-f', join(root, 'imports.txt'), '--format', 'jsonl'], 'tail -1');
  expect(r.status, r.stderr).toBe(0);
  await writeFile(join(root, 'lists.txt'), Array.from({ length: 10 }, () => 'mlmodel list').join('\n'));
}, 300_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a reader that goes away early', () => {
  const cases: Array<[string, string[], string]> = [
    ['one large table, head -1', ['-c', 'mlmodel list'], 'head -1'],
    ['one large table, head -c 1', ['-c', 'mlmodel list'], 'head -c 1'],
    ['a reader that reads nothing', ['-c', 'mlmodel list'], 'true'],
    ['a batch that keeps writing, head -1', ['-f', join(root ?? '', 'lists.txt')], 'head -1'],
    ['--help, head -1', ['--help'], 'head -1'],
    ...(['json', 'jsonl', 'csv', 'tsv', 'markdown', 'html'] as const).map((f): [string, string[], string] => [`--format ${f}, head -1`, ['--format', f, '-c', 'mlmodel list'], 'head -1']),
  ];
  for (const [what, args, reader] of cases) {
    it(what, async () => {
      const a = args.map((x) => (x.endsWith('lists.txt') ? join(root, 'lists.txt') : x));
      const r = await piped(a, reader);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      if (reader === 'head -1') expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    }, 120_000);
  }

  it('statements after the one whose output found the reader gone do not run (as SIGPIPE would have it)', async () => {
    const after = Array.from({ length: 5 }, (_, i) => `mlmodel import name=after_${i} type=tf path=${join(root, 'm.tar')}`);
    await writeFile(join(root, 'then-imports.txt'), ['mlmodel list', ...after].join('\n'));
    const r = await piped(['-f', join(root, 'then-imports.txt')], 'head -1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const names = await piped(['--format', 'jsonl', '-c', "mlmodel list | where name like 'after_%' | fields name"], 'cat');
    expect(names.stdout).toBe('');
  }, 120_000);

  it('the registry is whole afterwards: every model still listed, fsck clean', async () => {
    const r = await piped(['--format', 'jsonl', '-c', 'mlmodel list | fields name'], 'cat');
    expect(r.stdout.trim().split('\n')).toHaveLength(MODELS);
    const fsck = await piped(['--format', 'json', '-c', 'mlmodel fsck grace=0'], 'cat');
    expect(fsck.stdout).toMatch(/"rows":\[\]/);
  }, 120_000);
});
