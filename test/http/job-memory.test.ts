import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry } from '../../src/engine/registry.js';
import { call, manyFilesArchive } from './harness.js';

/**
 * The issue's report: about 100 finished `mlmodel list` jobs on a large
 * registry killed the server (heap out of memory), since each kept its
 * whole result in memory. Here a real `mlmodel serve`, its heap capped at
 * 128 MB, holds 100 finished jobs of 8,001 rows each (about 2 MB of heap
 * each, over 200 MB together), for four users; it must stay up, answer
 * every job's last page correctly, and keep its peak resident memory
 * bounded. MLMODEL_CLI names another build to run the same test against
 * (the build before the fix dies here).
 */
const CLI = process.env.MLMODEL_CLI ?? new URL('../../dist/console/cli.js', import.meta.url).pathname;
const FILES = 8000;
const USERS = ['u0', 'u1', 'u2', 'u3'];
const token = (u: string) => `memory-test-token-${u}-0123456789`;

describe('many large finished jobs', () => {
  it('keep a server with a 128 MB heap up, every result whole, its peak memory bounded', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mlmodel-memory-'));
    const inbox = join(root, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(inbox, 'big.tar.gz'), manyFilesArchive(FILES));
    writeFileSync(join(root, 'config.yaml'), `user: u0\nhttp:\n  tokens:\n${USERS.map((u) => `    ${token(u)}: ${u}\n`).join('')}`);
    const env = { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: join(root, 'config.yaml'), TZ: 'UTC' };
    const seed = await openRegistry({ config: loadConfig(env, {}) });
    await seed.run(`mlmodel import name=big type=sklearn path=${join(inbox, 'big.tar.gz')}`);
    await seed.close();

    const child = spawn(process.execPath, ['--max-old-space-size=128', CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 20_000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on (http:\/\/\S+)\n/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const h = { url };
      const as = (u: string) => ({ headers: { Authorization: `Bearer ${token(u)}` } });
      const jobs: { user: string; sid: string }[] = [];
      // 100 jobs, eight at a time, each read to its end once finished.
      const queue = Array.from({ length: 100 }, (_, i) => USERS[i % USERS.length]!);
      const worker = async () => {
        for (let u = queue.shift(); u !== undefined; u = queue.shift()) {
          const s = await call(h, 'POST', '/query/jobs', { ...as(u), body: { q: 'mlmodel files big' } });
          expect(s.status, JSON.stringify(s.body)).toBe(200);
          const done = await pollJob(url, s.body.sid, as(u).headers);
          expect(done.body).toMatchObject({ state: 'done', status: { total: FILES + 1 } });
          jobs.push({ user: u, sid: s.body.sid });
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      // Every one of the 100 is still held and whole.
      for (const j of jobs) {
        const last = await call(h, 'GET', `/query/jobs/${j.sid}?offset=${FILES}&limit=5`, as(j.user));
        expect(last.status).toBe(200);
        expect(last.body).toMatchObject({ isEnd: true, status: { current: FILES + 1, total: FILES + 1 } });
        expect(last.body.results).toEqual([["model.pkl", expect.any(Number), expect.any(String), expect.stringMatching(/^[0-9a-f]{64}$/)]]);
      }
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
      const spilled = readdirSync(join(root, 'home', 'serve')).flatMap((d) => readdirSync(join(root, 'home', 'serve', d)));
      console.log(`job memory: 100 jobs of ${FILES + 1} rows held, ${spilled.length} spilled; server peak RSS ${peakMb.toFixed(0)} MB`);
      expect(spilled).toHaveLength(100);
      expect(peakMb).toBeLessThan(400);
      expect(child.exitCode).toBeNull();
    } catch (e) {
      // What the server said last: before the fix, "JavaScript heap out of memory".
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
      const fatal = /FATAL ERROR: [^\n]*/.exec(stderr)?.[0] ?? stderr.slice(-600);
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nserver exit ${child.exitCode} ${child.signalCode}: ${fatal}`, { cause: e });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, stderr.slice(-2000)).toBe(0);
    // Stopping removed the spill files.
    expect(readdirSync(join(root, 'home', 'serve'))).toEqual([]);
  }, 180_000);
});

/** Like waitJob, with raw headers (the users here are not the harness's). */
async function pollJob(url: string, sid: string, headers: Record<string, string>) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await call({ url }, 'GET', `/query/jobs/${sid}?limit=1`, { headers });
    if (r.status !== 200 || r.body.state !== 'running') return r;
    if (Date.now() > deadline) throw new Error(`job ${sid} still running`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
