/**
 * The store pairs the exchange tests move models between: the embedded pair
 * (SQLite + directory) in a fresh home, and FerretDB + MinIO (a fresh
 * database and buckets per registry), each with a connector MIN_AI; plus a
 * snapshot of everything a registry holds, to show that a refused bundle
 * left nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadConfig, type Env } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { objectStoreAt, openStores } from '../../src/store/open.js';
import { parseS3Url } from '../../src/config/location.js';
import type { ModelRecord } from '../../src/store/metadata.js';
import { extractArchive } from '../../src/archive/index.js';
import { readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';

export interface TestRegistry {
  readonly env: Env;
  readonly reg: Registry;
  close(): Promise<void>;
}

/** `extra`: more settings (e.g. another connector). */
export async function embeddedRegistry(extra: Env = {}): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'mlmodel-exchange-'));
  const env: Env = { HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root', MLMODEL_CONNECTOR_MIN_AI: join(root, 'connector'), ...extra };
  const reg = await openRegistry({ config: loadConfig(env) });
  return { env, reg, close: () => reg.close() };
}

/** A registry on FerretDB + MinIO, in its own database and buckets; its connector MIN_AI is a bucket too. */
export async function serverRegistry(mongoUrl: string, minioUrl: string, extra: Env = {}): Promise<TestRegistry> {
  const run = randomBytes(4).toString('hex');
  const base = minioUrl.replace(/\/+$/, '');
  const mongo = new URL(mongoUrl);
  const database = `mlmodel_exchange_${run}`;
  mongo.pathname = `/${database}`;
  const env: Env = {
    HOME: '/nonexistent-home',
    MLMODEL_HOME: join(tmpdir(), `mlmodel-exchange-${run}`),
    MLMODEL_USER: 'root',
    MLMODEL_MONGODB_URL: mongo.toString(),
    MLMODEL_MINIO_URL: `${base}/exchange-${run}`,
    MLMODEL_CONNECTOR_MIN_AI: `${base}/exchange-src-${run}`,
    MLMODEL_SERVING_BASE: `${base}/exchange-serving-${run}/tfserving`,
    ...extra,
  };
  const reg = await openRegistry({ config: loadConfig(env) });
  // The connector's bucket exists, as an operator's would (export and bundle never create buckets).
  const connector = await objectStoreAt(parseS3Url(env.MLMODEL_CONNECTOR_MIN_AI!, 'test'));
  await connector.init();
  await connector.close();
  return {
    env,
    reg,
    async close() {
      await reg.close();
      const client = new MongoClient(mongoUrl);
      await client.db(database).dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}

/** Every record (without the registry-local id), every object key and every model-name claim of a registry. */
export async function snapshot(t: TestRegistry): Promise<{ records: Array<Partial<ModelRecord>>; objects: string[]; names: string[] }> {
  const stores = await openStores(loadConfig(t.env));
  try {
    const records = (await stores.metadata.findModels({})).map((r) => ({ ...r }));
    const objects: string[] = [];
    for await (const o of stores.objects.list('')) objects.push(o.key);
    const names = (await stores.metadata.listClaims('model-name:root')).map((c) => `${c.name}=${c.owner}`);
    return { records, objects: objects.sort(), names: names.sort() };
  } finally {
    await stores.close();
  }
}

/** The files of a bundle (or any tar), by path, read with the archive layer's strict reader. */
export async function tarFiles(path: string): Promise<Map<string, Buffer>> {
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-tarfiles-'));
  const report = await extractArchive(createReadStream(path), join(dir, 'x'));
  const out = new Map<string, Buffer>();
  for (const f of report.files) out.set(f.path, await readFile(join(dir, 'x', ...f.path.split('/'))));
  return out;
}

export const column = (t: { columns: readonly { name: string }[]; rows: readonly (readonly unknown[])[] }, name: string) =>
  t.rows.map((r) => r[t.columns.findIndex((c) => c.name === name)]);
