import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';

/** Every `mlmodel` action, in the command list's order: what the error names (a new command needs no edit here). */
const ACTIONS = COMMANDS.filter((c) => (c.syntax.prefix ?? 'mlmodel') === 'mlmodel')
  .flatMap((c) => c.syntax.keywords)
  .join(', ');

/** Drives the built `mlmodel` binary (npm test builds it first) as a user would. */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;

function mlmodel(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: input ?? '', encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mlmodel --parse', () => {
  it('prints the AST of a -c query as JSON and exits 0', () => {
    const r = mlmodel(['--parse', '-c', 'mlmodel list | where type = tf | sort -modified | head 5']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      kind: 'query',
      command: { kind: 'list' },
      stages: [
        { kind: 'where', condition: { kind: 'compare', field: 'type', op: '=', value: { kind: 'string', value: 'tf' } } },
        { kind: 'sort', keys: [{ field: 'modified', direction: 'desc' }] },
        { kind: 'head', count: 5 },
      ],
    });
  });

  it('exits 2 with the rendered error on stderr and nothing on stdout', () => {
    const r = mlmodel(['--parse', '-c', 'mlmodel llist']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'parse error at -c, line 1, column 9: [llist] is not a mlmodel action. Did you mean list? Available: ' + ACTIONS + '\n' +
        '  mlmodel llist\n' +
        '          ^^^^^\n',
    );
  });

  it('parses a batch from stdin, one JSON line per query, with file line numbers in errors', () => {
    const input = '# models\nmlmodel list\nmlmodel summary m \\\n  id, name\n\nmlmodel list | hed 1\nmlmodel stop m\n';
    const r = mlmodel(['--parse'], input);
    expect(r.status).toBe(2);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { command: { kind: string } });
    expect(lines.map((l) => l.command.kind)).toEqual(['list', 'summary']);
    expect(r.stderr).toContain('parse error at stdin, line 6, column 16: [hed] is not a pipeline stage. Did you mean head?');
  });

  it('keeps going with --continue-on-error and still exits 2', () => {
    const r = mlmodel(['--parse', '--continue-on-error'], 'mlmodel llist\nmlmodel stop m\n');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: { kind: 'stop', model: { name: 'm' } } });
  });

  it('parses a file given with -f', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlmodel-cli-'));
    const file = join(dir, 'jobs.mlq');
    writeFileSync(file, 'mlmodel list\nmlmodel deploy m label=x\n');
    const r = mlmodel(['--parse', '-f', file]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    const missing = mlmodel(['--parse', '-f', join(dir, 'absent.mlq')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`mlmodel: cannot read ${join(dir, 'absent.mlq')}: no such file\n`);
  });

  it('refuses unknown flags and formats with usage, status 2', () => {
    const r = mlmodel(['--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mlmodel: Unknown option '--frobnicate'/);
    expect(r.stderr).toContain('usage: mlmodel');
    expect(mlmodel(['--format', 'xml', '-c', 'mlmodel list']).stderr).toContain('unknown format "xml"');
  });

  it('prints help and version', () => {
    expect(mlmodel(['--help']).stdout).toContain('--parse');
    expect(mlmodel(['--version']).stdout).toMatch(/^mlmodel \d+\.\d+\.\d+\n$/);
  });
});

describe('--raw', () => {
  it('applies to csv and tsv; with another format it is a usage error', () => {
    for (const format of ['table', 'json', 'jsonl', 'markdown', 'html']) {
      const r = mlmodel(['--format', format, '--raw', '--parse', '-c', 'mlmodel list']);
      expect(r.status, format).toBe(2);
      expect(r.stderr).toContain('--raw applies to --format csv or tsv');
    }
    for (const format of ['csv', 'tsv']) expect(mlmodel(['--format', format, '--raw', '--parse', '-c', 'mlmodel list']).status).toBe(0);
  });
});
