import { randomUUID } from 'node:crypto';
import { isUserName, USER_NAME_RULE } from './user-name.js';
import { splitScript, type Statement } from '../../grammar/index.js';
import { parse } from '../language.js';
import type { ModelRef, Query } from '../../grammar/ast.js';
import type { DeployedServerOptions, ModelServer } from '../serving/model-server.js';
import { getConnector, loadConfig, type Config, type ConfigOptions, type Env } from '../config/index.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import type { ImportCommand } from '../commands/import.js';
import { executePlan, executePlanStreamed } from '../executor/index.js';
import { executeImportBatch, type BatchImport, type BatchOutcome } from '../executor/import-batch.js';
import { planQuery } from '../planner/plan.js';
import { runStatements, type Outcome, type RunnableStatement, type RunStatementsOptions } from './runner.js';
import { isStreamed, streamOf, type QueryResult, type ResultTable, type StreamedTable } from '../result/table.js';
import { DirectoryServingTarget, ObjectServingTarget, type ServingTarget } from '../serving/target.js';
import type { ObjectStore } from '../store/objects.js';
import { objectStoreAt, openStores } from '../store/open.js';
import type { EngineContext, Progress } from './context.js';
import { openTrackingStore } from '../tracking/open.js';
import type { TrackingStore } from '../tracking/store.js';

export interface RegistryOptions {
  /** A ready configuration; otherwise one is loaded from `env` and `configOptions`. */
  readonly config?: Config;
  readonly env?: Env;
  readonly configOptions?: ConfigOptions;
  /** Directories local paths must stay inside (the HTTP server sets this); null allows any. */
  readonly localRoots?: readonly string[] | null;
  /** The clock, for tests. */
  readonly now?: () => Date;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Act as this user instead of `config.user` (the HTTP server sets it per request). */
  readonly user?: string;
  /** Whether the user may change other users' models (`owner/name`); default: the user is in `http.admins`. */
  readonly admin?: boolean;
}


/** One statement's result from `runScript`: a ResultTable that also says which statement it came from. */
export interface StatementResult extends ResultTable {
  readonly statement: Statement;
}

/** An open registry: run queries against its stores, then close it. */
export interface Registry {
  readonly config: Config;
  /** Parses and runs one query. ParseError for bad text; MlmodelError when running fails. */
  run(text: string, opts?: RunOptions): Promise<ResultTable>;
  /** Runs an already parsed query. */
  execute(query: Query, opts?: RunOptions): Promise<ResultTable>;
  /** execute for a caller that takes streams: a command that streams (list) answers with a StreamedTable, any other with its table. */
  executeStreamed(query: Query, opts?: RunOptions): Promise<QueryResult>;
  /**
   * Parses and runs one query, its rows read as the caller takes them: a
   * cursor over the result (`for await (const row of await registry.stream(
   * 'mlmodel list'))`), which holds only a page of rows at a time. A command
   * that does not stream gives its whole table as a stream of one page.
   * Leaving the loop early closes the store's cursor; so does `close()`.
   */
  stream(text: string, opts?: RunOptions): Promise<StreamedTable>;
  /**
   * Runs a script (statements end at a newline or `;`, `#` comments, a
   * trailing `\`, an open quote or parenthesis continues; see `scanScript`)
   * one statement after another, yielding each result as it completes. The
   * first failure is thrown as is and ends the iteration; a ParseError's line
   * and column are within its statement.
   */
  runScript(text: string, opts?: RunOptions): AsyncGenerator<StatementResult, void, undefined>;
  /**
   * The run loop every front end uses (runner.ts): each statement's outcome,
   * a table or an error value, as soon as it is known; consecutive imports
   * run as one batch.
   */
  runStatements<S extends RunnableStatement>(
    statements: readonly S[],
    opts: RunOptions & RunStatementsOptions & { readonly stream: true },
  ): AsyncGenerator<Outcome<S, QueryResult>, void, undefined>;
  runStatements<S extends RunnableStatement>(statements: readonly S[], opts?: RunOptions & RunStatementsOptions): AsyncGenerator<Outcome<S>, void, undefined>;
  /**
   * Runs parsed `mlmodel import` queries as one batch (see executeImportBatch):
   * archives are stored concurrently, then every record is written in order
   * in one metadata commit. Same outcomes as running them one by one;
   * INVALID_ARGUMENT if a query is not an import.
   */
  importBatch(queries: readonly Query[], opts?: RunOptions & { stopAtError?: boolean; concurrency?: number }): Promise<BatchOutcome[]>;
  /**
   * A model server over what is deployed: every AVAILABLE onnx serving
   * version, following deploys and stops (src/serving/model-server.ts).
   * With `model`, that one registry version alone, loaded from its archive.
   */
  serveModels(opts?: DeployedServerOptions & { readonly model?: ModelRef }): Promise<ModelServer>;
  close(): Promise<void>;
}

