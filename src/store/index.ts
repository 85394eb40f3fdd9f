/** The stores behind the registry: metadata and objects, each with two backends. */
export * from './filter.js';
export * from './metadata.js';
export * from './objects.js';
export { SqliteMetadataStore, type SqliteMetadataOptions, type SqlitePlan } from './sqlite.js';
export { MongoMetadataStore, MODEL_INDEXES, type MongoMetadataOptions } from './mongo.js';
export { DirectoryObjectStore, type DirectoryObjectOptions } from './directory.js';
export { MinioObjectStore, type MinioObjectOptions } from './minio.js';
export { metadataStoreFor, objectStoreFor, objectStoreAt, openStores, type Stores } from './open.js';
