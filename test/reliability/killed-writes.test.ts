/**
 * What killed imports and deploys leave behind: `mlmodel import` processes
 * SIGKILLed mid-stream leave `.mlmodel-tmp-*` files in the object directory;
 * fsck reports them, removes them with repair=true once past the grace
 * window, and never removes the temporary file of an import still running —
 * not even with grace=0. The same for a deploy's staging in the serving base.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryObjectStore } from '../../src/store/directory.js';
import { writerTag } from '../../src/store/temporaries.js';
import { uploadLease } from '../../src/engine/lease.js';
import { finished, runCli, startCli } from '../support/cli-process.js';
import { startSlowS3, type SlowS3 } from '../e2e/slow-s3.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-killed-'));
let home: string;
let objects: string;
let slow: SlowS3;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // 2.5 MB/s: an import of its 12 MB archive runs about 5 s, long enough to be caught mid-stream.
  slow = await startSlowS3({ payload: 12 * 1024 * 1024, chunk: 128 * 1024, tickMs: 50 });
});

// A home of its own for each case: what fsck finds there (temporary files,
// leases, serving staging) is what that case left, whatever ran before it.
beforeEach(async () => {
  home = mkdtempSync(join(root, 'home-'));
  objects = join(home, 'objects');
  env = { PATH: process.env.PATH ?? '', HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', TZ: 'UTC', MLMODEL_CONNECTOR_SLOW: slow.url };
  const first = await runCli(['-c', 'mlmodel list'], env);
  expect(first.status).toBe(0);
});

afterAll(async () => {
  await slow?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Every temporary file under the object directory, relative to it, with its size. */
function temps(): Array<{ name: string; size: number }> {
  const out: Array<{ name: string; size: number }> = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.startsWith('.mlmodel-tmp-')) out.push({ name: relative(objects, path), size: statSync(path).size });
    }
  };
  if (existsSync(objects)) walk(objects);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Starts an import from the slow server; resolves with it once its temporary file holds `bytes`. */
