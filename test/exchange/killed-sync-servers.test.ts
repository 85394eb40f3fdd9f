/**
 * `mlmodel sync … to=central` SIGKILLed at moments fast-check picks over a
 * whole sync's run, into a remote that is another embedded registry and one
 * on FerretDB + MinIO: after each kill the remote shows the model not at all
 * or whole (a new model), or its earlier versions plus complete new ones (an
 * existing model), never a version without its bytes; the same sync run
 * again finishes (every version copied or present) and gives the source's
 * manifest; once the killed runs' leases lapse, fsck repair=true removes
 * what they staged and fsck then finds nothing, on both registries.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config/index.js';
import { LEASE_TTL_MS } from '../../src/engine/lease.js';
import { openStores } from '../../src/store/open.js';
import { file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
import { finished, runCli, startCli } from '../support/cli-process.js';
import { serverRegistry, type TestRegistry } from './stores.js';

/**
 * `inRecords`: the existing model's round is killed once its records have begun (a short phase on the embedded
 * stores that a poll catches); otherwise at a moment of the whole run, as the new model's round is (on FerretDB a
 * few versions' records are written faster than a poll through the wire protocol notices them).
 */
function killSuite(VERSIONS: number, inRecords: boolean, makeRemote: (root: string) => Promise<{ env: Env; entry: Record<string, string | undefined>; close(): Promise<void> }>): void {
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-killed-sync-'));
  const base = { PATH: process.env.PATH ?? '', HOME: root, MLMODEL_USER: 'root', TZ: 'UTC', TMPDIR: root };
  const source: NodeJS.ProcessEnv = { ...base, MLMODEL_HOME: join(root, 'source') };
  let remote: NodeJS.ProcessEnv;
  let closeRemote: () => Promise<void> = async () => undefined;
  let manifest: string;
  let fullMs: number;
  const all = Array.from({ length: VERSIONS }, (_, i) => i + 1);
  /** The version an existing model there holds before the killed sync. */
  const EARLIER = Math.ceil(VERSIONS / 4);

  async function json(args: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; rows: unknown[][]; stderr: string }> {
    const r = await runCli(['--format', 'json', '-c', args], env);
    // A result prints whatever the status (fsck exits 1 or 4 with its rows); a failure prints none.
    const printed = r.stdout.trim().startsWith('{"columns"') ? (JSON.parse(r.stdout) as { rows: unknown[][] }).rows : [];
    return { status: r.status, stderr: r.stderr, rows: printed };
  }
  /** The versions of m the remote shows, or [] when it shows no m. */
  async function visibleVersions(): Promise<number[]> {
    const listed = await json('mlmodel list | where name = m', remote);
    expect(listed.status).toBe(0);
    if (listed.rows.length === 0) return [];
    return (await json('mlmodel versions m', remote)).rows.map((r) => Number(r[0]));
  }
  const remoteRecords = async () => {
    const stores = await openStores(loadConfig(remote as Env));
    try {
      return await stores.metadata.countModels();
    } finally {
      await stores.close();
    }
  };
  /** Resolves once the remote holds more than `from` records (the running sync has begun writing them), or after the bound. */
  async function recordsBegin(from: number, boundMs: number): Promise<void> {
    const end = Date.now() + boundMs;
    while (Date.now() < end && (await remoteRecords()) <= from) await new Promise((r) => setTimeout(r, 3));
  }

  beforeAll(async () => {
    const r = await makeRemote(root);
    remote = { ...base, ...r.env } as NodeJS.ProcessEnv;
    closeRemote = () => r.close();
    mkdirSync(source.MLMODEL_HOME!, { recursive: true });
    writeFileSync(join(source.MLMODEL_HOME!, 'config.yaml'), JSON.stringify({ registries: { central: r.entry } }));
    const script = all.map((v) => {
      writeFileSync(join(root, `v${v}.tar`), tar(file('saved_model.pb', `graph ${v}`), file('variables/variables.data', Buffer.alloc(64 * 1024, v))));
      return `mlmodel import name=m type=tf path=${join(root, `v${v}.tar`)} description='v${v}'`;
    });
    writeFileSync(join(root, 'imports.txt'), `${script.join('\n')}\nmlmodel alias m@3 champion\nmlmodel tag m@2 prod\n`);
    expect((await runCli(['-f', join(root, 'imports.txt')], source)).status).toBe(0);
    manifest = String((await json(`mlmodel bundle m to=${join(root, 'source.tar')} all=true`, source)).rows[0]!.at(-1));
    // How long a whole sync takes here (the kills are spread over it), then the remote is emptied again.
    const t0 = Date.now();
    const probe = await json('mlmodel sync m to=central', source);
    fullMs = Date.now() - t0;
    expect(probe.rows.map((x) => x[0])).toEqual(all.map(() => 'copied'));
    expect((await json('mlmodel delete m', remote)).status).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await closeRemote();
    rmSync(root, { recursive: true, force: true });
  });

  it('a killed sync leaves nothing half-published, the rerun finishes it, and fsck is clean after', async () => {
    // Round 0: a new model there, killed anywhere in the run; round 1: an existing one (one version synced first),
    // killed once its records have begun or anywhere (inRecords). A rerun right after a kill may wait for the dead run's model lock (30 s).
    const rounds = Number(process.env.MLMODEL_KILL_ROUNDS ?? 2);
    const seed = Number(process.env.MLMODEL_KILL_SEED ?? Date.now() % 100_000);
    process.stdout.write(`killed syncs: seed ${seed} (MLMODEL_KILL_SEED replays it)\n`);
    const moments = fc.sample(fc.integer({ min: 0, max: Math.max(200, fullMs) }), { numRuns: rounds, seed });
    let lastKill = 0;
    const seen: string[] = [];
    for (const [i, ms] of moments.entries()) {
      const existing = i % 2 === 1;
      if (existing) expect((await json(`mlmodel sync m@${EARLIER} to=central`, source)).rows.map((x) => x[0])).toEqual(['copied']);
      const before = await remoteRecords();
      const child = startCli(['-c', 'mlmodel sync m to=central'], source);
      const done = finished(child, 120_000);
      if (existing && inRecords) {
        await recordsBegin(before, 60_000);
        await new Promise((r) => setTimeout(r, ms % 40));
      } else await new Promise((r) => setTimeout(r, ms));
      child.kill('SIGKILL');
      lastKill = Date.now();
      const outcome = await done;
      seen.push(`${existing ? 'existing' : 'new'}: ${outcome.signal === 'SIGKILL' ? `killed at ${ms} ms` : 'finished first'}`);
      const visible = await visibleVersions();
      if (existing) {
        expect(visible).toContain(EARLIER);
        for (const v of visible) expect(all).toContain(v);
      } else expect([[], all]).toContainEqual(visible);
      // Every version there is whole: verify reads each archive back against its record.
      if (visible.length > 0) expect((await json('mlmodel verify m', remote)).status).toBe(0);
      // The same command again, with no repair in between: the whole model.
      const rerun = await json('mlmodel sync m to=central', source);
      expect(rerun.stderr).toBe('');
      expect(rerun.rows.map((r) => r[2])).toEqual(all);
      // 'updated': a kill after a version travelled but before its tags and aliases did; the rerun carries them.
      for (const r of rerun.rows) expect(['copied', 'present', 'updated']).toContain(r[0]);
      expect(await visibleVersions()).toEqual(all);
      const again = await json(`mlmodel bundle m to=${join(root, `again-${i}.tar`)} all=true`, remote);
      expect(again.rows[0]!.at(-1)).toBe(manifest);
      expect((await json('mlmodel delete m', remote)).status).toBe(0);
    }
    process.stdout.write(`killed syncs: ${seen.join('; ')} over ${fullMs} ms runs\n`);
    // What the killed runs staged (objects under leases that lapse LEASE_TTL_MS after the kill) goes with repair.
    await new Promise((r) => setTimeout(r, Math.max(0, lastKill + LEASE_TTL_MS + 1000 - Date.now())));
    const repaired = await json('mlmodel fsck repair=true grace=0', remote);
    expect(repaired.status).toBe(repaired.rows.length > 0 ? 1 : 0);
    for (const row of repaired.rows) expect([row[0], row[3]]).toEqual([expect.stringMatching(/^(orphan object|temporary|interrupted delete|stale name|lease)$/), 'repaired']);
    expect((await json('mlmodel fsck grace=0', remote)).rows).toEqual([]);
    expect((await json('mlmodel fsck grace=0', source)).rows).toEqual([]);
  }, 600_000);
}

describe('killed sync: embedded → embedded', () => {
  killSuite(20, true, async (root) => ({ env: { MLMODEL_HOME: join(root, 'remote') }, entry: { home: join(root, 'remote') }, close: async () => undefined }));
});

describeWithServer('mongodb', 'killed sync: embedded → FerretDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    // Fewer versions: every record is a round trip to FerretDB, and a whole sync is the unit the kills spread over.
    killSuite(6, false, async () => {
      const t: TestRegistry = await serverRegistry(mongoUrl, minioUrl);
      const e = t.env;
      // The children open the remote themselves; this process only drops its database at the end.
      return {
        env: { MLMODEL_HOME: e.MLMODEL_HOME, MLMODEL_MONGODB_URL: e.MLMODEL_MONGODB_URL, MLMODEL_MINIO_URL: e.MLMODEL_MINIO_URL, MLMODEL_SERVING_BASE: e.MLMODEL_SERVING_BASE },
        entry: { mongodb_url: e.MLMODEL_MONGODB_URL, minio_url: e.MLMODEL_MINIO_URL, serving_base: e.MLMODEL_SERVING_BASE },
        close: () => t.close(),
      };
    });
  });
});