/** How long close() waits for background work (a model-store push's last attempts) before it closes the stores anyway. */
const BACKGROUND_CLOSE_MS = 60_000;

export async function openRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const config = options.config ?? loadConfig(options.env ?? process.env, options.configOptions ?? {});
  const stores = await openStores(config);
  const meta = stores.metadata;
  let serving: ServingTarget;
  try {
    serving = await openServingTarget(config);
  } catch (e) {
    await stores.close();
    throw e;
  }
  const connectors = new Map<string, ObjectStore>();
  /** Remote registries opened by sync, by name; imported and opened at first use. */
  const remotes = new Map<string, Promise<import('../exchange/remote-registry.js').RemoteRegistry>>();
  const now = options.now ?? (() => new Date());
  /** Work commands left to run after they answered (a deploy's push to the model store). */
  const pending = new Set<Promise<void>>();
  const background = (task: () => Promise<void>) => {
    // A task reports its own outcome; one that throws anyway must not take the process down.
    const p: Promise<void> = task()
      .catch(() => undefined)
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  let tracking: Promise<TrackingStore> | null = null;
  const openTracking = (): Promise<TrackingStore> => {
    // A failed open is not kept: the next command tries again.
    tracking ??= openTrackingStore(config, meta).catch((e: unknown) => {
      tracking = null;
      throw e;
    });
    return tracking;
  };

  const contextFor = (opts: RunOptions): EngineContext => {
    const user = opts.user ?? config.user;
    if (!isUserName(user)) {
      throw new MlmodelError('INVALID_ARGUMENT', `user ${JSON.stringify(user)} is not allowed (${USER_NAME_RULE})`, { user });
    }
    return {
      meta,
      objects: stores.objects,
      serving,
      tracking: openTracking,
      async connector(name) {
        const key = name.toUpperCase();
        let store = connectors.get(key);
        if (!store) {
          store = await objectStoreAt(getConnector(config, key), config);
          connectors.set(key, store);
        }
        return store;
      },
      async remote(name) {
        const key = name.toLowerCase();
        let r = remotes.get(key);
        if (!r) {
          // A failed open is not kept: the next command tries again.
          r = import('../exchange/remote-registry.js').then((m) => m.openRemoteRegistry(config, key));
          r.catch(() => remotes.delete(key));
          remotes.set(key, r);
        }
        return (await r).context(this);
      },
      localRoots: options.localRoots ?? null,
      user,
      admin: opts.admin ?? config.http.admins.includes(user),
      signal: opts.signal,
      onProgress: opts.onProgress,
      now,
      newUid: randomUUID,
      modelStore: config.modelStore,
      staleAfter: config.tracking.staleAfter,
      mlflow: config.mlflow,
      background,
    };
  };

  /** Runs a plan, telling a cancellation apart from what the cancelled work threw on its way out. */
  const cancellable = async <T>(opts: RunOptions, run: () => Promise<T>): Promise<T> => {
    if (opts.signal?.aborted) throw new MlmodelError('CANCELLED', 'the query was cancelled before it started');
    try {
      return await run();
    } catch (e) {
      if (opts.signal?.aborted && !isMlmodelError(e, 'CANCELLED')) throw new MlmodelError('CANCELLED', 'the query was cancelled', {}, { cause: e });
      throw e;
    }
  };

  const execute = (query: Query, opts: RunOptions = {}): Promise<ResultTable> => cancellable(opts, () => executePlan(contextFor(opts), planQuery(query)));

  const executeStreamed = (query: Query, opts: RunOptions = {}): Promise<QueryResult> =>
    cancellable(opts, () => executePlanStreamed(contextFor(opts), planQuery(query)));

  const importBatch: Registry['importBatch'] = async (queries, opts = {}) => {
    if (opts.signal?.aborted) throw new MlmodelError('CANCELLED', 'the batch was cancelled before it started');
    const items: BatchImport[] = queries.map((q) => {
      if (q.command.kind !== 'import') throw new MlmodelError('INVALID_ARGUMENT', `importBatch runs imports only, not ${q.command.kind}`);
      return { command: q.command as ImportCommand, stages: q.stages };
    });
    return executeImportBatch(contextFor(opts), items, {
      stopAtError: opts.stopAtError ?? true,
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
    });
  };

  const registry: Registry = {
    config,
    // async: a ParseError rejects the promise like any other failure, never throws at the call.
    run: async (text, opts) => execute(parse(text), opts),
    execute,
    executeStreamed,
    importBatch,
    runStatements<S extends RunnableStatement>(statements: readonly S[], opts: RunOptions & RunStatementsOptions = {}): AsyncGenerator<Outcome<S>, void, undefined> {
      const { continueOnError, batchImports, stream, ...runOpts } = opts;
      // Through `this`, so that a registry wrapped around this one (`{ ...registry, execute }`) runs its own execute.
      const engine = {
        execute: (q: Query, o: RunOptions) => this.execute(q, o),
        executeStreamed: (q: Query, o: RunOptions) => this.executeStreamed(q, o),
        importBatch: this.importBatch.bind(this),
      };
      return runStatements<S, RunOptions>(engine, statements, runOpts, {
        ...(continueOnError === undefined ? {} : { continueOnError }),
        ...(batchImports === undefined ? {} : { batchImports }),
        // One call for both overloads: the type of what it yields follows `stream` (Registry['runStatements']).
        stream: stream === true,
      }) as AsyncGenerator<Outcome<S>, void, undefined>;
    },
    async stream(text, opts = {}) {
      // Only the first outcome is taken, and the run loop is not closed after it: closing it would close the stream it gave.
      const first = await this.runStatements([{ text, line: 1 }], { ...opts, stream: true }).next();
      if (first.done) throw new MlmodelError('INVALID_ARGUMENT', 'there is no query to run');
      const o = first.value;
      if ('error' in o) throw o.error;
      return isStreamed(o.table) ? o.table : streamOf(o.table);
    },
    async *runScript(text, opts = {}) {
      for await (const o of this.runStatements(splitScript(text), opts)) {
        if ('error' in o) throw o.error;
        yield { columns: o.table.columns, rows: o.table.rows, statement: o.statement };
      }
    },
    async serveModels(opts = {}) {
      // Imported when a server starts: the console's start-up does not load the serving engine.
      const { serveDeployed, serveOne } = await import('../serving/model-server.js');
      const ctx = contextFor({});
      return opts.model ? serveOne(ctx, opts.model, opts) : serveDeployed(ctx, opts);
    },
    async close() {
      // Background work first (it uses the stores), for at most BACKGROUND_CLOSE_MS.
      if (pending.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...pending]), new Promise((r) => (timer = setTimeout(r, BACKGROUND_CLOSE_MS)))]);
        clearTimeout(timer);
      }
      // The tracking store first: on MongoDB it uses the metadata store's client.
      if (tracking) await tracking.then((t) => t.close()).catch(() => undefined);
      await Promise.allSettled([stores.close(), ...[...connectors.values()].map((c) => c.close()), ...[...remotes.values()].map((r) => r.then((x) => x.close()))]);
    },
  };
  return registry;
}

/** The serving base a registry on `config` writes to (exported for tests that inspect it as the registry does). */
export async function openServingTarget(config: Config): Promise<ServingTarget> {
  const base = config.servingBase;
  if (base.kind === 'file') return new DirectoryServingTarget(base.path);
  const store = await objectStoreAt(base, config);
  await store.init();
  return new ObjectServingTarget(store, `s3://${base.bucket}/${base.prefix}`);
}
