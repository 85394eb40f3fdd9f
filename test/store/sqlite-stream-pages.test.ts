/**
 * How the embedded store's stream pages a result: a small first page, so the
 * first rows reach a reader before a whole page has been read, parsed and
 * formatted, then full pages; an explicit page size holds for every page.
 * The records come in the query's order whatever the pages' sizes.
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
