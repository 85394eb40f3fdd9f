/**
 * The metadata conformance suite on a real MongoDB-wire server: FerretDB
 * v1.24.2 (SQLite backend) built by scripts/test-servers.mjs, or a mongod on
 * PATH, or MLMODEL_TEST_MONGODB_URL; and again on FerretDB over PostgreSQL,
 * the second MongoDB-wire backend. Each store gets its own database.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isMlmodelError } from '../../src/errors.js';
import { F, type FilterDoc } from '../../src/store/filter.js';
import type { MetadataStore } from '../../src/store/metadata.js';
import { MODEL_INDEXES, MongoMetadataStore } from '../../src/store/mongo.js';
import { filterQuery } from '../../src/store/mingo.js';
import { describeWithServer, MONGO_WIRE_SERVERS } from '../servers/servers.js';
import { fixture, metadataConformance, record } from './metadata-conformance.js';
import { likeMatchesPattern } from '../support/like-reference.js';

const run = randomBytes(4).toString('hex');
let n = 0;

for (const server of MONGO_WIRE_SERVERS) describeWithServer(server, 'MongoDB metadata store', (url) => {
  const databases = new WeakMap<MetadataStore, string>();
  const opened: MongoMetadataStore[] = [];
  const open = async (database: string) => {
    const store = new MongoMetadataStore({ url, database });
    await store.init();
    databases.set(store, database);
    opened.push(store);
    return store;
  };

  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    // Drop what this run created.
    const admin = new MongoClient(url);
    for (const db of new Set(opened.map((s) => databases.get(s)!))) await admin.db(db).dropDatabase().catch(() => undefined);
    await admin.close();
  });

  metadataConformance({
    open: () => open(`mlmodel_test_${run}_${++n}`),
    reopen: (store) => open(databases.get(store)!),
  });

  describe('MongoDB specifics', () => {
    let store: MongoMetadataStore;
    const commands: CommandStartedEvent[] = [];
    beforeAll(async () => {
      const database = `mlmodel_test_${run}_${++n}`;
      store = new MongoMetadataStore({ url, database, clientOptions: { monitorCommands: true } });
      await store.init();
      databases.set(store, database);
      opened.push(store);
      store.client.on('commandStarted', (e) => commands.push(e));
      for (const r of fixture()) await store.insertModel(r);
    });

    it('sends each list query as one find carrying filter, sort and limit', async () => {
      commands.length = 0;
      const got = await store.findModels({
        filter: F.and(F.eq('latest', true), F.eq('type', 'tf'), F.eq('category', 'classification')),
        sort: [['modified', -1]],
        limit: 20,
      });
      expect(got.map((r) => r.id)).toEqual([4, 2, 8]);
      const sent = commands.filter((c) => c.commandName !== 'endSessions');
      expect(sent.map((c) => c.commandName)).toEqual(['find']);
      const cmd = sent[0]!.command;
      expect(cmd.filter).toEqual({ $and: [{ latest: { $eq: true } }, { type: { $eq: 'tf' } }, { category: { $eq: 'classification' } }] });
      // The driver sends the sort as an ordered map: compare its entries in order.
      expect(cmd.sort instanceof Map ? [...cmd.sort] : Object.entries(cmd.sort)).toEqual([
        ['modified', -1],
        ['id', -1],
      ]);
      expect(cmd.limit).toBe(20);
    });

    it('creates the indexes that serve the list query and the claims', async () => {
      const names = (await store.client.db(databases.get(store)!).collection('models').listIndexes().toArray()).map((i) => i.name);
      for (const ix of MODEL_INDEXES) expect(names).toContain(ix.name);
      const type = (await store.client.db(databases.get(store)!).collection('models').listIndexes().toArray()).find(
        (i) => i.name === 'type_category_modified',
      );
      expect(type?.key).toEqual({ type: 1, category: 1, modified: -1, id: -1 });
      const seq = await store.client.db(databases.get(store)!).collection('seq_claims').listIndexes().toArray();
      expect(seq.find((i) => i.name === 'seq_n_unique')?.unique).toBe(true);
    });

    it('writes with write concern majority and journaling', async () => {
      commands.length = 0;
      await store.claimNext('wc-check', 'me');
      await store.updateModel(fixture()[0]!.uid, { serving: 'off' });
      const writes = commands.filter((c) => ['insert', 'update', 'findAndModify', 'delete'].includes(c.commandName));
      expect(writes.length).toBeGreaterThan(0);
      for (const w of writes) expect(w.command.writeConcern).toEqual({ w: 'majority', j: true });
    });

    it('sends like as an anchored regex ending in \\z', async () => {
      commands.length = 0;
      await store.findModels({ filter: F.like('name', 'a.b%') });
      const find = commands.find((c) => c.commandName === 'find')!;
      expect(find.command.filter).toEqual({ name: { $regex: '^a\\.b[\\s\\S]*\\z' } });
    });

    it('answers hostile like patterns as the reference does, in bounded time, with one repetition per wildcard run', async () => {
      // Its own database: 300 records with random digests.
      const hostile = await open(`mlmodel_test_${run}_${++n}`);
      const shas = new Map<number, string>();
      for (let id = 1; id <= 300; id++) {
        const sha256 = randomBytes(32).toString('hex');
        shas.set(id, sha256);
        await hostile.insertModel(record({ id, sha256 }));
      }
      for (const pattern of ['%_%_%_%_%_%_%_%_%_%_%!', '%_%_%_%_%_%_%_%_%_%_%a', `${'%_'.repeat(30)}%f%`, '%a%b%c%d%e%f%0%1%2%!']) {
        const started = performance.now();
        const got = (await hostile.findModels({ filter: F.like('sha256', pattern) })).map((r) => r.id).sort((a, b) => a - b);
        expect(performance.now() - started).toBeLessThan(15_000);
        expect(got).toEqual([...shas].filter(([, sha]) => likeMatchesPattern(pattern, sha)).map(([id]) => id));
      }
      commands.length = 0;
      await store.findModels({ filter: F.like('sha256', '%_%_%x') });
      const find = commands.find((c) => c.commandName === 'find')!;
      expect(find.command.filter).toEqual({ sha256: { $regex: '^[\\s\\S][\\s\\S][\\s\\S]*x\\z' } });
    }, 120_000);

    // The server's answers against mingo's (the SQLite fallback's) on random
    // filters over the fixture, nested fields and arrays included.
    it('server and mingo agree on random filters', async () => {
      const data = await store.findModels({});
      const leaf = fc.oneof(
        fc.constantFrom('tf', 'sklearn', 'onnx', 'x').map((v) => F.eq('type', v)),
        fc.constantFrom('classification', null).map((v) => F.ne('category', v)),
        fc.integer({ min: 0, max: 600 }).map((v) => F.gte('size', v)),
        fc.integer({ min: 0, max: 1100 }).map((v) => F.gt('options.train_cnt', v)),
        fc.constantFrom('80', 'x').map((v) => F.eq('options.train_cnt', v)),
        fc.constantFrom(2, 4, 13, null).map((v) => F.eq('options.feature.dim', v)),
        fc.constantFrom('prod', 'vision', 'beta').map((v) => F.eq('tags', v)),
        fc.subarray(['prod', 'beta', 'none']).map((vs) => F.in('tags', vs)),
        fc.constantFrom('%', 'i%', '%.%', '_i%', 'na_ve_', 'kmeans', 'line1%').map((p) => F.like(p.startsWith('line') ? 'options.description' : 'name', p)),
      );
      const filter: fc.Arbitrary<FilterDoc> = fc.letrec<{ f: FilterDoc }>((tie) => ({
        f: fc.oneof(
          { depthSize: 'small' },
          leaf,
          fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => F.and(...fs)),
          fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => F.or(...fs)),
          tie('f').map((f) => F.not(f)),
        ),
      })).f;
      await fc.assert(
        fc.asyncProperty(filter, async (f) => {
          const server = (await store.findModels({ filter: f })).map((r) => r.id);
          const q = filterQuery(f);
          const local = data.filter((r) => q.test(r as unknown as Record<string, unknown>)).map((r) => r.id);
          expect(server).toEqual(local);
        }),
        { numRuns: 60 },
      );
    }, 120_000);

    it('reports an unreachable server as STORE_UNAVAILABLE without the password', async () => {
      const bad = new MongoMetadataStore({
        url: 'mongodb://user:s3cretpw@127.0.0.1:1/x',
        database: 'x',
        clientOptions: { serverSelectionTimeoutMS: 300 },
      });
      const err = await bad.init().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMlmodelError(err, 'STORE_UNAVAILABLE')).toBe(true);
      expect(String((err as Error).message)).not.toContain('s3cretpw');
      expect(JSON.stringify(err)).not.toContain('s3cretpw');
      expect(String((err as Error).message)).toContain('user:***@127.0.0.1:1');
    });
  });
});
