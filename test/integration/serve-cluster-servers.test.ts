import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { file, tar } from '../archive/tar-writer.js';
import { databaseOfItsOwn, describeWithServer } from '../servers/servers.js';
import { CLI } from './fault-harness.js';

/**
 * Issue 23 §3: three `mlmodel serve` processes (the built CLI) on one
 * MongoDB-wire server and one MinIO, and clients spread over them importing
 * one model, deploying one, tagging one version and renaming one model, all
 * at once. The servers share nothing but the stores, so this holds only if
 * the claims and locks hold across processes: versions and serving
 * versions gap-free, every acknowledged tag there, exactly one rename won,
 * fsck clean. Then a job is read where it was submitted and, per process,
 * not elsewhere (docs/http.md says how to route them); and with one server
 * SIGKILLed the others carry on over the same registry.
 */
const SERVERS = Number(process.env.MLMODEL_SERVE_CLUSTER ?? 3);
const CLIENTS = Number(process.env.MLMODEL_SERVE_CLUSTER_CLIENTS ?? 12);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Answer {
  status: number;
  body: { results?: unknown[][]; error?: { code: string; message: string }; sid?: string; state?: string };
}

async function post(url: string, path: string, q: string): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ q }), signal: AbortSignal.timeout(240_000) });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

async function startServe(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mlmodel serve did not start: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`mlmodel serve exited (${code}): ${stderr}`)));
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { child, url, log: () => stderr };
}

