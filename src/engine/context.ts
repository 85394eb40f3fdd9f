import type { MlflowClientConfig } from '../config/index.js';
import type { MetadataStore } from '../store/metadata.js';
import type { ObjectStore } from '../store/objects.js';
import type { ServingTarget } from '../serving/target.js';
import type { TrackingStore } from '../tracking/store.js';

/** Bytes moved so far by a long command (import, export, deploy). */
export interface Progress {
  readonly phase: string;
  readonly done: number;
  /** null when the total is not known in advance. */
  readonly total: number | null;
}

/**
 * Everything an executor may touch, handed in explicitly: no executor reaches
 * for a global, so the same code serves the console, the HTTP API and tests.
 */
export interface EngineContext {
  readonly meta: MetadataStore;
  readonly objects: ObjectStore;
  readonly serving: ServingTarget;
  /**
   * Runs, metrics and checkpoints, in the metadata store's database; opened
   * at first use, so a registry that never tracks never opens it.
   */
  tracking(): Promise<TrackingStore>;
  /**
   * A context on another registry configured as a remote (config
   * `registries:`), as this command's user; INVALID_ARGUMENT if none is
   * called so. Absent where no remote can be reached (a remote's own context).
   */
  remote?(name: string): Promise<EngineContext>;
  /** The object store behind `OBJECTSTORAGE.<NAME>:`; CONNECTOR_UNKNOWN if none. */
  connector(name: string): Promise<ObjectStore>;
  /** Directories local `path=` imports and exports may use; null allows any absolute path. */
  readonly localRoots: readonly string[] | null;
  readonly user: string;
  /**
   * The user is an admin (config `http.admins`): writes may name another
   * user's model as `owner/name`. Everyone else writes only their own models.
   */
  readonly admin: boolean;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((p: Progress) => void) | undefined;
  now(): Date;
  newUid(): string;
  /** MLflow's client credentials from the environment, for `mlmodel mlflow url=`; absent: none. */
  readonly mlflow?: MlflowClientConfig;
  /** Seconds without a point after which a RUNNING run shows stale (config `tracking.stale_after`); absent: the default. */
  readonly staleAfter?: number;
  /** Where deploys push their version as a bundle (config `model_store`); absent or null: no push. */
  readonly modelStore?: string | null;
  /**
   * Runs `task` after the command has answered, without holding it up; the
   * registry's close() waits for such tasks (a bounded while). Absent: the
   * caller has nowhere to run work in the background, and none is started.
   */
  background?(task: () => Promise<void>): void;
}
