import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { resolveModel } from '../executor/models.js';
import type { ModelRef } from '../../grammar/ast.js';
import type { ServingRecord } from '../store/serving-records.js';
import { ONNX_MODEL_FILE, rewriteModelsConfig } from './config-writer.js';
import { SERVING_FAILURE_SCOPE, servingFailureKey } from './serving-failure.js';
import { readRecordModelFile } from './model-loader.js';
import type { OnnxSignature } from './onnx-graph.js';
import { loadOnnxModel, type LoadedModel } from './onnx-runtime.js';
import type { InputTensor, OutputTensor } from './tensors.js';
import { batchedRun, DEFAULT_MAX_BATCH_ROWS, type BatchStats } from './batcher.js';

/**
 * What `mlmodel serve` answers predictions from: the models it has loaded,
 * by the name clients use and version, with their labels. Protocol handlers
 * (console/serve/predict/) only read it; the engine keeps it current.
 */
export interface ServedModel {
  /** The name in the protocols' paths: the serving name (`<user>_<name>`), or the model's name when one model is served alone. */
  readonly name: string;
  readonly version: number;
  readonly signature: OnnxSignature;
  /** The registry model version it was deployed from. */
  readonly modelName: string;
  readonly modelVersion: number;
  predict(inputs: readonly InputTensor[]): Promise<OutputTensor[]>;
  /** How its requests were run (src/serving/batcher.ts): fewer runs than requests is dynamic batching at work. */
  batching(): BatchStats;
}

export type LoadState = 'LOADING' | 'AVAILABLE' | 'FAILED';

export interface VersionState {
  readonly version: number;
  readonly state: LoadState;
  readonly error: string | null;
}

/** Which version a request names: one by number, one by label, or (neither) the newest. */
export interface VersionSelector {
  readonly version?: number;
  readonly label?: string;
}

export interface ModelServer {
  /** The models answerable now, by name. */
  names(): string[];
  /** The first of names() without copying the list (the one model of `serve --model`, per request). */
  first(): string | undefined;
  /** Each known version of a name and its state (NOT_FOUND for a name never seen). */
  states(name: string): VersionState[];
  /** The version a request reaches; NOT_FOUND naming what is missing. */
  resolve(name: string, selector?: VersionSelector): ServedModel;
  /** Labels of a name → the version each routes to. */
  labels(name: string): Readonly<Record<string, number>>;
  /** Whether the first load is done (KServe's server readiness). */
  readonly ready: boolean;
  /** Loads what changed since the last look (deploys and stops); the poll calls it, tests may too. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}


interface Loaded {
  readonly served: ServedModel;
  readonly model: LoadedModel;
}

interface Entry {
  readonly byVersion: Map<number, Loaded>;
  readonly states: Map<number, VersionState>;
  labels: Record<string, number>;
  /** The newest loaded version (what a request naming none reaches), kept as versions come and go. */
  latest: Loaded | undefined;
}

/**
 * The table both kinds of server keep: name → versions, loaded or failed.
 * Versions come and go through put and remove only, which keep what every
 * request reads (the names, each name's newest version) computed once per
 * change rather than per request.
 */
/** The read side of a ModelServer, answered from its table (both kinds of server share it). */
function lookups(table: Table): Pick<ModelServer, 'names' | 'first' | 'states' | 'resolve' | 'labels'> {
  return {
    names: () => table.names(),
    first: () => table.first(),
    states: (name) => table.states(name),
    resolve: (name, sel) => table.resolve(name, sel),
    labels: (name) => table.labels(name),
  };
}

class Table {
  readonly entries = new Map<string, Entry>();
  #names: readonly string[] | null = null;

