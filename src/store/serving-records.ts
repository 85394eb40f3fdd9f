/**
 * Deployments of a model to a serving base: one record per serving version
 * (1, 2, … per model, claimed from `serving-version:<model_uid>`), unique on
 * (model_uid, version). Stored beside model records by each metadata store.
 */
export type ServingState = 'DEPLOYING' | 'AVAILABLE' | 'STOPPED' | 'FAILED';

export interface ServingRecord {
  model_uid: string;
  /** The serving version: the directory name under `<serving base>/<serving_name>/`. */
  version: number;
  serving_name: string;
  /** The model version (record uid and number) that was deployed. */
  record_uid: string;
  model_version: number;
  label: string | null;
  state: ServingState;
  deployed_at: Date;
  updated_at: Date;
}

export interface ServingQuery {
  model_uid?: string;
  states?: readonly ServingState[];
}

export interface ServingRecords {
  /** DUPLICATE_KEY when (model_uid, version) exists. */
  insertServing(record: ServingRecord): Promise<void>;
  /** Sets state (and updated_at) on the matching records; returns how many changed. */
  setServingState(query: ServingQuery & { version?: number }, state: ServingState, at: Date): Promise<number>;
  /** Matching records, by model_uid then version. */
  findServings(query?: ServingQuery): Promise<ServingRecord[]>;
  deleteServings(model_uid: string): Promise<number>;
}
