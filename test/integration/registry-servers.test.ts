import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, describe } from 'vitest';
import { MongoClient } from 'mongodb';
import { parseS3Url } from '../../src/config/location.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { describeWithServer, MONGO_WIRE_SERVERS } from '../servers/servers.js';
import { httpGet, readAll } from '../store/objects-conformance.js';
import { registrySuite, type Backend } from './registry-suite.js';
import { atomicSuite } from './atomic-suite.js';

/**
 * The same walk-through on the production pair: a MongoDB-wire server
 * (FerretDB built by the repo's script, or a real mongod) and MinIO, with
 * a MinIO connector and a MinIO serving base; and the walk-through again
 * with FerretDB over PostgreSQL as the MongoDB-wire server (the races run
 * on the first server only: they test mlmodel's claims, which the
 * concurrency suite also runs on both).
 */
const runId = randomBytes(3).toString('hex');

for (const server of MONGO_WIRE_SERVERS) describeWithServer(server, 'registry on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const base = minioUrl.replace(/\/+$/, '');
    // Each MongoDB-wire server has buckets of its own on the one MinIO.
    const run = `${runId}${server === 'mongodb' ? '' : 'pg'}`;
    const database = `mlmodel_it_${run}`;
    const mongo = new URL(mongoUrl);
    mongo.pathname = `/${database}`;
    const locations = {
      objects: `${base}/mlmodel-it-${run}`,
      connector: `${base}/sources-${run}`,
      serving: `${base}/serving-${run}/tfserving`,
    };
    const store = (url: string) => new MinioObjectStore({ location: parseS3Url(url, 'test') });

    const databases: string[] = [];
    afterAll(async () => {
      const client = new MongoClient(mongoUrl);
      for (const db of databases) await client.db(db).dropDatabase().catch(() => undefined);
      await client.close();
    });

    // Every call gives fresh stores (its own database, bucket and serving
    // base), as the embedded setup does: the walk-through's cases each ask
    // for a registry of their own.
    let calls = 0;
    const backend = (kind: string) => async (): Promise<Backend> => {
      const prefix = `${kind}-${calls++}`;
      const sources = store(locations.connector);
      await sources.init();
      const serving = `${locations.serving}${prefix}`;
      const tag = prefix.replace(/\W/g, '');
      databases.push(`${database}${tag}`);
      return {
        env: {
          HOME: '/nonexistent-home',
          MLMODEL_HOME: `/tmp/mlmodel-it-${run}`,
          MLMODEL_USER: 'root',
          MLMODEL_MONGODB_URL: mongo.toString().replace(`/${database}`, `/${database}${tag}`),
          MLMODEL_MINIO_URL: `${locations.objects}${tag}`,
          MLMODEL_CONNECTOR_MIN_AI: locations.connector,
          MLMODEL_SERVING_BASE: serving,
        },
        async putSource(key, body) {
          await sources.put(key, Readable.from([body]));
        },
        async readServed(path) {
          const served = store(serving);
          if (!(await served.stat(path))) return null;
          return readAll(await served.get(path));
        },
        async listObjects(under) {
          const keys: string[] = [];
          for await (const o of store(`${locations.objects}${tag}`).list(under)) keys.push(o.key);
          return keys;
        },
        download: httpGet,
      };
    };

    describe('IRIS walk-through', () => {
      registrySuite(backend(''));
    });

    if (server === 'mongodb') {
      describe('delete, import, deploy and rename of one name, raced', () => {
        atomicSuite(backend('-atomic'), { rounds: Number(process.env.MLMODEL_ATOMIC_ROUNDS ?? 25) });
      });
    }
  });
});
