/**
 * `mlmodel unbundle` SIGKILLed at moments fast-check picks over its whole
 * run (reading the bundle, storing archives, writing records): afterwards
 * the model is either not there at all or there whole (every version), never
 * part of it; the same unbundle run again succeeds without any repair and
 * gives the same model (its bundle has the original manifest), and no
 * staging directory is left in the OS tmp (unbundle streams the bundle
 * straight into the store; a directory an earlier, unpacking unbundle left
 * when killed goes with the next one); and once the
 * killed run's leases have lapsed, fsck repair=true removes what it left and
 * fsck then finds nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writerTag } from '../../src/store/temporaries.js';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LEASE_TTL_MS } from '../../src/engine/lease.js';
import { loadConfig } from '../../src/config/index.js';
import { openStores } from '../../src/store/open.js';
import { file, tar } from '../archive/tar-writer.js';
import { finished, runCli, startCli } from '../support/cli-process.js';

const VERSIONS = 30;
const root = mkdtempSync(join(tmpdir(), 'mlmodel-killed-unbundle-'));
const bundle = join(root, 'm.tar');
const envFor = (home: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: root, MLMODEL_HOME: join(root, home), MLMODEL_USER: 'root', TZ: 'UTC', TMPDIR: root });
const target = envFor('target');
let manifest: string;
let fullMs: number;

async function json(args: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; rows: unknown[][]; stderr: string }> {
  const r = await runCli(['--format', 'json', '-c', args], env);
  // A result prints whatever the status (fsck exits 1 or 4 with its rows); a failure prints none.
  const printed = r.stdout.trim().startsWith('{"columns"') ? (JSON.parse(r.stdout) as { rows: unknown[][] }).rows : [];
  return { status: r.status, stderr: r.stderr, rows: printed };
}

beforeAll(async () => {
  const source = envFor('source');
  const script = Array.from({ length: VERSIONS }, (_, i) => {
    writeFileSync(join(root, `v${i}.tar`), tar(file('saved_model.pb', `graph ${i}`), file('variables/variables.data', Buffer.alloc(64 * 1024, i))));
    return `mlmodel import name=m type=tf path=${join(root, `v${i}.tar`)} description='v${i + 1}'`;
  });
  writeFileSync(join(root, 'imports.txt'), `${script.join('\n')}\nmlmodel alias m@3 champion\nmlmodel tag m@2 prod\n`);
  expect((await runCli(['-f', join(root, 'imports.txt')], source)).status).toBe(0);
  const made = await json(`mlmodel bundle m to=${bundle} all=true`, source);
  expect(made.status).toBe(0);
  manifest = String(made.rows[0]!.at(-1));
  // How long a whole unbundle takes here: the kills are spread over it.
  const probe = envFor('probe');
  const t0 = Date.now();
  expect((await json(`mlmodel unbundle path=${bundle}`, probe)).status).toBe(0);
  fullMs = Date.now() - t0;
}, 180_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The versions of m the target shows, or [] when it shows no m. */
async function visibleVersions(): Promise<number[]> {
  const listed = await json('mlmodel list | where name = m', target);
  expect(listed.status).toBe(0);
  if (listed.rows.length === 0) return [];
  const v = await json('mlmodel versions m', target);
  return v.rows.map((r) => Number(r[0]));
}

/** The number of records in the target (the killed run's marked head and versions among them), read beside the running CLI. */
async function recordCount(): Promise<number> {
  const stores = await openStores(loadConfig({ HOME: root, MLMODEL_HOME: target.MLMODEL_HOME! }));
  try {
    return await stores.metadata.countModels();
  } finally {
    await stores.close();
  }
}

/** The objects a registry's store lists (complete ones), read beside the running CLI. */
async function objectCount(env: NodeJS.ProcessEnv): Promise<number> {
  const stores = await openStores(loadConfig({ HOME: root, MLMODEL_HOME: env.MLMODEL_HOME! }));
  try {
    let n = 0;
    for await (const _ of stores.objects.list('')) n++;
    return n;
  } finally {
    await stores.close();
  }
}

/** Resolves once the running unbundle has written its first record (or after the bound). */
async function recordsBegin(boundMs: number): Promise<void> {
  const stores = await openStores(loadConfig({ HOME: root, MLMODEL_HOME: target.MLMODEL_HOME! }));
  try {
    const end = Date.now() + boundMs;
    while (Date.now() < end && (await stores.metadata.countModels()) === 0) await new Promise((r) => setTimeout(r, 3));
  } finally {
    await stores.close();
  }
}

