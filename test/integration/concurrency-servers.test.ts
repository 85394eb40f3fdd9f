import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { file, tar } from '../archive/tar-writer.js';
import { databaseOfItsOwn, describeWithServer, MONGO_WIRE_SERVERS } from '../servers/servers.js';
import { CLI } from './fault-harness.js';

/**
 * Issue 9.6: 32 console processes at once, each importing a new version of
 * the same model, deploying the same model, tagging the same version and
 * renaming the same model: versions and serving versions come out unique and
 * gap-free, every acknowledged tag is there, exactly one rename wins and
 * leaves no stray name claim.
 */
const PROCESSES = Number(process.env.MLMODEL_CONCURRENCY ?? 32);
/**
 * On FerretDB over PostgreSQL: fewer at test-command size. Every metadata
 * round trip there is a PostgreSQL transaction, so 32 imports queued on one
 * model's name lock took 177 s with the machine loaded, and some waited past
 * the lock's 60 s and failed with CONFLICT (clearly, losing nothing).
 */
const PROCESSES_PG = Number(process.env.MLMODEL_CONCURRENCY_PG ?? process.env.MLMODEL_CONCURRENCY ?? 8);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Outcome = { rows: unknown[][] } | { error: { code: string; message: string } };

function runBatch(script: string, env: NodeJS.ProcessEnv): Promise<{ outcomes: Outcome[]; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, '--format', 'json', '--continue-on-error', '-f', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', () => res({ outcomes: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Outcome), stderr: err }));
  });
}

const ok = (o: Outcome | undefined): o is { rows: unknown[][] } => o !== undefined && 'rows' in o;

async function scenario(work: string, env: NodeJS.ProcessEnv, processes: number): Promise<Record<string, number>> {
  const one = async (q: string) => {
    const script = join(work, `setup-${randomBytes(4).toString('hex')}.mlq`);
    await writeFile(script, `${q}\n`);
    const { outcomes, stderr } = await runBatch(script, env);
    expect(ok(outcomes[0]), `${q}: ${stderr}`).toBe(true);
    return (outcomes[0] as { rows: unknown[][] }).rows;
  };
  const archive = async (k: string) => {
    const body = tar(file('saved_model.pb', `graph ${k}`), file('variables/variables.index', `index ${k}`));
    const path = join(work, `${k}.tar`);
    await writeFile(path, body);
    return { path, sha: sha256(body) };
  };
  const base = await archive('base');
  await one(`mlmodel import name=shared type=tf path=${base.path}`);
  await one(`mlmodel import name=svc type=tf path=${base.path}`);
  await one(`mlmodel import name=ren type=tf path=${base.path}`);

  const shas = new Map<string, number>();
  const scripts: string[] = [];
  for (let k = 0; k < processes; k++) {
    const a = await archive(`p${k}`);
    shas.set(a.sha, k);
    const script = join(work, `p${k}.mlq`);
    await writeFile(
      script,
      [`mlmodel import name=shared type=tf path=${a.path}`, `mlmodel deploy svc label='p${k}'`, `mlmodel tag svc t${k}`, `mlmodel rename ren as ren_${k}`].join('\n') + '\n',
    );
    scripts.push(script);
  }
  const started = Date.now();
  const results = await Promise.all(scripts.map((s) => runBatch(s, env)));
  const seconds = (Date.now() - started) / 1000;

  const acked = { import: [] as number[], deploy: [] as number[], tag: [] as number[], rename: [] as number[] };
  for (const [k, r] of results.entries()) {
    expect(r.outcomes, r.stderr).toHaveLength(4);
    const [imp, dep, tag, ren] = r.outcomes;
    if (ok(imp)) {
      acked.import.push(Number(imp.rows[0]![2]));
      expect(imp.rows[0]![4]).toBe([...shas].find(([, i]) => i === k)![0]);
    }
    if (ok(dep)) acked.deploy.push(Number(dep.rows[0]![1]));
    if (ok(tag)) acked.tag.push(k);
    if (ok(ren)) acked.rename.push(k);
    // Whatever failed, failed with a clear error, not a crash.
    for (const o of r.outcomes) if (!ok(o)) expect(['CONFLICT', 'MODEL_NOT_FOUND'], JSON.stringify(o)).toContain(o.error.code);
  }

  // Versions: 1 (set-up) and then one per acknowledged import, no gap, no repeat.
  expect(acked.import.length, JSON.stringify(results.map((r) => r.outcomes[0]).filter((o) => !ok(o)))).toBe(processes);
  expect([...acked.import].sort((a, b) => a - b)).toEqual(Array.from({ length: processes }, (_, i) => i + 2));
  const versions = await one('mlmodel versions shared');
  expect(versions.length).toBe(processes + 1);
  // Serving versions: one per acknowledged deploy, 1..n.
  expect([...acked.deploy].sort((a, b) => a - b)).toEqual(Array.from({ length: acked.deploy.length }, (_, i) => i + 1));
  expect(acked.deploy.length).toBe(processes);
  const status = await one('serving status svc');
  expect(status.map((r) => r[1])).toEqual(Array(processes).fill('AVAILABLE'));
  // No lost tag.
  expect(acked.tag.length).toBe(processes);
  const tags = String((await one('mlmodel summary svc tags'))[0]![1]).split(',');
  expect(tags.sort()).toEqual(acked.tag.map((k) => `t${k}`).sort());
  // Exactly one rename of `ren` won, and the model carries its name.
  expect(acked.rename.length, JSON.stringify(results.map((r) => r.outcomes[3]))).toBe(1);
  const names = (await one('mlmodel list')).map((r) => String(r[2])).sort();
  expect(names).toEqual(['shared', 'svc', `ren_${acked.rename[0]}`].sort());
  // Nothing for fsck: no stray name claim, one latest per model, no orphan.
  expect(await one('mlmodel fsck grace=0')).toEqual([]);
  return { processes: processes, seconds: Math.round(seconds), versions: versions.length, servingVersions: status.length, tags: tags.length };
}