  entry(name: string): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = { byVersion: new Map(), states: new Map(), labels: Object.create(null) as Record<string, number>, latest: undefined };
      this.entries.set(name, e);
    }
    return e;
  }

  /** A loaded version becomes answerable. */
  put(served: ServedModel, model: LoadedModel): void {
    const e = this.entry(served.name);
    const loaded = { served, model };
    e.byVersion.set(served.version, loaded);
    e.states.set(served.version, { version: served.version, state: 'AVAILABLE', error: null });
    if (!e.latest || e.latest.served.version < served.version) e.latest = loaded;
    this.#names = null;
  }

  /** A version leaves: no request reaches it from now on. */
  remove(name: string, version: number): void {
    const e = this.entry(name);
    e.byVersion.delete(version);
    e.states.delete(version);
    if (e.latest?.served.version === version) {
      e.latest = undefined;
      for (const l of e.byVersion.values()) if (!e.latest || e.latest.served.version < l.served.version) e.latest = l;
    }
    this.#names = null;
  }

  names(): string[] {
    this.#names ??= [...this.entries].filter(([, e]) => e.byVersion.size > 0).map(([n]) => n).sort();
    return [...this.#names];
  }

  /** The one model of a one-model server, or the first name; undefined when nothing is answerable. */
  first(): string | undefined {
    if (this.#names === null) this.names();
    return this.#names![0];
  }

  states(name: string): VersionState[] {
    const e = this.entries.get(name);
    if (!e || e.states.size === 0) throw new MlmodelError('NOT_FOUND', `no model ${name} is served here`, { name });
    return [...e.states.values()].sort((a, b) => b.version - a.version);
  }

  resolve(name: string, sel: VersionSelector = {}): ServedModel {
    const e = this.entries.get(name);
    if (!e || e.byVersion.size === 0) throw new MlmodelError('NOT_FOUND', `no model ${name} is served here`, { name });
    let version = sel.version;
    if (sel.label !== undefined) {
      version = Object.hasOwn(e.labels, sel.label) ? e.labels[sel.label] : undefined;
      if (version === undefined) throw new MlmodelError('NOT_FOUND', `model ${name} has no label ${sel.label}`, { name, label: sel.label });
    }
    const loaded = version === undefined ? e.latest : e.byVersion.get(version);
    if (!loaded) {
      const state = version === undefined ? undefined : e.states.get(version);
      const why = state?.state === 'FAILED' ? `: it failed to load (${state.error ?? ''})` : state?.state === 'LOADING' ? ': it is still loading' : '';
      throw new MlmodelError('NOT_FOUND', `version ${version} of model ${name} is not served${why}`, { name, version });
    }
    return loaded.served;
  }

  labels(name: string): Readonly<Record<string, number>> {
    return { ...(this.entries.get(name)?.labels ?? {}) };
  }
}

export interface ServeOptions {
  /** Most rows one ONNX Runtime run stacks from concurrent requests (src/serving/batcher.ts; default 64; 1: no batching). */
  readonly maxBatchRows?: number;
  /**
   * serveOne: the label the version answers to besides its number, when the
   * ref names it by version (a prediction worker pinned to the version its
   * first sibling resolved the alias to; console/serve/predict-workers.ts).
   */
  readonly label?: string;
}

export interface DeployedServerOptions extends ServeOptions {
  /** How often the registry is read for deploys and stops (default 1 s). */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * The shared server's models: every AVAILABLE serving version of an onnx
 * model, read from the serving base. It follows deploys and stops by
 * polling the serving records: a new version is loaded whole (an ONNX
 * Runtime session ready) before any request can reach it, a stopped one
 * leaves the table at once and its session is freed when its last request
 * is done. Deploy publishes a version AVAILABLE only after every file is in
 * place, so a version still being copied is never read. One that fails to
 * load is marked FAILED in the registry with the reason, which `serving
 * status` shows.
 */
export async function serveDeployed(ctx: EngineContext, options: DeployedServerOptions = {}): Promise<ModelServer> {
  const table = new Table();
  const log = options.log ?? (() => undefined);
  const batch = { maxRows: options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS };
  const loaded = new Map<string, { name: string; version: number; model: LoadedModel }>();
  let ready = false;
  let closed = false;
  let inFlight: Promise<void> | null = null;

  async function loadOne(r: ServingRecord, modelName: string): Promise<void> {
    const e = table.entry(r.serving_name);
    e.states.set(r.version, { version: r.version, state: 'LOADING', error: null });
    let model: LoadedModel;
    try {
      model = await loadOnnxModel(await ctx.serving.readVersionFile(r.serving_name, r.version, ONNX_MODEL_FILE));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      e.states.set(r.version, { version: r.version, state: 'FAILED', error: reason });
      log(`cannot load ${r.serving_name}/${r.version}: ${reason}`);
      // A broken model (not a store that is down for a moment) is FAILED for everyone: serving status says why.
      if (isMlmodelError(err, 'ARCHIVE_INVALID') || isMlmodelError(err, 'NOT_FOUND')) await markFailed(ctx, r, reason).catch(() => undefined);
      return;
    }
    if (closed) {
      await model.release();
      return;
    }
    const batched = batchedRun(model, batch);
    const served: ServedModel = {
      name: r.serving_name,
      version: r.version,
      signature: model.signature,
      modelName,
      modelVersion: r.model_version,
      predict: (inputs) => batched.run(inputs),
      batching: batched.stats,
    };
    table.put(served, model);
    loaded.set(`${r.serving_name}/${r.version}`, { name: r.serving_name, version: r.version, model });
    log(`loaded ${r.serving_name}/${r.version}`);
  }

  async function refreshOnce(): Promise<void> {
    const available = await ctx.meta.findServings({ states: ['AVAILABLE'] });
    const uids = [...new Set(available.map((s) => s.record_uid))];
    const records = uids.length === 0 ? [] : await ctx.meta.findModels({ filter: { uid: { $in: uids }, type: 'onnx' } });
    const names = new Map(records.map((m) => [m.uid, m.name]));
    const wanted = available.filter((s) => names.has(s.record_uid));
    const keys = new Set(wanted.map((s) => `${s.serving_name}/${s.version}`));
    // Stopped or failed elsewhere: out of the table first, then freed once idle.
    for (const [key, l] of loaded) {
      if (keys.has(key)) continue;
      table.remove(l.name, l.version);
      loaded.delete(key);
      await l.model.release();
      log(`unloaded ${key}`);
    }
    // A failure is shown until the registry no longer lists the version as AVAILABLE (the load marks it FAILED there).
    for (const [name, e] of table.entries) {
      for (const [v, st] of e.states) if (st.state === 'FAILED' && !keys.has(`${name}/${v}`)) e.states.delete(v);
    }
    // Labels route to the newest deployment that carries them, among the loaded versions (as models.config does).
    const route = (name: string) => {
      const e = table.entries.get(name);
      if (!e) return;
      const labels = Object.create(null) as Record<string, number>;
      for (const r of wanted) {
        if (r.serving_name !== name || r.label === null || !e.byVersion.has(r.version)) continue;
        if ((labels[r.label] ?? 0) < r.version) labels[r.label] = r.version;
      }
      e.labels = labels;
    };
    for (const name of table.entries.keys()) route(name);
    for (const r of wanted) {
      const st = table.entries.get(r.serving_name)?.states.get(r.version);
      if (loaded.has(`${r.serving_name}/${r.version}`) || st?.state === 'FAILED') continue;
      await loadOne(r, names.get(r.record_uid)!);
      // In the same turn as the version became answerable: a client that has seen
      // version N answer never finds the label deployed with it still on N-1.
      route(r.serving_name);
    }
    ready = true;
  }

  const refresh = (): Promise<void> => {
    // One refresh at a time: a slow load is not started twice by the next tick.
    inFlight ??= refreshOnce().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  await refresh();
  const timer = setInterval(() => {
    refresh().catch((e: unknown) => log(`reading the registry's deployments failed: ${(e as Error).message}`));
  }, options.pollMs ?? 1000);
  timer.unref();

  return {
    ...lookups(table),
    get ready() {
      return ready;
    },
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      await inFlight?.catch(() => undefined);
      await Promise.allSettled([...loaded.values()].map((l) => l.model.release()));
      loaded.clear();
    },
  };
}

/**
 * `mlmodel serve --model NAME[@version|@alias]`: one registry version,
 * resolved once at start (as `mlflow models serve -m models:/NAME/…` is),
 * loaded from its archive: no deploy needed. It answers under the model's
 * name and its registry version number; an alias given is its one label.
 */
export async function serveOne(ctx: EngineContext, ref: ModelRef, options: ServeOptions = {}): Promise<ModelServer> {
  const record = await resolveModel(ctx, ref);
  const model = await loadOnnxModel(await readRecordModelFile(ctx, record));
  const table = new Table();
  const batched = batchedRun(model, { maxRows: options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS });
  const served: ServedModel = {
    name: record.name,
    version: record.version,
    signature: model.signature,
    modelName: record.name,
    modelVersion: record.version,
    predict: (inputs) => batched.run(inputs),
    batching: batched.stats,
  };
  table.put(served, model);
  const label = ref.alias ?? options.label;
  if (label !== undefined) table.entry(record.name).labels = Object.assign(Object.create(null) as Record<string, number>, { [label]: record.version });
  return {
    ...lookups(table),
    ready: true,
    refresh: async () => undefined,
    close: () => model.release(),
  };
}

async function markFailed(ctx: EngineContext, r: ServingRecord, reason: string): Promise<void> {
  const changed = await ctx.meta.setServingState({ model_uid: r.model_uid, version: r.version, states: ['AVAILABLE'] }, 'FAILED', ctx.now());
  if (changed === 0) return;
  const key = servingFailureKey(r.model_uid, r.version);
  const text = reason.length > 1000 ? `${reason.slice(0, 999)}…` : reason;
  if (!(await ctx.meta.claimName(SERVING_FAILURE_SCOPE, key, text))) {
    const old = await ctx.meta.getClaim(SERVING_FAILURE_SCOPE, key);
    if (old) await ctx.meta.releaseName(SERVING_FAILURE_SCOPE, key, old.owner);
    await ctx.meta.claimName(SERVING_FAILURE_SCOPE, key, text);
  }
  // Out of config.pbtxt too: Triton must not load what failed here.
  await rewriteModelsConfig(ctx, [r.serving_name]);
}
