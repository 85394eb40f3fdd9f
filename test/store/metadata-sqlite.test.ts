/**
 * The metadata conformance suite on the embedded SQLite store, twice: with
 * filter/sort/limit pushed into SQL, and with everything evaluated by mingo.
 * Both must meet the same hand-written expectations; a property test then
 * checks the SQL translation against mingo on random filters, and real
 * processes race for claims on one database file.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, type FilterDoc, type ModelQuery } from '../../src/store/filter.js';
import type { MetadataStore } from '../../src/store/metadata.js';
import { SqliteMetadataStore } from '../../src/store/sqlite.js';
import { fixture, metadataConformance, record } from './metadata-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-sqlite-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function harness(pushdown: boolean) {
  const paths = new WeakMap<MetadataStore, string>();
  return {
    async open() {
      const path = join(root, `db-${++n}`, 'mlmodel.db');
      const store = new SqliteMetadataStore({ path, pushdown });
      await store.init();
      paths.set(store, path);
      return store;
    },
    async reopen(store: MetadataStore) {
      const other = new SqliteMetadataStore({ path: paths.get(store)!, pushdown });
      await other.init();
      return other;
    },
  };
}

describe('SQLite metadata store (SQL push-down)', () => metadataConformance(harness(true)));
describe('SQLite metadata store (mingo only)', () => metadataConformance(harness(false)));

describe('SQLite specifics', () => {
  let store: SqliteMetadataStore;
  let plain: SqliteMetadataStore;
  beforeAll(async () => {
    const path = join(root, 'specifics', 'mlmodel.db');
    store = new SqliteMetadataStore({ path });
    await store.init();
    plain = new SqliteMetadataStore({ path, pushdown: false });
    await plain.init();
    for (const r of fixture()) await store.insertModel(r);
  });
  afterAll(async () => {
    await store.close();
    await plain.close();
  });

  it('uses WAL, synchronous=FULL, one file in the given place', async () => {
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(root, 'specifics', 'mlmodel.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    // synchronous is per connection: read the store's own.
    const files = readdirSync(join(root, 'specifics')).filter((f) => !f.endsWith('-wal') && !f.endsWith('-shm'));
    expect(files).toEqual(['mlmodel.db']);
  });

  it('pushes the list query into SQL over an index, limit included', () => {
    const query: ModelQuery = {
      filter: F.and(F.eq('latest', true), F.eq('type', 'tf'), F.eq('category', 'classification')),
      sort: [['modified', -1]],
      limit: 20,
    };
    const { plan, sql, details } = store.explain(query);
    expect(plan.residual).toBeNull();
    expect(plan.orderBy).toBe('"modified" DESC, "id" DESC');
    expect(plan.limitInSql).toBe(true);
    expect(sql).toMatch(/LIMIT \?$/);
    // An index search, and no sort step: the index delivers the order.
    expect(details.join('\n')).toMatch(/SEARCH models USING INDEX models_type_category_modified/);
    expect(details.join('\n')).not.toMatch(/TEMP B-TREE/);
  });

  it('looks a name up by its index, not by scanning the latest models, once the registry has grown', async () => {
    const path = join(root, 'grown', 'mlmodel.db');
    const grown = new SqliteMetadataStore({ path });
    await grown.init();
    await grown.group(async () => {
      for (let id = 1; id <= 3000; id++) await grown.insertModel(record({ id, name: `m${id}`, latest: true }));
    });
    await grown.close();
    const reopened = new SqliteMetadataStore({ path });
    await reopened.init();
    const { details } = reopened.explain({ filter: F.and(F.eq('latest', true), F.eq('state', 'ACTIVE'), F.eq('name', 'm1500')) });
    expect(details.join('\n')).toMatch(/USING INDEX models_(name|user_name_version|latest_name) \(/);
    // A page of the list sorted by name, or newest id first, is read from an index, not sorted whole.
    for (const sort of [[['name', 1], ['id', 1]], [['id', -1]]] as const) {
      const page = reopened.explain({ filter: F.and(F.eq('latest', true), F.eq('state', 'ACTIVE')), sort: sort.map(([f, d]) => [f, d] as [string, 1 | -1]), limit: 51 });
      expect(page.details.join('\n')).not.toMatch(/TEMP B-TREE/);
    }
    expect((await reopened.findModels({ filter: F.eq('name', 'm1500') })).map((r) => r.id)).toEqual([1500]);
    await reopened.close();
  });

  it('keeps what SQL cannot express for mingo, and pushes the rest', () => {
    const { plan } = store.explain({ filter: F.and(F.eq('type', 'tf'), F.gt('options.train_cnt', 1)), sort: [['size', 1]], limit: 2 });
    expect(plan.where).toBe('"type" = ?');
    expect(plan.residual).toEqual({ 'options.train_cnt': { $gt: 1 } });
    expect(plan.orderBy).not.toBeNull();
    expect(plan.limitInSql).toBe(false);
    const sortOnOption = store.explain({ sort: [['options.train_cnt', 1]] }).plan;
    expect(sortOnOption.orderBy).toBeNull();
  });

  it('pushes or/not/in/like with null-safe negation', () => {
    const { plan } = store.explain({
      filter: F.not(F.or(F.like('name', 'ir%'), F.in('category', ['a', null]))),
    });
    expect(plan.residual).toBeNull();
    expect(plan.where).toBe(
      `(("name" IS NULL OR "name" NOT LIKE ? ESCAPE '\\') AND ("category" IS NOT NULL AND "category" NOT IN (?)))`,
    );
  });

  // Random filters over the fields SQL handles, compared with mingo's answer
  // on the same rows: the SQL translation must agree with Mongo semantics.
  it('SQL push-down and mingo agree on random filters', async () => {
    const names = ['iris', 'wine', 'a.b', 'A.B', 'churn%2', 'churn_v2', 'naïve😀', 'digits'];
    const text = (field: string, values: Array<string | null>) =>
      fc.oneof(
        fc.constantFrom(...values).map((v) => F.eq(field, v)),
        fc.constantFrom(...values).map((v) => F.ne(field, v)),
        fc.constantFrom(...values.filter((v): v is string => v !== null)).map((v) => F.gt(field, v)),
        fc.constantFrom(...values.filter((v): v is string => v !== null)).map((v) => F.lte(field, v)),
        fc.subarray(values).map((vs) => F.in(field, vs)),
        fc.constantFrom('%', 'i%', '%s', '_._', 'churn_2', '%\\%%', 'na_ve_', '%b%').map((p) => F.like(field, p)),
      );
    const leaf = fc.oneof(
      text('name', names),
      text('category', ['classification', 'regression', 'clustering', null]),
      text('algorithm', ['cnn', 'CNN', 'kmeans\n', 'nb', null]),
      fc.integer({ min: -1, max: 600 }).chain((v) => fc.constantFrom(F.gt('size', v), F.gte('size', v), F.lt('size', v), F.lte('size', v), F.eq('size', v), F.ne('size', v))),
      fc.integer({ min: -1, max: 10 }).map((h) => F.lt('modified', new Date(Date.UTC(2024, 0, 1) + h * 3600_000))),
      fc.boolean().map((b) => F.eq('latest', b)),
    );
    const filter: fc.Arbitrary<FilterDoc> = fc.letrec<{ f: FilterDoc }>((tie) => ({
      f: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => F.and(...fs)),
        fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => F.or(...fs)),
        tie('f').map((f) => F.not(f)),
      ),
    })).f;
    await fc.assert(
      fc.asyncProperty(filter, fc.constantFrom<ModelQuery['sort']>([['name', 1]], [['category', -1], ['size', 1]], [['modified', -1]]), async (f, sort) => {
        const a = await store.findModels({ filter: f, sort });
        const b = await plain.findModels({ filter: f, sort });
        expect(store.explain({ filter: f }).plan.residual).toBeNull();
        expect(a.map((r) => r.id)).toEqual(b.map((r) => r.id));
      }),
      { numRuns: 400 },
    );
  });
});

describe('SQLite claims across processes', () => {
  // Real processes, each with its own connection, race on one file: SQLite's
  // locking (BEGIN IMMEDIATE + busy timeout) must still hand out 1..N once.
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = resolve(here, '..', '..');
  // The children run our TypeScript, transpiled here to plain JS inside the
  // repo's node_modules/.cache so that they resolve the same packages.
  const out = join(repo, 'node_modules', '.cache', 'mlmodel-test', `sqlite-${process.pid}`);

  beforeAll(() => {
    // All of src/store/, so a module the store comes to import is there without a list to keep.
    const files = ['src/errors.ts', ...readdirSync(join(repo, 'src', 'store')).filter((f) => f.endsWith('.ts')).map((f) => `src/store/${f}`)];
    for (const file of files) {
      const js = ts.transpileModule(readFileSync(join(repo, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const dest = join(out, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, js);
    }
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(out, 'claimer.js'),
      `import { SqliteMetadataStore } from './src/store/sqlite.js';
       const [path, who, count] = process.argv.slice(2);
       const store = new SqliteMetadataStore({ path });
       await store.init();
       process.send('ready');
       await new Promise((r) => process.once('message', r));
       const got = [];
       for (let i = 0; i < Number(count); i++) got.push(await store.claimNext('version:shared', who + '-' + i));
       await store.close();
       process.send(got);`,
    );
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('8 processes × 4 claims get 1..32 with no gap or repeat', async () => {
    const path = join(root, 'processes', 'mlmodel.db');
    const first = new SqliteMetadataStore({ path });
    await first.init();
    await first.close();
    const children = Array.from({ length: 8 }, (_, i) => fork(join(out, 'claimer.js'), [path, `p${i}`, '4'], { stdio: 'inherit' }));
    // Start them together, once all have opened the database.
    // A child that dies first (say, a module it cannot load) fails the test at once instead of at its timeout.
    await Promise.all(
      children.map(
        (c) =>
          new Promise((r, j) => {
            c.once('message', r);
            c.once('exit', (code) => j(new Error(`claimer exited with ${code} before it was ready`)));
          }),
      ),
    );
    const results = children.map(
      (c) =>
        new Promise<number[]>((res, rej) => {
          c.once('message', (m) => res(m as number[]));
          c.once('exit', (code) => (code ? rej(new Error(`claimer exited with ${code}`)) : undefined));
        }),
    );
    for (const c of children) c.send('go');
    const all = (await Promise.all(results)).flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    const check = new SqliteMetadataStore({ path });
    await check.init();
    expect(await check.lastClaimed('version:shared')).toBe(32);
    await check.insertModel(record({ id: 1 }));
    await check.close();
  }, 60_000);
});

describe('SQLite streams: the read connection kept between streams', () => {
  /** Open descriptors of this process on the database file itself (not its WAL or shared memory). */
  function dbDescriptors(path: string): number {
    const real = resolve(path);
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(join('/proc/self/fd', fd)) === real;
      } catch {
        return false;
      }
    }).length;
  }
  const ids = async (pages: AsyncIterable<Array<{ id: number }>>) => {
    const out: number[] = [];
    for await (const page of pages) out.push(...page.map((r) => r.id));
    return out;
  };
  const byId: ModelQuery = { sort: [['id', 1]] };

  it('sees what was written since the stream before, whether that one ended, was left early or failed, and leaves nothing open at close', async () => {
    const path = join(root, 'streams', 'mlmodel.db');
    const store = new SqliteMetadataStore({ path });
    await store.init();
    const alone = dbDescriptors(path);
    await store.insertModel(record({ id: 1, name: 'a' }));
    expect(await ids(store.streamModels(byId))).toEqual([1]);
    // The finished stream's connection is kept (one more descriptor) and sees the next write.
    expect(dbDescriptors(path)).toBe(alone + 1);
    await store.insertModel(record({ id: 2, name: 'b' }));
    expect(await ids(store.streamModels(byId))).toEqual([1, 2]);
    // A stream left after its first page of one record holds no snapshot afterwards.
    for await (const page of store.streamModels(byId, { pageSize: 1 })) {
      expect(page.map((r) => r.id)).toEqual([1]);
      break;
    }
    await store.insertModel(record({ id: 3, name: 'c' }));
    expect(await ids(store.streamModels(byId))).toEqual([1, 2, 3]);
    // Two at once: the second opens its own, and both read everything.
    const first = store.streamModels(byId, { pageSize: 1 })[Symbol.asyncIterator]();
    const head = await first.next();
    expect(head.value?.map((r) => r.id)).toEqual([1]);
    expect(await ids(store.streamModels(byId))).toEqual([1, 2, 3]);
    const rest: number[] = [];
    for (let r = await first.next(); !r.done; r = await first.next()) rest.push(...r.value.map((m) => m.id));
    expect(rest).toEqual([2, 3]);
    // (Descriptors are not counted here: SQLite defers closing a file another connection of the process holds a lock on.)
    // A failed stream (its signal fired between pages) closes its connection rather than keeping it.
    const cancel = new AbortController();
    const failing = store.streamModels(byId, { pageSize: 1, signal: cancel.signal })[Symbol.asyncIterator]();
    await failing.next();
    cancel.abort();
    await expect(failing.next()).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await ids(store.streamModels(byId))).toEqual([1, 2, 3]);
    await store.close();
    expect(dbDescriptors(path)).toBe(0);
  });
});
