import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';
import { call, startHarness, type Harness } from '../http/harness.js';
import { LIST_COLUMNS, nextCursor, pageQuery, type Cursor, type Sort } from '../../web/src/paging.js';

/**
 * The list page's keyset paging (web/src/paging.ts), walked through the
 * query API with small pages over a real registry full of ties — imports
 * in the same second, repeated types, categories some models lack — for
 * every column in both directions: the pages together must be the API's own
 * full sort, nothing repeated or missed.
 */
let h: Harness;

async function run(q: string) {
  const r = await call(h, 'POST', '/query', { token: 'alice', body: { q } });
  expect(r.status, `${q}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body as { fields: { name: string }[]; results: unknown[][] };
}

beforeAll(async () => {
  h = await startHarness();
  const tf = join(h.inbox, 'tf.tar');
  const sk = join(h.inbox, 'sk.tgz');
  writeFileSync(tf, archives.tfSavedModel());
  writeFileSync(sk, archives.sklearn());
  const lines = Array.from({ length: 23 }, (_, i) =>
    i % 4 === 0 ? `mlmodel import name=m${(i * 7) % 23} type=sklearn category=classification algorithm=linear path=${sk}` : `mlmodel import name=m${(i * 7) % 23} type=tf path=${tf}`,
  );
  expect((await call(h, 'POST', '/query/script', { token: 'alice', body: { script: lines.join('\n') } })).status).toBe(200);
  expect((await call(h, 'POST', '/query/script', { token: 'bob', body: { script: `mlmodel import name=m3 type=tf path=${tf}\nmlmodel import name=zz type=tf category=regression path=${tf}` } })).status).toBe(200);
});
afterAll(() => h.close());

describe('keyset paging of the model list', () => {
  for (const column of LIST_COLUMNS) {
    for (const descending of [false, true]) {
      it(`walks sort ${descending ? '-' : ''}${column} in pages of 4, with and without a search`, async () => {
        const sort: Sort = { column, descending };
        for (const search of ['', 'where type = tf', 'user = alice or name like m1%']) {
          const keys = column === 'id' ? `${descending ? '-' : ''}id` : `${descending ? '-' : ''}${column}, ${descending ? '-' : ''}id`;
          const want = (await run(`mlmodel list${search ? ` | where ${search.replace(/^where /, '')}` : ''} | sort ${keys} | fields id`)).results.map((r) => r[0]);
          const seen: unknown[] = [];
          let cursor: Cursor | null = null;
          for (let page = 0; page < 40; page++) {
            const { q, skip } = pageQuery(search, sort, cursor, 4);
            const r = await run(q);
            const rows = r.results.slice(skip);
            const shown = rows.slice(0, 4);
            const idIx = r.fields.findIndex((f) => f.name === 'id');
            seen.push(...shown.map((row) => row[idIx]));
            if (rows.length <= 4) break;
            cursor = nextCursor(shown, idIx, r.fields.findIndex((f) => f.name === column), sort, cursor);
          }
          expect(seen, `${search || 'everything'} by ${keys}`).toEqual(want);
        }
      });
    }
  }
});
