/**
 * Opens the tracking store in the database the registry's metadata store
 * uses: the same SQLite file (its own connection; WAL lets both read while
 * one writes), or the same MongoDB database through the metadata store's
 * client. Like store/open.ts, a backend's module is imported only when used.
 */
import type { Config } from '../config/index.js';
import type { MetadataStore } from '../store/metadata.js';
import type { TrackingStore } from './store.js';

export async function openTrackingStore(config: Config, meta: MetadataStore): Promise<TrackingStore> {
  const m = config.metadata;
  let store: TrackingStore;
  if (m.kind === 'mongodb') {
    const [{ MongoTrackingStore }, { MongoMetadataStore }] = await Promise.all([import('./mongo.js'), import('../store/mongo.js')]);
    if (!(meta instanceof MongoMetadataStore)) throw new Error('a MongoDB configuration opened a metadata store that is not MongoDB');
    store = new MongoTrackingStore(meta.client.db(m.database), meta.location, meta);
  } else {
    const { SqliteTrackingStore } = await import('./sqlite.js');
    store = new SqliteTrackingStore({ path: m.path });
  }
  await store.init();
  return store;
}
