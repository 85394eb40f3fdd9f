/** The tracking conformance suite on a MongoDB-wire server (FerretDB), through a metadata store's client as the registry opens it. */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll } from 'vitest';
import { MongoMetadataStore } from '../../src/store/mongo.js';
import { MongoTrackingStore } from '../../src/tracking/mongo.js';
import type { TrackingStore } from '../../src/tracking/store.js';
import { describeWithServer } from '../servers/servers.js';
import { trackingConformance } from './conformance.js';

const tag = randomBytes(4).toString('hex');
let n = 0;

describeWithServer('mongodb', 'MongoDB tracking store', (url) => {
  const metas: MongoMetadataStore[] = [];
  const databases = new WeakMap<TrackingStore, string>();
  const open = async (database: string) => {
    const meta = new MongoMetadataStore({ url, database });
    await meta.init();
    metas.push(meta);
    const store = new MongoTrackingStore(meta.client.db(database), meta.location, meta);
    await store.init();
    databases.set(store, database);
    return store;
  };
  afterAll(async () => {
    for (const m of metas) await m.close().catch(() => undefined);
    const admin = new MongoClient(url);
    for (let i = 1; i <= n; i++) await admin.db(`mlmodel_track_${tag}_${i}`).dropDatabase().catch(() => undefined);
    await admin.close();
  });
  trackingConformance({
    open: () => open(`mlmodel_track_${tag}_${++n}`),
    reopen: (store) => open(databases.get(store)!),
  });
});
