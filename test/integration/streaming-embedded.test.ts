/**
 * Issue 22 §2: `mlmodel list` of a large registry streams — through the real
 * CLI, the HTTP API (chunked JSON Lines) and the library (a cursor) — on the
 * embedded store. 200,000 models: every row present and in order; the first
 * row out before the process has finished; a reader that leaves early ends
 * it at once; peak memory under a bound a buffered list exceeds several
 * times over (before streaming, 100,000 models took 443 MB); the stages that
 * cannot be pushed down still give the rows a plain evaluation gives.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryServer, type QueryServer } from '../../console/serve/server.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { CLI, runCli } from '../support/cli-process.js';
import { manyModelsHome } from '../support/many-models.js';

const MODELS = 200_000;
/** A buffered list of 200,000 models holds them all several times over (records, rows, text): far more than this. */
const RSS_BOUND_MB = 250;

const root = mkdtempSync(join(tmpdir(), 'mlmodel-stream-'));
const home = join(root, 'home');
const env = { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', MLMODEL_CONFIG: join(root, 'none.yaml'), TZ: 'UTC' };
/** Preloaded into the CLI: writes its peak RSS (bytes) to a file as it exits. */
const RSS_HOOK = join(root, 'rss-hook.cjs');

beforeAll(async () => {
  writeFileSync(join(root, 'none.yaml'), '');
  writeFileSync(RSS_HOOK, `process.on('exit', () => require('fs').writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));`);
  await manyModelsHome(home, MODELS);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI to its end, reading its stdout line by line (never holding it whole): a check per line, the peak RSS. */
function listed(args: string[], onLine: (line: string, i: number) => void): Promise<{ status: number | null; stderr: string; lines: number; rssMb: number }> {
  const rssFile = join(root, `rss-${Math.random().toString(36).slice(2)}`);
  const child = spawn(process.execPath, ['--require', RSS_HOOK, CLI, ...args], { env: { ...env, RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let lines = 0;
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (l) => onLine(l, lines++));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr, lines, rssMb: Number(readFileSync(rssFile, 'utf8')) / 2 ** 20 }));
  });
}

describe('the CLI streams a list of 200,000 models', () => {
  it('jsonl: every row, in id order, in flat memory', async () => {
    let bad = 0;
    const r = await listed(['--format', 'jsonl', '-c', 'mlmodel list'], (line, i) => {
      const row = JSON.parse(line) as { id: number; name: string };
      if (row.id !== i + 1 || row.name !== `m${i + 1}`) bad++;
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.lines).toBe(MODELS);
    expect(bad).toBe(0);
    expect(r.rssMb).toBeLessThan(RSS_BOUND_MB);
  }, 180_000);

  it('csv: the header, then every row in order, in flat memory', async () => {
    let bad = 0;
    const r = await listed(['--format', 'csv', '-c', 'mlmodel list | fields id, name, size'], (line, i) => {
      if (i === 0 ? line !== 'id,name,size' : line !== `${i},m${i},${i}`) bad++;
    });
    expect(r.status).toBe(0);
    expect(r.lines).toBe(MODELS + 1);
    expect(bad).toBe(0);
    expect(r.rssMb).toBeLessThan(RSS_BOUND_MB);
  }, 180_000);

  it('the table: drawn in slices that keep the header\'s columns, a wider number widening its own, the count at the end', async () => {
    const widths = new Set<number>();
    let last = '';
    // 120,000 rows: ids of five and six digits, without drawing all 200,000.
    const r = await listed(['-c', 'mlmodel list | head 120000 | fields id, name'], (line) => {
      if (line.startsWith('│')) widths.add(line.indexOf('│', 1));
      last = line;
    });
    expect(r.status).toBe(0);
    expect(last).toBe('(120000 rows)');
    // ids of 1–4 digits set the first slices' width; 5 and 6 digits widen the id column twice.
    expect([...widths].sort()).toEqual([7, 8, 9]);
    expect(r.rssMb).toBeLessThan(RSS_BOUND_MB);
  }, 240_000);

  it('the first row comes while the rest is still being read, and a reader that leaves ends the process at once, quietly', async () => {
    const child = spawn(process.execPath, [CLI, '--format', 'jsonl', '-c', 'mlmodel list'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (s) => resolve(s)));
    const first = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout.on('data', function take(d: Buffer) {
        text += d.toString();
        if (text.includes('\n')) {
          child.stdout.off('data', take);
          resolve(text.slice(0, text.indexOf('\n')));
        }
      });
    });
    expect(JSON.parse(first)).toMatchObject({ id: 1, name: 'm1' });
    // Stopped reading: the process waits on the pipe with most rows unwritten, as a streamed list does.
    expect(child.exitCode).toBe(null);
    const closedAt = Date.now();
    child.stdout.destroy();
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    // A hang bound, not a speed goal: a process that went on reading 200,000 rows would take far longer under load.
    expect(Date.now() - closedAt).toBeLessThan(15_000);
  }, 60_000);

  it('stages that stream (where, head, fields) and a sort that needs every row give what a plain evaluation gives', async () => {
    const rows = async (q: string) => {
      const r = await runCli(['--format', 'jsonl', '-c', q], env);
      expect(r.stderr).toBe('');
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: number });
    };
    expect((await rows('mlmodel list | where id > 199990 | fields id')).map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => 199991 + i));
    expect((await rows('mlmodel list | sort -id | head 3 | fields id')).map((r) => r.id)).toEqual([200000, 199999, 199998]);
    // Not pushed down: a sort after a head reads the head's rows, all of them, then sorts.
    expect((await rows('mlmodel list | head 50000 | sort -id | head 2 | fields id')).map((r) => r.id)).toEqual([50000, 49999]);
    // Not pushed down: a where after a head, and a head after it, stream over the store's pages.
    expect((await rows('mlmodel list | head 100000 | where id > 99997 | head 2 | fields id')).map((r) => r.id)).toEqual([99998, 99999]);
    expect(await rows('mlmodel list | where id > 300000')).toEqual([]);
  }, 120_000);

  it('a stream stopped midway (Ctrl-C) keeps the rows printed so far, then says why, with a failing status', async () => {
    const child = spawn(process.execPath, [CLI, '--format', 'jsonl', '-c', 'mlmodel list'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines: string[] = [];
    let sent = false;
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (lines.length < 5000) lines.push(l);
      else lines[4999] = l;
      if (!sent && lines.length >= 1000) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', (s) => resolve(s)));
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/cancel/i);
    const tail = JSON.parse(lines.at(-1)!) as { error?: { code: string } };
    expect(tail.error?.code).toBe('CANCELLED');
    // Every line before the error is a whole row.
    for (const l of lines.slice(0, -1)) expect(JSON.parse(l)).toHaveProperty('id');
  }, 60_000);
});

