/**
 * `mlmodel serve` (a real subprocess on an embedded home) while another
 * process holds the SQLite write lock: a write request waits for the lock
 * without stopping the server, which keeps answering other requests fast;
 * the write then succeeds once the lock is free.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, tar } from '../archive/tar-writer.js';
import { runCli, startCli } from '../support/cli-process.js';
import { holdWriteLock } from '../support/write-lock.js';

const TOKEN = 'serve-busy-token-0123456789abcdef';
const root = mkdtempSync(join(tmpdir(), 'mlmodel-serve-busy-'));
const home = join(root, 'home');
const env = { PATH: process.env.PATH ?? '', HOME: root, MLMODEL_HOME: home, MLMODEL_CONFIG: join(root, 'config.yaml'), MLMODEL_USER: 'carol', TZ: 'UTC' };
/** Generous: an answer that took this long waited for the lock (a blocked event loop waits the whole hold). */
const ANSWER_BOUND_MS = 2_000;
const HOLD_MS = 6_000;

let server: ReturnType<typeof startCli>;
let url: string;
let serverLog = '';

beforeAll(async () => {
  writeFileSync(join(root, 'config.yaml'), `user: carol\nhttp:\n  tokens:\n    ${TOKEN}: carol\n`);
  const archive = join(root, 'm.tar');
  writeFileSync(archive, tar(file('model.onnx', Buffer.alloc(4096, 1))));
  const imported = await runCli(['-c', `mlmodel import name=base type=onnx path=${archive}`], env);
  expect(imported.stderr).toBe('');
  server = startCli(['serve', '--port', '0'], env);
  server.stderr!.on('data', (d) => (serverLog += d));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${serverLog}`)), 30_000);
    server.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(root, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, asserted by each test
async function query(q: string): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ q }),
  });
  const body = await res.json();
  return { status: res.status, body, ms: Date.now() - started };
}

describe('mlmodel serve while another process holds the SQLite write lock', () => {
  it('answers reads fast while a write request waits for the lock; the write then succeeds', async () => {
    const lock = await holdWriteLock(join(home, 'mlmodel.db'), HOLD_MS);
    const write = query('mlmodel tag base held');
    let writeDone = false;
    void write.then(() => (writeDone = true));
    // Reads, one after another, for most of the hold: each answers quickly,
    // and all of them while the write is still waiting.
    const reads: Array<{ status: number; ms: number; q: string }> = [];
    const qs = ['mlmodel list', 'mlmodel summary base', 'mlmodel versions base', 'mlmodel summary nothing_here'];
    for (let i = 0; Date.now() - lock.heldAt < HOLD_MS - 2_000; i++) {
      const q = qs[i % qs.length]!;
      const r = await query(q);
      reads.push({ status: r.status, ms: r.ms, q });
      expect(writeDone).toBe(false);
    }
    expect(lock.holding()).toBe(true);
    const tagged = await write;
    await lock.released;

    expect(reads.length).toBeGreaterThanOrEqual(4);
    for (const r of reads) {
      expect(r.status).toBe(r.q.includes('nothing_here') ? 404 : 200);
      expect(r.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    // The write waited for the lock, then went through.
    expect(tagged.status).toBe(200);
    expect(tagged.ms).toBeGreaterThanOrEqual(HOLD_MS - 2_500);
    const after = await query('mlmodel versions base');
    expect(JSON.stringify(after.body)).toContain('held');
    console.log(`${reads.length} reads during a ${HOLD_MS} ms write lock, slowest ${Math.max(...reads.map((r) => r.ms))} ms; the waiting tag answered after ${tagged.ms} ms`);
  }, 60_000);
});