async function importUntil(name: string, bytes: number) {
  const before = new Set(temps().map((t) => t.name));
  const child = startCli(['-c', `mlmodel import name=${name} type=tf path=OBJECTSTORAGE.SLOW:${slow.key}`], env);
  const done = finished(child, 120_000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const mine = temps().find((t) => !before.has(t.name) && t.size >= bytes);
    if (mine) return { child, done, temp: mine.name };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`import ${name} wrote no temporary file of ${bytes} bytes`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Row = [check: string, subject: string, problem: string, action: string];
async function fsck(options: string): Promise<Row[]> {
  const r = await runCli(['--format', 'json', '-c', `mlmodel fsck ${options}`], env);
  expect(r.stderr).toBe('');
  const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
  // As fsck(8): 4 while a problem is left, 1 when repair corrected every one, 0 with none ('left alone' is work in flight).
  const problems = rows.filter((row) => row[3] !== 'left alone');
  expect(r.status, r.stdout).toBe(problems.some((row) => row[3] !== 'repaired') ? 4 : problems.length > 0 ? 1 : 0);
  return rows;
}

describe('killed imports', () => {
  it('leave temporary files that fsck reports, removes past the grace window, and never while their import runs', async () => {
    // Three imports killed at points fast-check picks, between 64 KiB and 2 MiB into the archive.
    const killAt = fc.sample(fc.integer({ min: 64 * 1024, max: 2 * 1024 * 1024 }), { numRuns: 3, seed: 4 });
    const left: string[] = [];
    for (const [i, bytes] of killAt.entries()) {
      const run = await importUntil(`killed${i}`, bytes);
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      left.push(run.temp);
    }
    expect(temps().map((t) => t.name)).toEqual([...left].sort());

    // Reported, with their sizes and that their writers are gone; nothing removed without repair.
    const report = (await fsck('grace=0')).filter((r) => r[0] === 'temporary');
    expect(report.map((r) => r[1]).sort()).toEqual([...left].sort());
    for (const r of report) {
      expect(r[2]).toMatch(/^left by an object write that never finished \(\d+ bytes; the process that wrote it is gone\)$/);
      expect(r[3]).toBe('needs repair=true');
    }
    expect(temps()).toHaveLength(3);

    // Within the grace window they stay, even with repair=true.
    const young = (await fsck('repair=true grace=3600')).filter((r) => r[0] === 'temporary');
    expect(young.map((r) => r[3])).toEqual(['left alone', 'left alone', 'left alone']);
    expect(temps()).toHaveLength(3);

    // A fourth import runs while fsck repair=true grace=0 removes the other three.
    const running = await importUntil('survivor', 256 * 1024);
    const repaired = (await fsck('repair=true grace=0')).filter((r) => r[0] === 'temporary');
    const ownRow = repaired.find((r) => r[1] === running.temp);
    expect(ownRow).toEqual(['temporary', running.temp, expect.stringMatching(/^an object write still running is writing it \(\d+ bytes so far\)$/), 'left alone']);
    expect(repaired.filter((r) => r !== ownRow).map((r) => [r[1], r[3]]).sort()).toEqual([...left].sort().map((n) => [n, 'repaired']));
    // The killed imports' files and their now empty directories are gone.
    for (const name of left) {
      expect(existsSync(join(objects, name))).toBe(false);
      expect(existsSync(join(objects, name, '..'))).toBe(false);
    }
    const survivor = await running.done;
    expect(survivor.stderr).toBe('');
    expect(survivor.status).toBe(0);
    const verified = await runCli(['--format', 'json', '-c', 'mlmodel verify survivor'], env);
    expect(verified.status).toBe(0);
    // Nothing else is left but, at most, the killed imports' upload leases: fsck leaves a
    // lease alone while it is fresh (LEASE_TTL_MS after its last renewal) and reports it
    // after, and whether this test took longer than that is up to the machine's load.
    const killedLeases = left.map((n) => uploadLease(n.split('/')[1]!));
    for (const r of await fsck('grace=0')) {
      expect([r[0], r[2], r[3]], JSON.stringify(r)).toEqual(['lease', 'left by a command that died', 'needs repair=true']);
      expect(killedLeases).toContain(r[1]);
    }
    expect(temps()).toEqual([]);
  }, 240_000);
});

describe("a deploy's staging in the serving base", () => {
  it('is removed once its writer is gone and past grace; a running writer’s never', async () => {
    const serving = join(home, 'serving', 'someone-model');
    mkdirSync(serving, { recursive: true });
    // A writer that is gone: a process that has exited. One still running: a sleeping child.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.on('exit', r));
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const tag = (pid: number) => writerTag().replace(`.${process.pid}.`, `.${pid}.`);
      const deadDir = `.tmp-${tag(gone.pid!)}0123456789abcdef`;
      const liveDir = `.tmp-${tag(alive.pid!)}fedcba9876543210`;
      for (const d of [deadDir, liveDir]) {
        mkdirSync(join(serving, d, 'variables'), { recursive: true });
        writeFileSync(join(serving, d, 'variables', 'variables.data'), Buffer.alloc(5000, 1));
      }
      const rows = (await fsck('repair=true grace=0')).filter((r) => r[0] === 'serving');
      expect(rows).toEqual([
        ['serving', `someone-model/${deadDir}`, 'left by a deploy that never finished (5000 bytes; the process that wrote it is gone)', 'repaired'],
        ['serving', `someone-model/${liveDir}`, 'a deploy still running is writing it (5000 bytes so far)', 'left alone'],
      ]);
      expect(existsSync(join(serving, deadDir))).toBe(false);
      expect(existsSync(join(serving, liveDir, 'variables', 'variables.data'))).toBe(true);
    } finally {
      alive.kill('SIGKILL');
    }
    // Its writer gone, the second goes too.
    await new Promise((r) => alive.once('exit', r));
    const after = (await fsck('repair=true grace=0')).filter((r) => r[0] === 'serving');
    expect(after.map((r) => r[3])).toEqual(['repaired']);
    expect(readdirSync(serving)).toEqual([]);
  }, 120_000);
});

describe('removeTemporary', () => {
  it('removes only temporary files: any other name is refused and nothing is touched', async () => {
    const dir = mkdtempSync(join(root, 'store-'));
    const store = new DirectoryObjectStore({ root: join(dir, 'objects') });
    await store.init();
    await store.put('models/u/archive', Readable.from([Buffer.from('kept')]));
    writeFileSync(join(dir, 'outside'), 'kept');
    // Real temporary files in directories a key may name: each is removed.
    const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 3 }), fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/), async (dirs, suffix) => {
        const name = [...dirs, `.mlmodel-tmp-${suffix}`].join('/');
        mkdirSync(join(dir, 'objects', ...dirs), { recursive: true });
        writeFileSync(join(dir, 'objects', name), 'partial');
        await store.removeTemporary(name);
        expect(existsSync(join(dir, 'objects', name))).toBe(false);
      }),
      { numRuns: 300 },
    );
    // Anything else is refused; whatever is accepted names a temporary file.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom('models/u/archive', 'models/u', '../outside', 'models/../../outside', '../.mlmodel-tmp-x', '.mlmodel-tmp-', 'models/u/.mlmodel-tmp-', '', '/etc/passwd'),
          fc.string(),
          fc.string().map((s) => `models/${s}`),
          fc.string().map((s) => `${s}/.mlmodel-tmp-x`),
        ),
        async (name) => {
          const outcome = await store.removeTemporary(name).then(
            () => 'removed',
            (e: { code?: string }) => e.code,
          );
          if (outcome === 'removed') expect(name.split('/').at(-1)!.startsWith('.mlmodel-tmp-')).toBe(true);
          else expect(outcome).toMatch(/^(INVALID_ARGUMENT|OBJECT_KEY_INVALID)$/);
        },
      ),
      { numRuns: 1000 },
    );
    expect(existsSync(join(dir, 'outside'))).toBe(true);
    expect((await store.stat('models/u/archive'))?.size).toBe(4);
  });
});
