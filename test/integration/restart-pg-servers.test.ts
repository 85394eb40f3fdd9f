import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { LEASE_TTL_MS } from '../../src/engine/lease.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import type { ResultTable } from '../../src/result/table.js';
import { file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
// @ts-expect-error -- a plain .mjs script without type declarations
import { startFerretdbPostgres } from '../../scripts/test-servers.mjs';

/**
 * Issue 23 §2: PostgreSQL under FerretDB killed (SIGKILL of the postmaster
 * and every backend at once) and started again while writers import new
 * versions and tag them. Every import and tag the writers saw acknowledged
 * must be there afterwards, each version with the sha256 it was
 * acknowledged with; what failed during an outage failed with a clear
 * error; fsck, which reads every archive back, finds nothing half-written.
 *
 * It runs on a FerretDB-over-PostgreSQL of its own (the shared one must not
 * go down under the other suites), with the run's MinIO for the archives.
 * `npm run test:scale-pg` runs the longer campaign (MLMODEL_PG_RESTARTS).
 */
const RESTARTS = Number(process.env.MLMODEL_PG_RESTARTS ?? 3);
const WRITERS = Number(process.env.MLMODEL_PG_WRITERS ?? 3);
/** How long writes run between restarts, and how long PostgreSQL stays down. */
const UP_MS = 2_000;
const DOWN_MS = 1_000;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const column = (t: ResultTable, name: string) => t.rows.map((r) => r[t.columns.findIndex((c) => c.name === name)]);

interface Handles {
  url: string;
  kind: string;
  postgres: { kills: number; starts: number; kill(): Promise<void>; start(): Promise<void> };
  stop(): Promise<void>;
}

describeWithServer('minio', 'PostgreSQL killed under FerretDB during writes', (minioUrl) => {
  let work: string;
  let servers: Handles;
  let env: Record<string, string>;
  const figures = {
    restarts: 0,
    writers: WRITERS,
    attempted: { import: 0, tag: 0 },
    acknowledged: { import: 0, tag: 0 },
    failed: { import: 0, tag: 0 },
    failureCodes: {} as Record<string, number>,
    failureSamples: [] as string[],
    /** From each kill until PostgreSQL accepted connections again (the outage the writers saw, at least). */
    outageMs: [] as number[],
    /** What fsck found before repair=true, by check: bookkeeping a failed write left, which it repairs. */
    fsckBefore: {} as Record<string, number>,
    /** Failed imports whose version is there all the same (written, then the answer was lost): not a loss. */
    uncertainImports: 0,
    waitedForLeases: false,
    losses: 0,
    seconds: 0,
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mlmodel-pg-restart-'));
    servers = (await startFerretdbPostgres({})) as Handles;
    const run = randomBytes(3).toString('hex');
    const base = minioUrl.replace(/\/+$/, '');
    env = {
      HOME: work,
      MLMODEL_HOME: join(work, 'home'),
      MLMODEL_USER: 'root',
      MLMODEL_MONGODB_URL: `${servers.url}mlmodel_pg_restart`,
      MLMODEL_MINIO_URL: `${base}/pg-restart-${run}`,
    };
  }, 600_000);

  afterAll(async () => {
    console.log(`PostgreSQL restarts: ${JSON.stringify(figures)}`);
    if (process.env.MLMODEL_PG_FIGURES) await writeFile(process.env.MLMODEL_PG_FIGURES, JSON.stringify(figures, null, 2));
    await servers?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(`${RESTARTS} kills of PostgreSQL during imports and tags lose nothing acknowledged and leave nothing half-written`, async () => {
    const started = Date.now();
    onTestFinished(() => {
      figures.seconds = Math.round((Date.now() - started) / 1000);
    });
    const reg: Registry = await openRegistry({ config: loadConfig(env) });
    /** version → sha256 of every acknowledged import of `shared`; tags acknowledged, by version. */
    const ackedImports = new Map<number, string>();
    const attemptedShas = new Map<string, number>();
    const ackedTags: Array<{ version: number; tag: string }> = [];
    let stopping = false;
    let n = 0;
    const fail = (what: 'import' | 'tag', e: unknown) => {
      // A clear error: the project's typed error with a code, never a raw driver error or a crash.
      expect(isMlmodelError(e), String(e)).toBe(true);
      const code = (e as { code: string }).code;
      expect(['STORE_UNAVAILABLE', 'STORE_ERROR', 'CONFLICT'], `${what}: ${String(e)}`).toContain(code);
      figures.failed[what]++;
      figures.failureCodes[code] = (figures.failureCodes[code] ?? 0) + 1;
      const sample = `${code}: ${String((e as Error).message).replace(/\[[^\]]*\] /g, '').slice(0, 160)}`;
      if (figures.failureSamples.length < 6 && !figures.failureSamples.some((x) => x.slice(0, 60) === sample.slice(0, 60))) figures.failureSamples.push(sample);
    };
    try {
      const first = join(work, 'first.tar');
      await writeFile(first, tar(file('saved_model.pb', 'graph first')));
      const t0 = await reg.run(`mlmodel import name=shared type=tf path=${first}`);
      ackedImports.set(Number(column(t0, 'version')[0]), String(column(t0, 'sha256')[0]));

      const writer = async (w: number) => {
        while (!stopping) {
          const k = n++;
          const body = tar(file('saved_model.pb', `graph ${w}.${k}`), file('variables/variables.index', randomBytes(2048)));
          const path = join(work, `a${k}.tar`);
          await writeFile(path, body);
          attemptedShas.set(sha256(body), k);
          figures.attempted.import++;
          let version: number;
          try {
            const t = await reg.run(`mlmodel import name=shared type=tf path=${path}`);
            version = Number(column(t, 'version')[0]);
            expect(column(t, 'sha256')[0]).toBe(sha256(body));
            ackedImports.set(version, sha256(body));
            figures.acknowledged.import++;
          } catch (e) {
            fail('import', e);
            await new Promise((r) => setTimeout(r, 250));
            continue;
          }
          const tag = `t${w}_${k}`;
          figures.attempted.tag++;
          try {
            await reg.run(`mlmodel tag shared@${version} ${tag}`);
            ackedTags.push({ version, tag });
            figures.acknowledged.tag++;
          } catch (e) {
            fail('tag', e);
          }
        }
      };
      const restarter = async () => {
        for (let i = 0; i < RESTARTS; i++) {
          await new Promise((r) => setTimeout(r, UP_MS));
          const down = Date.now();
          await servers.postgres.kill();
          await new Promise((r) => setTimeout(r, DOWN_MS));
          await servers.postgres.start();
          figures.outageMs.push(Date.now() - down);
          figures.restarts++;
        }
        // Writes after the last restart too: the registry is usable again without reopening it.
        await new Promise((r) => setTimeout(r, UP_MS));
        stopping = true;
      };
      await Promise.all([restarter(), ...Array.from({ length: WRITERS }, (_, w) => writer(w))]);
    } finally {
      stopping = true;
      await reg.close();
    }

    // A registry opened afresh after the last restart sees everything acknowledged.
    const after = await openRegistry({ config: loadConfig(env) });
    try {
      const versions = await after.run('mlmodel versions shared');
      const present = new Map(column(versions, 'version').map((v, i) => [Number(v), String(column(versions, 'sha256')[i])]));
      const tagsOf = new Map(column(versions, 'version').map((v, i) => [Number(v), String(column(versions, 'tags')[i] ?? '').split(',').filter(Boolean)]));
      const lost: string[] = [];
      for (const [version, sha] of ackedImports) {
        if (present.get(version) !== sha) lost.push(`import of version ${version} (${sha}): found ${present.get(version) ?? 'nothing'}`);
      }
      for (const { version, tag } of ackedTags) {
        if (!tagsOf.get(version)?.includes(tag)) lost.push(`tag ${tag} of version ${version}: found ${tagsOf.get(version)?.join(',') ?? 'no version'}`);
      }
      figures.losses = lost.length;
      expect(lost).toEqual([]);
      // Nothing there that nobody wrote; versions never repeat.
      for (const [version, sha] of present) {
        expect(attemptedShas.has(sha) || ackedImports.get(version) === sha, `version ${version} (${sha})`).toBe(true);
        if (!ackedImports.has(version)) figures.uncertainImports++;
      }
      expect(new Set(present.values()).size).toBe(present.size);
      // fsck reads every archive back against its recorded sha256: no record
      // may be without its archive or differ from it. What it may find is the
      // bookkeeping of a write that failed during an outage, each repairable:
      // the upload lease of a failed import (its release failed too), objects
      // kept because the store could not say whether their record was
      // written, and two latest versions when an import's record was written
      // but its answer and its `latest` clearing were lost.
      let fsck = await after.run('mlmodel fsck grace=0');
      // Objects under a lease that could not be released look like work in
      // flight until the lease is dead: wait that out, then look again.
      if (fsck.rows.some((r) => r[3] === 'left alone')) {
        figures.waitedForLeases = true;
        await new Promise((r) => setTimeout(r, LEASE_TTL_MS + 1_000));
        fsck = await after.run('mlmodel fsck grace=0');
      }
      for (const row of fsck.rows) {
        expect(['lease', 'orphan object', 'latest'], JSON.stringify(row)).toContain(row[0]);
        expect(row[3], JSON.stringify(row)).toBe('needs repair=true');
        figures.fsckBefore[String(row[0])] = (figures.fsckBefore[String(row[0])] ?? 0) + 1;
      }
      await after.run('mlmodel fsck grace=0 repair=true');
      const again = await after.run('mlmodel fsck grace=0');
      expect(again.rows, JSON.stringify(again.rows)).toEqual([]);
    } finally {
      await after.close();
    }
    expect(figures.restarts).toBe(RESTARTS);
    expect(servers.postgres.kills).toBe(RESTARTS);
    expect(figures.losses).toBe(0);
    // The outages were felt (some writes failed) and writes got through between them.
    expect(figures.failed.import + figures.failed.tag).toBeGreaterThan(0);
    expect(figures.acknowledged.import).toBeGreaterThan(RESTARTS);
  }, 600_000);
});