describe('the HTTP API and the library stream too', () => {
  let registry: Registry;
  let server: QueryServer;
  let url: string;
  beforeAll(async () => {
    registry = await openRegistry({ env });
    server = createQueryServer({ registry });
    ({ url } = await server.listen(0, '127.0.0.1'));
  });
  afterAll(async () => {
    await server.close();
    await registry.close();
  });

  /** POSTs a query asking for JSON Lines; the lines as they arrive. */
  function ndjson(q: string, onLine: (line: string) => boolean | void): Promise<{ status: number; type: string; chunked: boolean }> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/query`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' } }, (res) => {
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (l) => {
          if (onLine(l) === false) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), chunked: res.headers['transfer-encoding'] === 'chunked' });
        res.on('end', done);
        res.on('close', done);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ q }));
    });
  }

  it('POST /query with Accept: application/x-ndjson: fields, every row in order, then the end', async () => {
    const seen: string[] = [];
    let n = 0;
    let bad = 0;
    const r = await ndjson('mlmodel list | fields id, name', (l) => {
      if (seen.length < 1) seen.push(l);
      else if (l.startsWith('[')) {
        const [id, name] = JSON.parse(l) as [number, string];
        if (id !== n + 1 || name !== `m${n + 1}`) bad++;
        n++;
      } else seen.push(l);
    });
    expect(r).toMatchObject({ status: 200, chunked: true });
    expect(r.type).toMatch(/^application\/x-ndjson/);
    expect(JSON.parse(seen[0]!)).toEqual({ fields: [{ name: 'id', type: 'LONG' }, { name: 'name', type: 'TEXT' }] });
    expect(n).toBe(MODELS);
    expect(bad).toBe(0);
    expect(JSON.parse(seen.at(-1)!)).toEqual({ status: { current: MODELS, total: MODELS }, isEnd: true });
  }, 120_000);

  it('a client that leaves early frees its slot: the server answers the next query', async () => {
    let n = 0;
    await ndjson('mlmodel list', () => ++n < 10);
    const res = await fetch(`${url}/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ q: 'mlmodel list | head 2 | fields id' }) });
    expect(await res.json()).toMatchObject({ isEnd: true, results: [[1], [2]] });
  }, 60_000);

  it('a query that fails before its first row is answered with its own status, not a stream', async () => {
    const lines: string[] = [];
    const r = await ndjson('mlmodel list | where nosuchfield = 1', (l) => void lines.push(l));
    expect(r.status).toBe(400);
    expect(JSON.parse(lines.join(''))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it('the library: a cursor over every row, in order; leaving it early closes it; other queries run while one is open', async () => {
    const cursor = await registry.stream('mlmodel list | fields id');
    expect(cursor.columns.map((c) => c.name)).toEqual(['id']);
    let n = 0;
    let bad = 0;
    for await (const [id] of cursor) {
      if (id !== ++n) bad++;
      // The store's other callers go on while the cursor is open (it reads on a connection of its own).
      if (n === 1000) expect((await registry.run('mlmodel list | sort -id | head 1 | fields id')).rows).toEqual([[MODELS]]);
    }
    expect(n).toBe(MODELS);
    expect(bad).toBe(0);

    const early = await registry.stream('mlmodel list | fields id');
    const firstTen: unknown[] = [];
    for await (const [id] of early) {
      firstTen.push(id);
      if (firstTen.length === 10) break;
    }
    expect(firstTen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // A cursor never iterated, closed: nothing left open, the registry reads on.
    await (await registry.stream('mlmodel list')).close();
    // A command that does not stream comes as one page.
    const summary = await registry.stream('mlmodel summary m1');
    const rows = [];
    for await (const r of summary) rows.push(r);
    expect(rows.length).toBeGreaterThan(3);
  }, 120_000);

  it('the library: a cancelled cursor stops with CANCELLED between pages', async () => {
    const ac = new AbortController();
    const cursor = await registry.stream('mlmodel list', { signal: ac.signal });
    let n = 0;
    await expect(
      (async () => {
        for await (const _row of cursor) if (++n === 100) ac.abort();
      })(),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(n).toBeLessThan(MODELS);
  });
});