it('a killed unbundle leaves nothing half-imported, and the rerun gives the whole model', async () => {
  const all = Array.from({ length: VERSIONS }, (_, i) => i + 1);
  // Half the kills at any moment of the run; half once its records have begun, the short phase a kill must not split.
  // A rerun right after a kill waits for the dead run's model lock to go stale (30 s), so the test
  // command makes two kills, one of each kind; MLMODEL_KILL_ROUNDS=N makes more.
  const rounds = Number(process.env.MLMODEL_KILL_ROUNDS ?? 2);
  const seed = Number(process.env.MLMODEL_KILL_SEED ?? Date.now() % 100_000);
  process.stdout.write(`killed unbundles: seed ${seed} (MLMODEL_KILL_SEED replays it)\n`);
  const kills = fc
    .sample(fc.integer({ min: 0, max: Math.max(200, fullMs) }), { numRuns: rounds, seed })
    .map((ms, i) => [i % 2 === 0, ms] as const);
  let lastKill = 0;
  const seen = { beforeRecords: 0, duringOrAfterRecords: 0, finished: 0, stagingLeft: 0 };
  /** Unbundle's staging directories in the children's TMPDIR. */
  const staging = () => readdirSync(root).filter((n) => n.startsWith('mlmodel-unbundle-'));
  for (const [inRecords, ms] of kills) {
    const child = startCli(['-c', `mlmodel unbundle path=${bundle}`], target);
    const done = finished(child, 120_000);
    if (inRecords) {
      await recordsBegin(60_000);
      await new Promise((r) => setTimeout(r, ms % 60));
    } else await new Promise((r) => setTimeout(r, ms));
    child.kill('SIGKILL');
    lastKill = Date.now();
    const outcome = await done;
    const began = (await recordCount()) > 0;
    if (staging().length > 0) seen.stagingLeft++;
    if (outcome.signal !== 'SIGKILL') seen.finished++;
    else if (began) seen.duringOrAfterRecords++;
    else seen.beforeRecords++;
    // Nothing or everything, never part.
    const visible = await visibleVersions();
    expect([[], all]).toContainEqual(visible);
    // The same command again, with no repair in between: the whole model.
    const rerun = await json(`mlmodel unbundle path=${bundle}`, target);
    expect(rerun.stderr).toBe('');
    // The killed run's staging directory went at the start of the rerun, and the rerun's own at its end.
    expect(staging()).toEqual([]);
    expect(rerun.rows.map((r) => r[2])).toEqual(all);
    expect(await visibleVersions()).toEqual(all);
    const again = await json(`mlmodel bundle m to=${join(root, `again-${ms}-${String(inRecords)}.tar`)} all=true`, target);
    expect(again.rows[0]!.at(-1)).toBe(manifest);
    expect((await json('mlmodel delete m', target)).status).toBe(0);
  }
  process.stdout.write(`killed unbundles: ${JSON.stringify(seen)} over ${fullMs} ms runs\n`);
  // What the killed runs left (objects under leases that lapse LEASE_TTL_MS after the kill) goes with repair.
  await new Promise((r) => setTimeout(r, Math.max(0, lastKill + LEASE_TTL_MS + 1000 - Date.now())));
  const repaired = await json('mlmodel fsck repair=true grace=0', target);
  // fsck(8)'s statuses: 1 when it corrected what it found, 0 when there was nothing.
  expect(repaired.status).toBe(repaired.rows.length > 0 ? 1 : 0);
  for (const row of repaired.rows) expect([row[0], row[3]]).toEqual([expect.stringMatching(/^(orphan object|temporary|interrupted delete|stale name|lease)$/), 'repaired']);
  expect((await json('mlmodel fsck grace=0', target)).rows).toEqual([]);
}, 600_000);

it('unbundle streams the bundle into the store (no staging directory, even killed mid-read); a staging directory a dead unbundle of an earlier mlmodel left goes with the next', async () => {
  const home = envFor('staging-target');
  const staging = () => readdirSync(root).filter((n) => n.startsWith('mlmodel-unbundle-'));
  // What an earlier unbundle, unpacking into the OS tmp, left when it was killed: named for its writer, a process now gone.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  mkdirSync(join(root, `mlmodel-unbundle-tmp-${writerTag().split('.')[0]}.${dead}.x1`));
  // And one of a live process (this one): never touched.
  const live = join(root, `mlmodel-unbundle-tmp-${writerTag()}x2`);
  mkdirSync(live);
  const child = startCli(['-c', `mlmodel unbundle path=${bundle}`], home);
  const done = finished(child, 120_000);
  // Killed once its first archive is being stored: mid-read.
  const end = Date.now() + 60_000;
  while (Date.now() < end && (await objectCount(home)) === 0) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  // Killed mid-read, or (on a fast machine) done first: either way no staging directory of its own.
  await done;
  expect(staging()).toEqual([basename(live)]);
  const rerun = await json(`mlmodel unbundle path=${bundle}`, home);
  expect(rerun.status).toBe(0);
  expect(rerun.rows).toHaveLength(VERSIONS);
  expect(staging()).toEqual([basename(live)]);
  rmSync(live, { recursive: true });
}, 180_000);
