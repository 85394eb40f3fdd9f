/**
 * Picks and opens the stores a configuration names: MongoDB and MinIO when
 * their URLs are set, else the embedded SQLite file and directory under the
 * home dir. Each backend's module (and so its driver) is imported only when
 * it is used, so the embedded default never loads the mongodb or minio
 * clients and a server setup never loads better-sqlite3.
 */
import type { Config, Location } from '../config/index.js';
import type { MetadataStore } from './metadata.js';
import type { ObjectStore } from './objects.js';

export interface Stores {
  metadata: MetadataStore;
  objects: ObjectStore;
  close(): Promise<void>;
}

export async function metadataStoreFor(config: Config): Promise<MetadataStore> {
  const m = config.metadata;
  if (m.kind === 'mongodb') {
    const { MongoMetadataStore } = await import('./mongo.js');
    return new MongoMetadataStore({ url: m.url, database: m.database, secrets: config.secrets });
  }
  const { SqliteMetadataStore } = await import('./sqlite.js');
  return new SqliteMetadataStore({ path: m.path });
}

export function objectStoreFor(config: Config): Promise<ObjectStore> {
  const o = config.objects;
  return objectStoreAt(o.kind === 'minio' ? o.location : { kind: 'file', path: o.path }, config);
}

/** An object store over any location: the registry's own, a connector, or the serving base. */
export async function objectStoreAt(location: Location, config?: Config): Promise<ObjectStore> {
  if (location.kind === 's3') {
    const { MinioObjectStore } = await import('./minio.js');
    return new MinioObjectStore({ location, secrets: config?.secrets ?? [] });
  }
  const { DirectoryObjectStore } = await import('./directory.js');
  return new DirectoryObjectStore({ root: location.path });
}

/** Opens (and initialises) both stores of a configuration. */
export async function openStores(config: Config): Promise<Stores> {
  const [metadata, objects] = await Promise.all([metadataStoreFor(config), objectStoreFor(config)]);
  await metadata.init();
  try {
    await objects.init();
  } catch (e) {
    await metadata.close();
    throw e;
  }
  return {
    metadata,
    objects,
    async close() {
      await Promise.allSettled([metadata.close(), objects.close()]);
    },
  };
}