describeWithServer('mongodb', `${SERVERS} mlmodel serve processes on one registry`, (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const run = randomBytes(3).toString('hex');
    const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_cluster_${run}`);
    let work: string;
    const servers: Array<{ child: ChildProcess; url: string; log: () => string }> = [];
    const figures = { servers: SERVERS, clients: CLIENTS, requests: 0, acknowledged: { import: 0, deploy: 0, tag: 0, rename: 0 }, seconds: 0 };

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'mlmodel-cluster-'));
      // Local archives may be imported over HTTP from this directory only.
      await writeFile(join(work, 'config.yaml'), `user: root\nhttp:\n  local_roots: [${JSON.stringify(work)}]\n`);
      const base = minioUrl.replace(/\/+$/, '');
      const env = {
        PATH: process.env.PATH,
        HOME: work,
        MLMODEL_HOME: join(work, 'home'),
        MLMODEL_CONFIG: join(work, 'config.yaml'),
        MLMODEL_MONGODB_URL: mongo,
        MLMODEL_MINIO_URL: `${base}/cluster-${run}`,
        MLMODEL_SERVING_BASE: `${base}/cluster-serving-${run}/tf`,
      };
      servers.push(...(await Promise.all(Array.from({ length: SERVERS }, () => startServe(env)))));
    }, 180_000);

    afterAll(async () => {
      console.log(`serve cluster: ${JSON.stringify(figures)}`);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              if (s.child.exitCode !== null || s.child.signalCode !== null) return r();
              s.child.once('exit', () => r());
              s.child.kill('SIGTERM');
            }),
        ),
      );
      if (work) await rm(work, { recursive: true, force: true });
    });

    const archive = async (k: string) => {
      const body = tar(file('saved_model.pb', `graph ${k}`), file('variables/variables.index', `index ${k}`));
      const path = join(work, `${k}.tar`);
      await writeFile(path, body);
      return { path, sha: sha256(body) };
    };
    const ok = (a: Answer) => a.status === 200 && Array.isArray(a.body.results);
    const must = async (url: string, q: string) => {
      const a = await post(url, '/query', q);
      expect(ok(a), `${q}: ${JSON.stringify(a)}`).toBe(true);
      return a.body.results!;
    };

    it(`${CLIENTS} clients spread over the servers import, deploy, tag and rename at once: gap-free, nothing lost, one rename`, async () => {
      const base = await archive('base');
      for (const name of ['shared', 'svc', 'ren']) await must(servers[0]!.url, `mlmodel import name=${name} type=tf path=${base.path}`);
      const mine = await Promise.all(Array.from({ length: CLIENTS }, (_, k) => archive(`c${k}`)));
      const started = Date.now();
      const outcomes = await Promise.all(
        mine.map(async (a, k) => {
          // Client k talks to server k mod SERVERS; its four writes in turn, as a session would.
          const url = servers[k % SERVERS]!.url;
          const out: Answer[] = [];
          for (const q of [`mlmodel import name=shared type=tf path=${a.path}`, `mlmodel deploy svc label='c${k}'`, `mlmodel tag svc t${k}`, `mlmodel rename ren as ren_${k}`]) {
            out.push(await post(url, '/query', q));
            figures.requests++;
          }
          return out;
        }),
      );
      figures.seconds = Math.round((Date.now() - started) / 1000);

      const acked = { import: [] as number[], deploy: [] as number[], tag: [] as number[], rename: [] as number[] };
      for (const [k, [imp, dep, tag, ren]] of outcomes.entries()) {
        if (ok(imp!)) {
          acked.import.push(Number(imp!.body.results![0]![2]));
          expect(imp!.body.results![0]![4]).toBe(mine[k]!.sha);
        }
        if (ok(dep!)) acked.deploy.push(Number(dep!.body.results![0]![1]));
        if (ok(tag!)) acked.tag.push(k);
        if (ok(ren!)) acked.rename.push(k);
        // What failed, failed with a clear error: only the renames that lost.
        for (const o of [imp!, dep!, tag!]) expect(ok(o), JSON.stringify(o.body)).toBe(true);
        if (!ok(ren!)) expect(['CONFLICT', 'MODEL_NOT_FOUND'], JSON.stringify(ren!.body)).toContain(ren!.body.error?.code);
      }
      figures.acknowledged = { import: acked.import.length, deploy: acked.deploy.length, tag: acked.tag.length, rename: acked.rename.length };

      // Versions 2..CLIENTS+1 (after the set-up version 1), no gap, no repeat, whichever server handed them out.
      expect([...acked.import].sort((a, b) => a - b)).toEqual(Array.from({ length: CLIENTS }, (_, i) => i + 2));
      // Each server sees the same registry.
      for (const s of servers) expect((await must(s.url, 'mlmodel versions shared')).length).toBe(CLIENTS + 1);
      expect([...acked.deploy].sort((a, b) => a - b)).toEqual(Array.from({ length: CLIENTS }, (_, i) => i + 1));
      const status = await must(servers[1 % SERVERS]!.url, 'serving status svc');
      expect(status.map((r) => r[1])).toEqual(Array(CLIENTS).fill('AVAILABLE'));
      const tags = String((await must(servers[2 % SERVERS]!.url, 'mlmodel summary svc tags'))[0]![1]).split(',');
      expect(tags.sort()).toEqual(acked.tag.map((k) => `t${k}`).sort());
      expect(acked.rename, JSON.stringify(outcomes.map((o) => o[3]!.body))).toHaveLength(1);
      const names = (await must(servers[0]!.url, 'mlmodel list')).map((r) => String(r[2])).sort();
      expect(names).toEqual(['shared', 'svc', `ren_${acked.rename[0]}`].sort());
      expect(await must(servers[0]!.url, 'mlmodel fsck grace=0')).toEqual([]);
    }, 600_000);

    it('a job is read on the server that took it; another server answers 404 JOB_NOT_FOUND (jobs are per process)', async () => {
      const [a, b] = [servers[0]!, servers[1 % SERVERS]!];
      const submitted = await post(a.url, '/query/jobs', 'mlmodel versions shared');
      expect(submitted.status).toBe(200);
      const sid = submitted.body.sid!;
      expect(sid).toMatch(/^[0-9a-f]{32}$/);
      let job: Answer['body'] = {};
      for (let i = 0; i < 300; i++) {
        job = (await (await fetch(`${a.url}/query/jobs/${sid}`)).json()) as Answer['body'];
        if (job.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(job.state).toBe('done');
      expect(job.results!.length).toBe(CLIENTS + 1);
      const elsewhere = await fetch(`${b.url}/query/jobs/${sid}`);
      expect(elsewhere.status).toBe(404);
      expect(((await elsewhere.json()) as Answer['body']).error?.code).toBe('JOB_NOT_FOUND');
    }, 120_000);

    it('with one server SIGKILLed, the others answer and write over the same registry', async () => {
      const [dead, ...alive] = servers;
      dead!.child.kill('SIGKILL');
      await new Promise((r) => dead!.child.once('exit', r));
      const a = await archive('after-kill');
      const imp = await must(alive[0]!.url, `mlmodel import name=shared type=tf path=${a.path}`);
      expect(imp[0]![2]).toBe(CLIENTS + 2);
      for (const s of alive) expect((await must(s.url, 'mlmodel versions shared')).length).toBe(CLIENTS + 2);
      expect(await must(alive.at(-1)!.url, 'mlmodel fsck grace=0')).toEqual([]);
    }, 120_000);
  });
});
