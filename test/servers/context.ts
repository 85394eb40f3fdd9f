/** What the global setup hands to test files (inject('mlmodelServers')). */
export interface ServerUrls {
  mongodbUrl: string | null;
  minioUrl: string | null;
  mongodbKind: string | null;
  minioKind: string | null;
  errors: { mongodb?: string; minio?: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    mlmodelServers: ServerUrls;
  }
}
