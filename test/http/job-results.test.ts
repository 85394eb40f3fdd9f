import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineEnd, render } from '../../console/render/formats.js';
import { ResultStore } from '../../console/serve/results.js';
import type { Cell, Column, ResultTable } from '../../src/result/table.js';
import { call, manyFilesArchive, startHarness, waitJob, type Harness } from './harness.js';

const FILES = 3000;
const Q = 'mlmodel files big';
const BIG = manyFilesArchive(FILES);

describe('job results: spilled to disk past a size, per-user slots', () => {
  let h: Harness;
  let spill: string;
  let expected: ResultTable;
  // A server of its own for each case, on a fresh spill directory: the spill
  // files a case counts are those of its own jobs, whatever ran before it.
  beforeEach(async () => {
    const parent = mkdtempSync(join(tmpdir(), 'mlmodel-spill-'));
    spill = join(parent, 'serve');
    // A directory left by a server that died (no such pid) is removed when the next one starts.
    mkdirSync(join(spill, 'results-999999999-deadbeef'), { recursive: true });
    writeFileSync(join(spill, 'results-999999999-deadbeef', 'x.jsonl'), '[1]\n');
    h = await startHarness({ server: { spillDir: spill, resultInlineBytes: 64 * 1024, resultMemoryBytes: 256 * 1024, maxJobsPerUser: 6 } });
    writeFileSync(join(h.inbox, 'big.tar.gz'), BIG);
    const r = await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel import name=big type=sklearn path=${join(h.inbox, 'big.tar.gz')}` } });
    expect(r.status).toBe(200);
    expected = await h.registry.run(Q, { user: 'alice' });
    expect(expected.rows).toHaveLength(FILES + 1);
  });
  afterEach(() => h?.close());

  const spillFiles = () => readdirSync(spill).flatMap((d) => readdirSync(join(spill, d)).map((f) => join(spill, d, f)));

  it('spills a large result to a 0600 file in a 0700 directory and pages it back exactly', async () => {
    expect(existsSync(join(spill, 'results-999999999-deadbeef'))).toBe(false);
    const s = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: Q } });
    const first = await waitJob(h, s.body.sid, 'alice', 20_000, '?limit=7');
    expect(first.body).toMatchObject({ state: 'done', status: { current: 7, total: FILES + 1 }, isEnd: false });
    const files = spillFiles();
    expect(files).toHaveLength(1);
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    expect(statSync(join(files[0]!, '..')).mode & 0o777).toBe(0o700);
    // The sync answer is the reference: every page of the spilled job is the same rows.
    const sync = await call(h, 'POST', '/query', { token: 'alice', body: { q: Q } });
    expect(sync.body.results).toHaveLength(FILES + 1);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: FILES + 10 }), fc.option(fc.integer({ min: 1, max: 700 }), { nil: undefined }), async (offset, limit) => {
        const page = await call(h, 'GET', `/query/jobs/${s.body.sid}?offset=${offset}${limit ? `&limit=${limit}` : ''}`, { token: 'alice' });
        const want = sync.body.results.slice(offset, limit ? offset + limit : undefined);
        expect(page.body.results).toEqual(want);
        expect(page.body.status).toEqual({ current: Math.min(offset, FILES + 1) + want.length, total: FILES + 1 });
        expect(page.body.fields).toEqual(sync.body.fields);
      }),
      { numRuns: 40 },
    );
    // Downloads render from the file exactly what the table renders in memory, times included.
    for (const type of ['csv', 'json', 'jsonl', 'tsv', 'markdown', 'html'] as const) {
      const dl = await call(h, 'GET', `/query/jobs/${s.body.sid}/download?type=${type}`, { token: 'alice' });
      expect(dl.status, type).toBe(200);
      const text = typeof dl.body === 'string' ? dl.body : JSON.stringify(dl.body) + '\n';
      expect(text, type).toBe(render(expected, type) + lineEnd(type));
    }
    // Deleting the job removes its file.
    await call(h, 'DELETE', `/query/jobs/${s.body.sid}`, { token: 'alice' });
    expect(spillFiles()).toHaveLength(0);
  });

  it('keeps a small result in memory', async () => {
    const s = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: `${Q} | head 3` } });
    const r = await waitJob(h, s.body.sid, 'alice');
    expect(r.body.results).toHaveLength(3);
    expect(spillFiles()).toHaveLength(0);
    await call(h, 'DELETE', `/query/jobs/${s.body.sid}`, { token: 'alice' });
  });

  it('lets no user push out another user’s result: alice’s many jobs evict only her own', async () => {
    const bob = await call(h, 'POST', '/query/jobs', { token: 'bob', body: { q: Q } });
    expect((await waitJob(h, bob.body.sid, 'bob', 20_000, '?limit=1')).body.state).toBe('done');
    const mine: string[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: Q } });
      expect(s.status).toBe(200);
      await waitJob(h, s.body.sid, 'alice', 20_000, '?limit=1');
      mine.push(s.body.sid);
    }
    // alice holds her 6 newest; her older ones are gone, and their files with them.
    for (const sid of mine.slice(0, 14)) expect((await call(h, 'GET', `/query/jobs/${sid}?limit=1`, { token: 'alice' })).status).toBe(404);
    for (const sid of mine.slice(14)) expect((await call(h, 'GET', `/query/jobs/${sid}?limit=1`, { token: 'alice' })).body.state).toBe('done');
    expect(spillFiles()).toHaveLength(7);
    // bob's result is whole.
    const all = await call(h, 'GET', `/query/jobs/${bob.body.sid}?offset=0&limit=100000`, { token: 'bob' });
    expect(all.body.results).toHaveLength(FILES + 1);
    expect(all.body.results[FILES][0]).toBe(expected.rows[FILES]![0]);
  });

  it('answers a read racing a DELETE of a spilled job with the page or 404, never an internal error', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 15; i++) {
      const job = await call(h, 'POST', '/query/jobs', { token: 'bob', body: { q: Q } });
      await waitJob(h, job.body.sid, 'bob', 20_000, '?limit=1');
      const [page, del] = await Promise.all([
        call(h, 'GET', `/query/jobs/${job.body.sid}?offset=2500&limit=400`, { token: 'bob' }),
        call(h, 'DELETE', `/query/jobs/${job.body.sid}`, { token: 'bob' }),
      ]);
      expect(del.status).toBe(200);
      expect([200, 404], JSON.stringify(page.body).slice(0, 200)).toContain(page.status);
      if (page.status === 200) expect(page.body.results).toHaveLength(400);
      statuses.add(page.status);
    }
    console.log(`read racing DELETE: statuses ${[...statuses].join(', ')}`);
  });

  it('removes every spill file when the server closes', async () => {
    for (const user of ['alice', 'bob'] as const) {
      const s = await call(h, 'POST', '/query/jobs', { token: user, body: { q: Q } });
      expect((await waitJob(h, s.body.sid, user, 20_000, '?limit=1')).body.state).toBe('done');
    }
    expect(spillFiles()).toHaveLength(2);
    await h.close();
    h = undefined as unknown as Harness;
    expect(readdirSync(spill)).toEqual([]);
  });
});

describe('a user’s share of spill disk', () => {
  it('fails a job past it with 507 RESULT_TOO_LARGE, leaving no file, and frees the share when jobs go', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'mlmodel-spill-'));
    const h = await startHarness({ server: { spillDir: parent, resultInlineBytes: 1024, resultDiskBytesPerUser: 600 * 1024 } });
    try {
      writeFileSync(join(h.inbox, 'big.tar.gz'), manyFilesArchive(FILES));
      await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel import name=big type=sklearn path=${join(h.inbox, 'big.tar.gz')}` } });
      const a = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: Q } });
      expect((await waitJob(h, a.body.sid, 'alice', 20_000, '?limit=1')).body.state).toBe('done');
      const b = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: Q } });
      const refused = await waitJob(h, b.body.sid, 'alice', 20_000);
      expect(refused.status).toBe(507);
      expect(refused.body).toMatchObject({ state: 'failed', error: { code: 'RESULT_TOO_LARGE', limit: 600 * 1024 } });
      const files = () => readdirSync(parent).flatMap((d) => readdirSync(join(parent, d)));
      expect(files()).toHaveLength(1);
      // Another user has a share of their own.
      const c = await call(h, 'POST', '/query/jobs', { token: 'bob', body: { q: Q } });
      expect((await waitJob(h, c.body.sid, 'bob', 20_000, '?limit=1')).body.state).toBe('done');
      // Once alice's first job is deleted, her next fits again.
      await call(h, 'DELETE', `/query/jobs/${a.body.sid}`, { token: 'alice' });
      const d = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: Q } });
      expect((await waitJob(h, d.body.sid, 'alice', 20_000, '?limit=1')).body.state).toBe('done');
      expect(files()).toHaveLength(2);
    } finally {
      await h.close();
    }
  });
});

