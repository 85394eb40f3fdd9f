/** What the global setup hands to test files (inject('mlmodelServers')). */
export interface ServerUrls {
  mongodbUrl: string | null;
  minioUrl: string | null;
  mongodbKind: string | null;
  minioKind: string | null;
  /** FerretDB on PostgreSQL, the second MongoDB-wire backend: started only for the files that run on it. */
  ferretdbPgUrl: string | null;
  ferretdbPgKind: string | null;
  errors: { mongodb?: string; minio?: string; ferretdbPg?: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    mlmodelServers: ServerUrls;
  }
}
