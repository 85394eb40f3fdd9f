import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';

/** The built `mlmodel` running real queries on the embedded stores of a fresh home. */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-cli-run-'));
const archive = join(root, 'mnist.tar');
writeFileSync(archive, archives.tfSavedModel());
/** The home the next command runs on: a fresh, empty one for each test. */
let home: string;
/** A home holding mnist_v1 alone, imported once; tests that need it start from a copy. */
const seeded = join(root, 'seeded');

function mlmodel(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', TZ: 'UTC' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  home = seeded;
  const r = mlmodel(['-c', `mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep path=${archive}`]);
  expect(r.status, r.stderr).toBe(0);
});
// Each test's own home, so what it lists, deploys or repairs is its own, whatever ran before it.
beforeEach(() => {
  home = mkdtempSync(join(root, 'home-'));
});
const withMnist = () => cpSync(seeded, home, { recursive: true });

describe('mlmodel -c / -f / stdin running queries', () => {
  it('imports and lists with -c, printing IRIS tables', () => {
    const r = mlmodel(['-c', `mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep path=${archive}`, '-c', 'mlmodel list']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/│ result │ name {5}│ version │ +size │ sha256 +│/);
    expect(r.stdout).toMatch(/│ {2}1 │ root │ mnist_v1 │ tf {3}│ classification │ deep {6}│ off {5}│ \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d │/);
    expect(r.stdout).toContain('(1 row)');
  });

  it('prints typed JSON, one object per query', () => {
    withMnist();
    const r = mlmodel(['--format', 'json', '-c', 'mlmodel list | fields id, name', '-c', 'mlmodel summary mnist_v1 format']);
    expect(r.status).toBe(0);
    const [list, summary] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { columns: unknown; rows: unknown });
    expect(list).toEqual({ columns: [{ name: 'id', type: 'LONG' }, { name: 'name', type: 'TEXT' }], rows: [[1, 'mnist_v1']] });
    expect(summary!.rows).toEqual([['format', 'saved_model']]);
  });

  it('runs a piped batch with comments and continuations, and stops at the first failure with status 1', () => {
    withMnist();
    const batch = '# report\nmlmodel list \\\n  | fields name\nmlmodel summary nope\nmlmodel list\n';
    const r = mlmodel(['--format', 'csv'], batch);
    expect(r.status).toBe(1);
    // RFC 4180: every record ends in CRLF, the last one too.
    expect(r.stdout).toBe('name\r\nmnist_v1\r\n');
    expect(r.stderr).toBe('error at stdin, line 4: no model called nope (MODEL_NOT_FOUND)\n');
    const two = mlmodel(['--format', 'csv', '-c', 'mlmodel list | fields name', '-c', 'mlmodel list | fields id, name']);
    expect(two.stdout).toBe('name\r\nmnist_v1\r\n\r\nid,name\r\n1,mnist_v1\r\n');
  });

  it('says which of several -c queries failed, and runs queries without mlmodel only when asked', () => {
    withMnist();
    const r = mlmodel(['--continue-on-error', '-c', 'mlmodel list | fields name', '-c', 'mlmodel summary nope', '-c', 'mlmodel llist']);
    expect(r.stderr).toContain('error at -c #2, line 1: no model called nope (MODEL_NOT_FOUND)');
    expect(r.stderr).toContain('parse error at -c #3, line 1, column 9');
    const one = mlmodel(['-c', 'mlmodel summary nope']);
    expect(one.stderr).toBe('error at -c, line 1: no model called nope (MODEL_NOT_FOUND)\n');
    const implicit = mlmodel(['--implicit-command', '--format', 'tsv', '-c', 'list | fields name; summary mnist_v1 type']);
    expect(implicit.status, implicit.stderr).toBe(0);
    // Each result its own header, an empty line between results.
    expect(implicit.stdout).toBe('name\nmnist_v1\n\nname\tvalue\ntype\ttf\n');
    expect(mlmodel(['-c', 'list | fields name']).status).toBe(2);
  });

  it('runs a query given as the command’s words, as typed at a shell prompt', () => {
    withMnist();
    const list = mlmodel(['--format', 'tsv', 'list', '|', 'fields', 'name']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toBe('name\nmnist_v1\n');
    const quoted = mlmodel(['--format', 'tsv', 'summary mnist_v1 type; serving status mnist_v1']);
    expect(quoted.status, quoted.stderr).toBe(0);
    expect(quoted.stdout).toBe('name\tvalue\ntype\ttf\n\nversion\tstate\tlabel\tdeployed_at\treason\n');
    const explicit = mlmodel(['--format', 'tsv', 'mlmodel', 'list', '|', 'head', '1', '|', 'fields', 'name']);
    expect(explicit.stdout).toBe('name\nmnist_v1\n');
    const missing = mlmodel(['summary', 'nope']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('error at the command line, line 1: no model called nope (MODEL_NOT_FOUND)\n');
    const both = mlmodel(['-c', 'mlmodel list', 'list']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('give one of them');
  });

  it('suggests the nearest model name, field and summary field for a typo', () => {
    withMnist();
    const model = mlmodel(['-c', 'mlmodel summary mnist_v2']);
    expect(model.stderr).toBe('error at -c, line 1: no model called mnist_v2; did you mean mnist_v1? (MODEL_NOT_FOUND)\n');
    const far = mlmodel(['-c', 'mlmodel summary resnet']);
    expect(far.stderr).toBe('error at -c, line 1: no model called resnet (MODEL_NOT_FOUND)\n');
    expect(mlmodel(['-c', 'mlmodel list | where nmae = x']).stderr).toContain('unknown field "nmae"; did you mean name?');
    expect(mlmodel(['-c', 'mlmodel summary mnist_v1 formt']).stderr).toContain('unknown summary field "formt"; did you mean format?');
    const json = mlmodel(['--format', 'json', '-c', 'mlmodel delete mnist_v2']);
    expect(JSON.parse(json.stdout).error.details).toEqual({ name: 'mnist_v2', suggestion: 'mnist_v1' });
  });

  it("exits as fsck(8) does: 4 for problems left, 1 when repair corrected them all, 0 when there are none", () => {
    withMnist();
    expect(mlmodel(['-c', 'mlmodel fsck grace=0']).status).toBe(0);
    // An object no record points to: what a killed import leaves.
    const orphan = join(home, 'objects', 'models', '00000000-0000-4000-8000-000000000000');
    mkdirSync(orphan, { recursive: true });
    writeFileSync(join(orphan, 'archive'), 'left by a killed import');
    const found = mlmodel(['--format', 'jsonl', '-c', 'mlmodel fsck grace=0']);
    expect(found.status, found.stderr).toBe(4);
    expect(found.stdout).toContain('orphan object');
    // Whatever a stage keeps of the rows, the status is fsck's.
    expect(mlmodel(['-c', 'mlmodel fsck grace=0 | where check = latest']).status).toBe(4);
    // The worst status of a batch, with a failed query after it.
    expect(mlmodel(['--continue-on-error', '-c', 'mlmodel fsck grace=0', '-c', 'mlmodel summary nope']).status).toBe(4);
    const repaired = mlmodel(['-c', 'mlmodel fsck repair=true grace=0']);
    expect(repaired.status, repaired.stderr).toBe(1);
    expect(repaired.stdout).toContain('repaired');
    expect(mlmodel(['-c', 'mlmodel fsck grace=0']).status).toBe(0);
  });

  it('keeps going with --continue-on-error; a parse error makes the status 2 and shows on stdout in json', () => {
    withMnist();
    const dir = mkdtempSync(join(tmpdir(), 'mlmodel-batch-'));
    const file = join(dir, 'jobs.mlq');
    writeFileSync(file, 'mlmodel llist\nmlmodel summary nope\nmlmodel list | fields name\n');
    const r = mlmodel(['--continue-on-error', '--format', 'jsonl', '-f', file]);
    expect(r.status).toBe(2);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // The same error shape as the HTTP API's `error` member: a parse error's position, an engine error's details.
    expect(lines[0]).toMatchObject({
      error: { code: 'PARSE_ERROR', message: expect.stringContaining('[llist] is not a mlmodel action'), line: 1, column: 9, suggestion: 'list' },
    });
    expect(lines[1]).toEqual({ error: { code: 'MODEL_NOT_FOUND', message: 'no model called nope', details: { name: 'nope' } } });
    expect(lines[2]).toEqual({ name: 'mnist_v1' });
    expect(r.stderr).toContain(`parse error at ${file}, line 1, column 9`);
  });

  it('runs consecutive imports of a batch as one batch: every result in order, stopping at a failed one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlmodel-imports-'));
    const bad = join(dir, 'bad.tar');
    writeFileSync(bad, Buffer.from('not a tar archive'.repeat(64)));
    const lines = [
      ...Array.from({ length: 5 }, (_, i) => `mlmodel import name=many${i} type=tf category=bulk path=${archive}`),
      `mlmodel import name=many5 type=tf path=${bad}`,
      `mlmodel import name=many6 type=tf category=bulk path=${archive}`,
      'mlmodel list | where category = bulk | fields name',
    ];
    const r = mlmodel(['--format', 'jsonl'], lines.join('\n') + '\n');
    expect(r.status).toBe(1);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.slice(0, 5).map((o) => [o.result, o.name, o.version])).toEqual(Array.from({ length: 5 }, (_, i) => ['ok', `many${i}`, 1]));
    expect(out[5]).toMatchObject({ error: { code: 'ARCHIVE_INVALID' } });
    expect(out).toHaveLength(6);
    expect(r.stderr).toMatch(/^error at stdin, line 6: .*\(ARCHIVE_INVALID\)\n$/);
    const list = mlmodel(['--format', 'csv', '-c', 'mlmodel list | where category = bulk | sort name | fields name']);
    expect(list.stdout).toBe('name\r\nmany0\r\nmany1\r\nmany2\r\nmany3\r\nmany4\r\n');
  });

  it('deploys into the serving base under the home and reports serving status', () => {
    withMnist();
    const r = mlmodel(['--format', 'tsv', '-c', "mlmodel deploy mnist_v1 label='stable'", '-c', 'serving status mnist_v1 | fields version, state, label']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('result\tlatest_version\tserving_name\non\t1\troot_mnist_v1\n\nversion\tstate\tlabel\n1\tAVAILABLE\tstable\n');
  });

  it('refuses a bad config with status 2 and never prints a secret', () => {
    const r = spawnSync(process.execPath, [CLI, '-c', 'mlmodel list'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: home, MLMODEL_MINIO_URL: 'ftp://AK:sup3rs3cret@host/bucket' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mlmodel: .*\(CONFIG_INVALID\)\n$/);
    expect(r.stderr).not.toContain('sup3rs3cret');
  });
});
