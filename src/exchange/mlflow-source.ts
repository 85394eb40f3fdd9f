/**
 * What the MLflow import reads from a registry, whichever way it is reached:
 * its tracking database (mlflow-db.ts) or its REST server (mlflow-rest.ts).
 * Both give the same facts in the same shapes, so mlflow-import.ts turns
 * either into models to publish the same way.
 */
import type { Readable } from 'node:stream';

export type Pair = [string, string | null];

export interface MlflowRegisteredModel {
  readonly name: string;
  /** Milliseconds since the epoch, as MLflow keeps them. */
  readonly creation: number;
  readonly description: string | null;
  readonly tags: readonly Pair[];
  readonly aliases: ReadonlyArray<{ readonly alias: string; readonly version: number }>;
}

export interface MlflowModelVersion {
  readonly version: number;
  readonly status: string | null;
  readonly creation: number;
  readonly lastUpdated: number | null;
  readonly description: string | null;
  readonly stage: string | null;
  readonly user: string | null;
  readonly runId: string | null;
  readonly tags: readonly Pair[];
}

/** One file of a version's artifacts: its path below the artifact directory ('/'-separated) and its bytes. */
export interface ArtifactFile {
  readonly path: string;
  readonly size: number;
  open(): Promise<Readable>;
}

export interface MlflowReader {
  /** Every registered model (or only `only`), by name. */
  models(only: string | undefined): Promise<MlflowRegisteredModel[]>;
  /** A model's versions, oldest first. */
  versions(name: string): Promise<MlflowModelVersion[]>;
  /** A run's params and latest metrics, by key; empty when the run is not there. */
  run(runId: string): Promise<{ params: Array<[string, string]>; metrics: Array<[string, number]> }>;
  /** Where a version's artifacts are, as a URI (file:, s3:, mlflow-artifacts: …), or why that cannot be said. */
  artifactUri(name: string, v: MlflowModelVersion): Promise<{ uri: string } | { why: string }>;
  /** The files under an `mlflow-artifacts:` URI, through the server's artifact proxy; absent where there is no server. */
  proxied?(uri: string): Promise<ArtifactFile[]>;
  close(): void;
}
