import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';

/** The built CLI fed through a pipe, as scripts use it: every format, comments, continuations, exit codes. */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-e2e-batch-'));
const env = { PATH: process.env.PATH ?? '', HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root', TZ: 'UTC' };

function pipe(args: string[], input: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const archive = join(root, 'm.tar');
  writeFileSync(archive, archives.tfSavedModel());
  const r = pipe([], `mlmodel import name=모델_v1 type=tf category='<b>&"x"|y' path=${archive}\n`);
  expect(r.stderr).toBe('');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const script = ['# models as a report', 'mlmodel list \\', '  | fields id, name, category', ''].join('\n');

describe('batch through a pipe', () => {
  it('markdown: a GitHub table with pipes and HTML escaped and Hangul kept', () => {
    const r = pipe(['--format', 'markdown'], script);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('| id | name | category |\n| ---: | --- | --- |\n| 1 | 모델_v1 | &lt;b&gt;&amp;&quot;x&quot;\\|y |\n');
  });

  it('html: every cell escaped', () => {
    const r = pipe(['--format', 'html'], script);
    expect(r.stdout).toContain('<td>1</td><td>모델_v1</td><td>&lt;b&gt;&amp;&quot;x&quot;|y</td>');
    expect(r.stdout).not.toContain('<b>');
  });

  it('csv and tsv quote what needs quoting', () => {
    expect(pipe(['--format', 'csv'], script).stdout).toBe('id,name,category\r\n1,모델_v1,"<b>&""x""|y"\r\n');
    expect(pipe(['--format', 'tsv'], script).stdout).toBe('id\tname\tcategory\n1\t모델_v1\t<b>&"x"|y\n');
  });

  it('jsonl prints no line for an empty result; json prints the typed empty table', () => {
    const empty = 'mlmodel list | where id = 999\n';
    expect(pipe(['--format', 'jsonl'], empty)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(JSON.parse(pipe(['--format', 'json'], empty).stdout)).toMatchObject({ rows: [] });
  });

  it('table on a pipe is never cut to a width and has no colour', () => {
    const r = pipe([], 'mlmodel summary 모델_v1 sha256\n');
    expect(r.stdout).toMatch(/│ sha256 │ [0-9a-f]{64} │/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('exit status: 0, 1 for a failed query, 2 for a parse error; the worst with --continue-on-error', () => {
    expect(pipe([], 'mlmodel list\n').status).toBe(0);
    const failed = pipe([], 'mlmodel summary nope\nmlmodel list\n');
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe('');
    const both = pipe(['--continue-on-error', '--format', 'csv'], 'mlmodel summary nope\nmlmodel lst\nmlmodel list | fields id\n');
    expect(both.status).toBe(2);
    expect(both.stdout).toBe('id\r\n1\r\n');
    expect(both.stderr).toMatch(/^error at stdin, line 1: no model called nope \(MODEL_NOT_FOUND\)\nparse error at stdin, line 2, column 9: \[lst\] is not a mlmodel action\. Did you mean list\?/);
    expect(pipe(['--format', 'yaml'], '').status).toBe(2);
  });
});