const created: string[] = [];
afterAll(async () => {
  for (const d of created) await rm(d, { recursive: true, force: true });
});

describe(`${PROCESSES} concurrent console processes`, () => {
  it('on the embedded stores (SQLite + directory)', async () => {
    const work = await mkdtemp(join(tmpdir(), 'mlmodel-conc-'));
    created.push(work);
    const figures = await scenario(work, { PATH: process.env.PATH, HOME: work, MLMODEL_HOME: join(work, 'home'), MLMODEL_USER: 'root' }, PROCESSES);
    console.log(`concurrency (embedded): ${JSON.stringify(figures)}`);
  }, 300_000);
});

// On each MongoDB-wire server (FerretDB over SQLite or a mongod, and FerretDB over PostgreSQL), with MinIO.
for (const server of MONGO_WIRE_SERVERS) describeWithServer(server, `${server === 'mongodb' ? PROCESSES : PROCESSES_PG} concurrent console processes on the servers`, (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const run = randomBytes(3).toString('hex');
    const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_conc_${run}`);
    it('on MongoDB-wire + MinIO', async () => {
      const work = await mkdtemp(join(tmpdir(), 'mlmodel-conc-'));
      created.push(work);
      const base = minioUrl.replace(/\/+$/, '');
      const figures = await scenario(work, {
        PATH: process.env.PATH,
        HOME: work,
        MLMODEL_HOME: join(work, 'home'),
        MLMODEL_USER: 'root',
        MLMODEL_MONGODB_URL: mongo,
        MLMODEL_MINIO_URL: `${base}/conc-${run}`,
        MLMODEL_SERVING_BASE: `${base}/conc-serving-${run}/tf`,
      }, server === 'mongodb' ? PROCESSES : PROCESSES_PG);
      console.log(`concurrency (servers, ${server}): ${JSON.stringify(figures)}`);
    }, 600_000);
  });
});