describe('a spilled result reads back as the very cells it was given', () => {
  it('for generated tables of every column type, pages at any offset', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'mlmodel-spill-'));
    const store = new ResultStore(parent, { memoryBytes: 0, inlineBytes: 0, diskBytesPerUser: 1 << 30 });
    // A JSON value as the stores hand it out: parsed JSON (-0 nested in one prints as 0 in every format anyway).
    const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as Cell);
    const cell: fc.Arbitrary<Cell> = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 10 }),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.date({ noInvalidDate: true }),
      json,
      fc.constantFrom<Cell>({ d: 1 }, { n: 'NaN' }, { j: null }, [], {}, 'null', '{"d":1}'),
    );
    const columns: Column[] = ['a', 'b', 'c'].map((name) => ({ name, type: 'JSON' as const }));
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell, cell), { maxLength: 700, size: 'max' }), fc.nat(800), fc.option(fc.nat(300), { nil: null }), async (rows, offset, limit) => {
        const held = await store.keep('u', { columns, rows });
        try {
          expect(held.file).not.toBeNull();
          expect(await held.page(offset, limit)).toEqual(rows.slice(offset, limit === null ? undefined : offset + limit));
          expect((await held.table()).rows).toEqual(rows);
          checked += rows.length;
        } finally {
          store.release('u', held);
        }
      }),
      { numRuns: 60 },
    );
    expect(store.diskBytes('u')).toBe(0);
    store.close();
    expect(checked).toBeGreaterThan(1000);
  });
});
