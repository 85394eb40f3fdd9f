/**
 * Issue 22 §2 on the production pair: a list streamed from MongoDB (FerretDB)
 * through its cursor, a batch at a time — through the library's cursor and
 * the real CLI — gives every row in order, with the stages that stream and
 * the sort that does not; a cursor left early is closed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { STREAM_PAGE } from '../../src/store/metadata.js';
import { MongoMetadataStore } from '../../src/store/mongo.js';
import { runCli } from '../support/cli-process.js';
import { insertMany } from '../support/many-models.js';
import { databaseOfItsOwn, describeWithServer } from '../servers/servers.js';

/** Several of the store's pages (and so several getMore batches). */
const MODELS = STREAM_PAGE * 4 + 37;
const run = randomBytes(3).toString('hex');

describeWithServer('mongodb', 'streamed list on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const url = databaseOfItsOwn(mongoUrl, `mlmodel_stream_${run}`);
    const env = {
      PATH: process.env.PATH,
      HOME: '/nonexistent-home',
      MLMODEL_HOME: `/tmp/mlmodel-stream-${run}`,
      MLMODEL_USER: 'root',
      MLMODEL_MONGODB_URL: url,
      MLMODEL_MINIO_URL: `${minioUrl.replace(/\/+$/, '')}/mlmodel-stream-${run}`,
      TZ: 'UTC',
    };
    let registry: Registry;
    beforeAll(async () => {
      const store = new MongoMetadataStore({ url, database: `mlmodel_stream_${run}` });
      await store.init();
      await insertMany(store, MODELS);
      await store.close();
      registry = await openRegistry({ env });
    }, 120_000);
    afterAll(async () => registry?.close());

    const ids = async (q: string) => {
      const out: unknown[] = [];
      for await (const [id] of await registry.stream(q)) out.push(id);
      return out;
    };

    it('the library cursor: every row in id order, over several batches', async () => {
      expect(await ids('mlmodel list | fields id')).toEqual(Array.from({ length: MODELS }, (_, i) => i + 1));
    });

    it('stages pushed into the find, and the ones run over its pages, as a plain evaluation gives them', async () => {
      expect(await ids(`mlmodel list | where id > ${MODELS - 3} | fields id`)).toEqual([MODELS - 2, MODELS - 1, MODELS]);
      expect(await ids('mlmodel list | sort -id | head 2 | fields id')).toEqual([MODELS, MODELS - 1]);
      expect(await ids('mlmodel list | head 1500 | sort -id | head 2 | fields id')).toEqual([1500, 1499]);
      expect(await ids('mlmodel list | head 1500 | where id > 1497 | fields id')).toEqual([1498, 1499, 1500]);
    });

    it('a cursor left early is closed, and the registry reads on', async () => {
      const cursor = await registry.stream('mlmodel list | fields id');
      let n = 0;
      for await (const _row of cursor) if (++n === 3) break;
      await cursor.close();
      expect((await registry.run('mlmodel list | sort -id | head 1 | fields id')).rows).toEqual([[MODELS]]);
    });

    it('the CLI streams it as jsonl and csv', async () => {
      const jsonl = await runCli(['--format', 'jsonl', '-c', 'mlmodel list | fields id, name'], env);
      expect(jsonl.stderr).toBe('');
      const rows = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; name: string });
      expect(rows).toEqual(Array.from({ length: MODELS }, (_, i) => ({ id: i + 1, name: `m${i + 1}` })));
      const csv = await runCli(['--format', 'csv', '-c', 'mlmodel list | fields id'], env);
      expect(csv.stdout.split('\r\n')).toEqual(['id', ...Array.from({ length: MODELS }, (_, i) => String(i + 1)), '']);
    });
  });
});

