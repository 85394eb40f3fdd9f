/**
 * A registry of many models, made in seconds: `base` records inserted
 * through the store's own API in one group (so each is a record the store
 * checked), then copied in SQL to `count` under new ids, names and uids, in
 * id order, as bench/web.ts makes its million. Only for reading: no model
 * has an archive behind it.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MetadataStore, ModelRecord } from '../../src/store/metadata.js';
import { SqliteMetadataStore } from '../../src/store/sqlite.js';

const D0 = Date.UTC(2026, 0, 1);

/** Record `id`: name m<id>, type by id mod 3, modified one second after the last. */
export function manyModel(id: number, user = 'root'): ModelRecord {
  const uid = randomUUID();
  return {
    uid, model_uid: randomUUID(), id, user, name: `m${id}`, version: 1, type: ['tf', 'sklearn', 'onnx'][id % 3]!,
    category: null, algorithm: null, format: null, filename: null, serving: 'off', serving_name: null, state: 'ACTIVE', latest: true,
    create: new Date(D0 + id * 1000), modified: new Date(D0 + id * 1000), imported: new Date(D0), size: id,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', object_key: `models/${uid}/archive`, tags: [], options: {},
  };
}

/** Inserts models 1…count through the store's API, in one group. */
export async function insertMany(store: MetadataStore, count: number, user = 'root'): Promise<void> {
  await store.group(async () => {
    for (let id = 1; id <= count; id++) await store.insertModel(manyModel(id, user));
  });
}

/** An embedded registry home holding `count` models (m1 … m<count>, ids 1 … count). */
export async function manyModelsHome(home: string, count: number, base = Math.min(count, 1000)): Promise<void> {
  const path = join(home, 'mlmodel.db');
  const store = new SqliteMetadataStore({ path });
  await store.init();
  await insertMany(store, base);
  await store.close();
  if (count <= base) return;
  const db = new Database(path);
  const cols = (db.prepare('PRAGMA table_info(models)').all() as { name: string }[]).map((c) => c.name);
  const iso = "strftime('%Y-%m-%dT%H:%M:%fZ', (m.modified + (k.n - m.id) * 1000) / 1000.0, 'unixepoch')";
  const set: Record<string, string> = {
    uid: "m.uid || '-' || k.n",
    model_uid: "m.model_uid || '-' || k.n",
    id: 'k.n',
    name: "'m' || k.n",
    size: 'k.n',
    modified: 'm.modified + (k.n - m.id) * 1000',
    create: 'm."create" + (k.n - m.id) * 1000',
    doc: `json_set(m.doc, '$.uid', m.uid || '-' || k.n, '$.model_uid', m.model_uid || '-' || k.n, '$.id', k.n, '$.name', 'm' || k.n, '$.size', k.n, '$.modified', ${iso}, '$.create', ${iso})`,
  };
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE k(n) AS (SELECT ${base + 1} UNION ALL SELECT n + 1 FROM k WHERE n < ${count})
       INSERT INTO models (${cols.map((c) => `"${c}"`).join(', ')})
       SELECT ${cols.map((c) => set[c] ?? `m."${c}"`).join(', ')} FROM k JOIN models m ON m.id = ((k.n - 1) % ${base}) + 1`,
    ).run();
  })();
  db.close();
}
