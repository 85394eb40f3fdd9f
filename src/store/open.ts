/**
 * Picks and opens the stores a configuration names: MongoDB and MinIO when
 * their URLs are set, else the embedded SQLite file and directory under the
 * home dir.
 */
import type { Config, Location } from '../config/index.js';
import { DirectoryObjectStore } from './directory.js';
import type { MetadataStore } from './metadata.js';
import { MinioObjectStore } from './minio.js';
import { MongoMetadataStore } from './mongo.js';
import type { ObjectStore } from './objects.js';
import { SqliteMetadataStore } from './sqlite.js';

export interface Stores {
  metadata: MetadataStore;
  objects: ObjectStore;
  close(): Promise<void>;
}

export function metadataStoreFor(config: Config): MetadataStore {
  const m = config.metadata;
  return m.kind === 'mongodb'
    ? new MongoMetadataStore({ url: m.url, database: m.database, secrets: config.secrets })
    : new SqliteMetadataStore({ path: m.path });
}

export function objectStoreFor(config: Config): ObjectStore {
  const o = config.objects;
  return o.kind === 'minio'
    ? new MinioObjectStore({ location: o.location, secrets: config.secrets })
    : new DirectoryObjectStore({ root: o.path });
}

/** An object store over any location: a connector, or the serving base. */
export function objectStoreAt(location: Location, config?: Config): ObjectStore {
  return location.kind === 's3'
    ? new MinioObjectStore({ location, secrets: config?.secrets ?? [] })
    : new DirectoryObjectStore({ root: location.path });
}

/** Opens (and initialises) both stores of a configuration. */
export async function openStores(config: Config): Promise<Stores> {
  const metadata = metadataStoreFor(config);
  const objects = objectStoreFor(config);
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
