/**
 * How the embedded store's stream pages a result: a small first page, so the
 * first rows reach a reader before a whole page has been read, parsed and
 * formatted, then full pages; an explicit page size holds for every page.
 * The records come in the query's order whatever the pages' sizes. A
 * reader connection kept between streams keeps the statements it compiled:
 * a stream stopped early leaves the next one of the same query whole, a model
 * stored between two streams is in the second, and two streams at once each
 * step a statement of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_STREAM_PAGE, STREAM_PAGE, type ModelRecord } from '../../src/store/metadata.js';
import type { ModelQuery } from '../../src/store/filter.js';
import { SqliteMetadataStore } from '../../src/store/sqlite.js';
import { record } from './metadata-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-stream-pages-'));
const MODELS = FIRST_STREAM_PAGE + 2 * STREAM_PAGE + 7;
let store: SqliteMetadataStore;

beforeAll(async () => {
  store = new SqliteMetadataStore({ path: join(root, 'mlmodel.db') });
  await store.init();
  // One transaction: a thousand durable commits would be most of the test's time.
  await store.group(async () => {
    for (let id = 1; id <= MODELS; id++) await store.insertModel(record({ id }));
  });
});
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

async function pages(opts: { pageSize?: number; limit?: number; desc?: boolean } = {}): Promise<ModelRecord[][]> {
  const out: ModelRecord[][] = [];
  const query: ModelQuery = { sort: [['id', opts.desc ? -1 : 1]], ...(opts.limit !== undefined ? { limit: opts.limit } : {}) };
  for await (const page of store.streamModels(query, opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {})) out.push(page);
  return out;
}

describe('the SQLite store streams in pages', () => {
  it('a small first page, then full ones, the rest last; every record once, in order', async () => {
    const got = await pages();
    expect(got.map((p) => p.length)).toEqual([FIRST_STREAM_PAGE, STREAM_PAGE, STREAM_PAGE, 7]);
    expect(got.flat().map((r) => r.id)).toEqual(Array.from({ length: MODELS }, (_, i) => i + 1));
  });

  it('an explicit page size, or a limit, cuts every page alike', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 0, max: MODELS + 10 }), fc.boolean(), async (size, limit, desc) => {
        const got = await pages({ pageSize: size, limit, desc });
        const want = Array.from({ length: Math.min(limit, MODELS) }, (_, i) => (desc ? MODELS - i : i + 1));
        expect(got.flat().map((r) => r.id)).toEqual(want);
        expect(got.every((p) => p.length > 0)).toBe(true);
        expect(got.slice(0, -1).every((p) => p.length === size)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});

describe('stream after stream on one reader', () => {
  it('the same query again, after one stopped early, reads every record, and sees a model stored between the two', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlmodel-stream-again-'));
    const own = new SqliteMetadataStore({ path: join(dir, 'mlmodel.db') });
    try {
      await own.init();
      await own.group(async () => {
        for (let id = 1; id <= 40; id++) await own.insertModel(record({ id }));
      });
      const query: ModelQuery = { sort: [['id', 1]] };
      const ids = async (stopAfter = Infinity): Promise<number[]> => {
        const out: number[] = [];
        for await (const page of own.streamModels(query, { pageSize: 5 })) {
          out.push(...page.map((r) => r.id));
          if (out.length >= stopAfter) break;
        }
        return out;
      };
      const all = Array.from({ length: 40 }, (_, i) => i + 1);
      expect(await ids(5)).toEqual(all.slice(0, 5));
      expect(await ids()).toEqual(all);
      await own.insertModel(record({ id: 41 }));
      expect(await ids()).toEqual([...all, 41]);
      // Two streams of the same query at once: the second has a reader (and a statement) of its own.
      const first = own.streamModels(query, { pageSize: 5 });
      const firstPage = await first.next();
      expect(await ids()).toEqual([...all, 41]);
      expect((firstPage.value as ModelRecord[]).map((r) => r.id)).toEqual(all.slice(0, 5));
      await first.return(undefined);
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
