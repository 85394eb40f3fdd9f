import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll } from 'vitest';
import { MongoClient } from 'mongodb';
import { parseS3Url } from '../../src/config/location.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { httpGet, readAll } from '../store/objects-conformance.js';
import type { Backend } from './registry-suite.js';

/**
 * Backends for the walk-through on a MongoDB-wire server and MinIO (one
 * server, or the distributed cluster): `backend(kind)` gives a setup whose
 * every call makes fresh stores — its own database, bucket and serving base
 * — as the embedded setup does, since the walk-through's cases each ask for
 * a registry of their own. Call it in a describe body: the databases are
 * dropped after the suite. MINIO_URL may be a function, read at each call:
 * a server started in beforeAll, or one node of a cluster after another.
 */
export function serversBackends(mongoUrl: string, minioUrl: string | (() => string)): (kind: string) => () => Promise<Backend> {
  const run = randomBytes(3).toString('hex');
  const database = `mlmodel_it_${run}`;
  const mongo = new URL(mongoUrl);
  mongo.pathname = `/${database}`;
  const store = (url: string) => new MinioObjectStore({ location: parseS3Url(url, 'test') });

  const databases: string[] = [];
  afterAll(async () => {
    const client = new MongoClient(mongoUrl);
    for (const db of databases) await client.db(db).dropDatabase().catch(() => undefined);
    await client.close();
  });

  let calls = 0;
  return (kind: string) => async (): Promise<Backend> => {
    const prefix = `${kind}-${calls++}`;
    const base = (typeof minioUrl === 'function' ? minioUrl() : minioUrl).replace(/\/+$/, '');
    const locations = {
      objects: `${base}/mlmodel-it-${run}`,
      connector: `${base}/sources-${run}`,
      serving: `${base}/serving-${run}/tfserving`,
    };
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
}
