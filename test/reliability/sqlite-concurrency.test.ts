/**
 * The embedded SQLite store under concurrency, with real processes: a batch
 * import (`mlmodel -f`) runs while other consoles read; another process holds
 * the write lock while consoles read and this process writes. Readers never
 * fail and never wait for a writer; a writer waits with timers (the event
 * loop keeps running) and fails clearly at its deadline.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteMetadataStore } from '../../src/store/sqlite.js';
import type { ModelRecord } from '../../src/store/metadata.js';
import { file, tar } from '../archive/tar-writer.js';
import { runCli, startCli, finished, type CliRun } from '../support/cli-process.js';
import { holdWriteLock } from '../support/write-lock.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-sqlite-conc-'));
const home = join(root, 'home');
const dbPath = join(home, 'mlmodel.db');
const env = { PATH: process.env.PATH ?? '', HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', TZ: 'UTC' };
/** A reader that takes longer than this has waited for a writer (node's start-up alone is well under it). */
const READER_BOUND_MS = 10_000;
/** A writer may wait for the lock between the batch's groups, a few times per command: a hang bound. */
const WRITER_BOUND_MS = 20_000;

const archive = join(root, 'm.tar');

beforeAll(async () => {
  // 1 MiB each: the batch streams and flushes real bytes, long enough for readers to run meanwhile.
  writeFileSync(archive, tar(file('model.onnx', Buffer.alloc(1 << 20, 3))));
  const r = await runCli(['-c', `mlmodel import name=base type=onnx path=${archive}`], env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Model names fast-check makes up, distinct, valid, none of them `base`. */
function names(n: number, seed: number): string[] {
  const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).filter((s) => s !== 'base');
  return fc.sample(fc.uniqueArray(name, { minLength: n, maxLength: n }), { numRuns: 1, seed })[0]!;
}

function rowCount(run: CliRun): number {
  return (JSON.parse(run.stdout) as { rows: unknown[] }).rows.length;
}

describe('SQLite: readers in other processes while a batch import runs', () => {
  it('every `list` and `summary` succeeds, none waits for the batch, and each sees the batch grow', async () => {
    const imports = names(240, 15);
    const script = join(root, 'batch.mlmodel');
    writeFileSync(script, imports.map((n) => `mlmodel import name=${n} type=onnx path=${archive}\n`).join(''));
    const batch = finished(startCli(['--format', 'csv', '-f', script], env), 300_000);
    let batchDone = false;
    void batch.then(() => (batchDone = true));

    // Two consoles read over and over until the batch ends: a list, a summary, a filtered list.
    const queries = ['mlmodel list', 'mlmodel summary base', `mlmodel list | where name = ${imports[0]}`];
    const runs: Array<{ query: string; run: CliRun; duringBatch: boolean }> = [];
    const reader = async (offset: number) => {
      for (let i = offset; !batchDone; i++) {
        const query = queries[i % queries.length]!;
        const run = await runCli(['--format', 'json', '-c', query], env, 60_000);
        runs.push({ query, run, duringBatch: !batchDone });
      }
    };
    // A third console writes meanwhile: it gets the write lock between the batch's groups.
    const writes: CliRun[] = [];
    const writer = async () => {
      for (let i = 0; !batchDone; i++) writes.push(await runCli(['-c', `mlmodel tag base w${i}`], env, 60_000));
    };
    await Promise.all([reader(0), reader(1), writer(), batch]);
    const done = await batch;

    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout.split('\n').filter((l) => l.startsWith('ok,'))).toHaveLength(imports.length);
    for (const { query, run } of runs) {
      expect({ query, status: run.status, stderr: run.stderr }).toEqual({ query, status: 0, stderr: '' });
      expect(run.ended - run.started).toBeLessThan(READER_BOUND_MS);
    }
    for (const w of writes) {
      expect({ status: w.status, stderr: w.stderr }).toEqual({ status: 0, stderr: '' });
      expect(w.ended - w.started).toBeLessThan(WRITER_BOUND_MS);
    }
    expect(writes.length).toBeGreaterThanOrEqual(2);
    // Readers finished while the batch was still writing (before, they all waited for its one commit) …
    const during = runs.filter((r) => r.duringBatch);
    expect(during.length).toBeGreaterThanOrEqual(3);
    // … and saw it commit group by group: a list finished mid-batch shows some of it, not none or all.
    const lists = during.filter((r) => r.query === 'mlmodel list').map((r) => ({ ...r, n: rowCount(r.run) }));
    expect(lists.some((l) => l.n > 1 && l.n < imports.length + 1)).toBe(true);
    // A later reader (started after another ended) never sees fewer models: commits are never undone.
    for (const a of lists) for (const b of lists) if (a.run.ended < b.run.started) expect(b.n).toBeGreaterThanOrEqual(a.n);
    const all = await runCli(['--format', 'json', '-c', 'mlmodel list'], env);
    expect(rowCount(all)).toBe(imports.length + 1);
    const max = Math.max(...runs.map((r) => r.run.ended - r.run.started));
    console.log(
      `batch of ${imports.length} imports in ${done.ended - done.started} ms; ${runs.length} readers, all ok, ${during.length} finished during the batch, slowest ${max} ms; ${writes.length} tag writes, all ok, slowest ${Math.max(...writes.map((w) => w.ended - w.started))} ms; list counts seen mid-batch: ${lists.map((l) => l.n).join(',')}`,
    );
  }, 400_000);
});

describe('SQLite: another process holds the write lock', () => {
  it('consoles still read, without waiting for it, and see nothing of its uncommitted write', async () => {
    const lock = await holdWriteLock(dbPath, 8_000);
    const reads = await Promise.all([
      runCli(['--format', 'json', '-c', 'mlmodel list'], env, 60_000),
      runCli(['--format', 'json', '-c', 'mlmodel summary base'], env, 60_000),
      runCli(['--format', 'json', '-c', 'mlmodel versions base'], env, 60_000),
    ]);
    // Finished while the lock is still held: no reader waited for the writer.
    const stillHeld = lock.holding();
    await lock.released;
    for (const r of reads) expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(stillHeld).toBe(true);
    expect(JSON.parse(reads[0]!.stdout).rows.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a write waits with timers (the event loop runs on) and fails clearly at its deadline; a shorter hold lets it through', async () => {
    const store = new SqliteMetadataStore({ path: dbPath, busyTimeoutMs: 600 });
    await store.init();
    try {
      const [base] = await store.findModels({ filter: { name: 'base' } });
      expect(base).toBeDefined();
      const lock = await holdWriteLock(dbPath, 4_000);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const started = Date.now();
      const failed = await store.insertModel(recordLike(base!, 'held-1')).then(
        () => null,
        (e: unknown) => e,
      );
      const waited = Date.now() - started;
      clearInterval(ticker);
      expect(failed).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { sqlite: 'SQLITE_BUSY' } });
      expect((failed as Error).message).toMatch(/is busy: another process has held its write lock for \d+(\.\d)? s; try again/);
      expect(waited).toBeGreaterThanOrEqual(550);
      // A blocking busy wait would have let no timer run; with timers they ran all along.
      expect(ticks).toBeGreaterThan(waited / 10 / 4);
      // Reads answer while the lock is held; the refused record is nowhere.
      expect(await store.countModels({ uid: 'held-1' })).toBe(0);
      expect(lock.holding()).toBe(true);
      await lock.released;

      // A writer whose deadline outlasts the hold waits, then writes.
      const patient = new SqliteMetadataStore({ path: dbPath });
      await patient.init();
      try {
        const lock2 = await holdWriteLock(dbPath, 1_500);
        await patient.insertModel(recordLike(base!, 'held-2'));
        expect(Date.now() - lock2.heldAt).toBeGreaterThanOrEqual(1_400);
        await lock2.released;
        expect(await store.countModels({ uid: 'held-2' })).toBe(1);
        expect(await patient.deleteModel('held-2')).toBe(true);
      } finally {
        await patient.close();
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('SQLite: a batch import whose write lock stays busy past the deadline', () => {
  it('fails clearly, registers nothing and leaves no object, instead of waiting forever', async () => {
    const before = (await runCli(['--format', 'json', '-c', 'mlmodel list'], env)).stdout;
    const archivesBefore = countArchives();
    const script = join(root, 'blocked.mlmodel');
    writeFileSync(script, `mlmodel import name=blocked_a type=onnx path=${archive}\nmlmodel import name=blocked_b type=onnx path=${archive}\n`);
    // Longer than the store's 15 s deadline.
    const lock = await holdWriteLock(dbPath, 19_000);
    const run = await runCli(['-f', script], env, 60_000);
    await lock.released;
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^error at .*line 1: metadata database .* is busy: another process has held its write lock for 1\d(\.\d)? s; try again when it is done \(STORE_UNAVAILABLE\)\n/);
    // It fails at the store's 15 s deadline (the message says so). Releasing the failed import's
    // upload lease is a write too, so the exit may wait for the lock once more: never forever.
    expect(run.ended - run.started).toBeLessThan(19_000 + 15_000);
    // Nothing of either import: no record, no object.
    expect((await runCli(['--format', 'json', '-c', 'mlmodel list'], env)).stdout).toBe(before);
    expect(countArchives()).toBe(archivesBefore);
  }, 90_000);
});

/** Archive objects in the home's object directory. */
function countArchives(): number {
  const models = join(home, 'objects', 'models');
  return readdirSync(models).filter((uid) => existsSync(join(models, uid, 'archive'))).length;
}

/** A record of its own (uid, id, version) shaped like `base`. */
function recordLike(base: ModelRecord, uid: string): ModelRecord {
  return { ...base, uid, id: 1_000_000 + uid.length + Math.floor(Math.random() * 1000), version: 1000 + Math.floor(Math.random() * 1000), latest: false };
}
