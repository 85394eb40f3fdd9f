import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ModelRef } from '../../grammar/ast.js';
import type { HttpConfig } from '../../src/config/index.js';
import type { Listening } from './listen.js';

/**
 * `mlmodel serve --predict-workers N`: the prediction port answered by N
 * processes sharing one listening socket, the way gunicorn's or uvicorn's
 * workers serve MLflow's models, so predictions use every core and not the
 * one an event loop runs on. node:cluster with SCHED_NONE: the primary
 * binds the socket and hands it to each worker, and the kernel gives each
 * new connection to whichever worker accepts it first (round-robin in the
 * primary would pass every connection through its event loop, the cost
 * this is meant to spread). Node 20 has no SO_REUSEPORT for TCP.
 *
 * Each worker (console/serve/predict-worker.ts) follows deploy and stop by
 * itself, as the single process does. The port is fixed before the first
 * fork (a free one picked for port 0), and the first worker starts alone:
 * with `--model`, the version it resolved is what the others and every
 * replacement load, so all answer from one version even when an alias
 * moves meanwhile. A worker that dies
 * is replaced (after a pause that doubles while replacements die young);
 * close() stops every worker and waits for it.
 */
/** What every worker is started with as the primary was: passed on as is. */
export interface WorkerSettings {
  readonly host: string;
  readonly home?: string;
  readonly config?: string;
  readonly user?: string;
  readonly maxBatchRows?: number;
  readonly version: string;
}

export interface WorkerStart extends WorkerSettings {
  readonly type: 'start';
  /** 1…N: the worker's number, kept by its replacements (the X-Mlmodel-Worker header, the log prefix). */
  readonly id: number;
  readonly port: number;
  /** `--model`: the one model (pinned to a version once the first worker resolved it); null: every deployed model. */
  readonly model: ModelRef | null;
  /** The alias `--model` named, once the model is pinned to its version. */
  readonly label: string | null;
  readonly http: WireHttp;
}

/** The primary's tokens, Host and Origin rules and default user: every worker checks the same ones. */
export interface WireHttp {
  readonly tokens: readonly (readonly [string, string])[];
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly user: string;
}

export type WorkerMessage =
  | { readonly type: 'hello' }
  | { readonly type: 'ready'; readonly port: number; readonly url: string; readonly served: { readonly name: string; readonly version: number } | null }
  | { readonly type: 'log'; readonly text: string }
  | { readonly type: 'failed'; readonly message: string; readonly code: string | null };

export interface WorkersOptions {
  readonly count: number;
  readonly port: number;
  readonly settings: WorkerSettings;
  readonly model: ModelRef | null;
  readonly http: HttpConfig;
  readonly defaultUser: string;
  /** A line of the primary's own (a worker started, exited, replaced). */
  readonly log: (line: string) => void;
  /** Workers' log text, already redacted and prefixed: written as it comes. */
  readonly write: (text: string) => void;
}

export interface PredictWorkers {
  readonly listening: Listening;
  /** With `--model`: the name and version every worker serves. */
  readonly served: { readonly name: string; readonly version: number } | null;
  close(): Promise<void>;
}

/** A worker failed to start: its own message (a model that does not load, a port taken). */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** How long a stopping worker may take to finish its requests and close its stores before it is killed. */
const STOP_MS = 15_000;
/** The first pause before a dead worker is replaced; it doubles (to MAX_RESTART_MS) while replacements die within YOUNG_MS. */
const RESTART_MS = 100;
const MAX_RESTART_MS = 30_000;
const YOUNG_MS = 10_000;

/** The worker script: tsc's output beside this module, or (bundled into dist/bin, or run from source by the tests) the one in dist/console/serve. */
function workerScript(): string {
  const candidates = ['./predict-worker.js', '../console/serve/predict-worker.js', '../../dist/console/serve/predict-worker.js'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`the prediction worker script is missing (looked for ${candidates.join(', ')}); run npm run build`);
  return found;
}

/** This process's node flags, less the start-up snapshot: restoring it would run the console's main instead of the worker script. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (a === '--snapshot-blob') i++;
    else if (!a.startsWith('--snapshot-blob=')) out.push(a);
  }
  return out;
}

/** A port free on `host` now (the kernel's pick, released before it is returned). */
function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startPredictWorkers(o: WorkersOptions): Promise<PredictWorkers> {
  // Before the first fork (and setupPrimary): the primary then only holds the socket, never accepts on it.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: workerScript(), execArgv: workerExecArgv(), args: [], serialization: 'json' });
  const http: WireHttp = {
    tokens: [...o.http.tokens].map(([secret, user]) => [secret.reveal(), user] as const),
    allowedHosts: o.http.allowedHosts,
    allowedOrigins: o.http.allowedOrigins,
    user: o.defaultUser,
  };
  const live = new Map<number, Worker>();
  let stopping = false;
  /** Until every first worker answers, a failure fails the start (nothing is replaced). */
  let running = false;
  // One port for every worker: node:cluster shares a socket per (address, port), so workers asking
  // for port 0 would share it only while one of them lives; a port named up front outlives them all.
  let port = o.port === 0 ? await freePortOn(o.settings.host) : o.port;
  let model = o.model;
  let label: string | null = null;

  // Sent when the worker asks (its listener in place: a message sent on 'online' could come before it and be lost).
  const startMessage = (id: number): WorkerStart => ({
    type: 'start',
    id,
    ...o.settings,
    port,
    model,
    label,
    http,
  });

  /** Forks worker `id`; resolves when it answers, rejects with its reason when it fails or dies first. */
  const spawn = (id: number): Promise<Extract<WorkerMessage, { type: 'ready' }>> => {
    const started = Date.now();
    const worker = cluster.fork();
    live.set(id, worker);
    const pid = worker.process.pid;
    let ready = false;
    const answered = new Promise<Extract<WorkerMessage, { type: 'ready' }>>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'log') o.write(m.text);
        else if (m.type === 'hello') worker.send(startMessage(id));
        else if (m.type === 'ready') {
          ready = true;
          o.log(`worker ${id} (pid ${pid}) answering on ${m.url}`);
          resolve(m);
        } else if (m.type === 'failed') {
          o.log(`worker ${id} (pid ${pid}) could not start: ${m.message}`);
          reject(new WorkerStartError(m.message, m.code));
        }
      });
      worker.on('exit', (code, signal) => {
        if (live.get(id) === worker) live.delete(id);
        if (!ready) reject(new WorkerStartError(`worker ${id} exited before it answered (${signal ?? `status ${code}`})`, null));
        if (stopping || !running) return;
        o.log(`worker ${id} (pid ${pid}) exited (${signal ?? `status ${code}`}); starting another`);
        replace(id, Date.now() - started < YOUNG_MS);
      });
    });
    return answered;
  };

  const pauses = new Map<number, number>();
  // Not unref'd: with every worker dead (and, with --model, no server of its own) the timer is what keeps the primary running.
  const timers = new Set<NodeJS.Timeout>();
  const replace = (id: number, young: boolean) => {
    const pause = young ? Math.min((pauses.get(id) ?? RESTART_MS / 2) * 2, MAX_RESTART_MS) : RESTART_MS;
    pauses.set(id, pause);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopping && !live.has(id)) spawn(id).catch(() => undefined);
    }, pause);
    timers.add(timer);
  };

  const close = async () => {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    await Promise.all(
      [...live.values()].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_MS);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.isConnected()) w.send({ type: 'stop' });
            else w.process.kill('SIGTERM');
          }),
      ),
    );
  };

  try {
    const first = await spawn(1);
    port = first.port;
    if (o.model !== null && first.served !== null) {
      // The version the first worker resolved, for every other and every replacement; an alias stays its label.
      model = { name: o.model.name, version: first.served.version };
      label = o.model.alias ?? null;
    }
    await Promise.all(Array.from({ length: o.count - 1 }, (_, i) => spawn(i + 2)));
    running = true;
    const shown = first.url;
    const host = new URL(shown).hostname.replace(/^\[|\]$/g, '');
    return {
      listening: { host, port, url: shown },
      served: first.served,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
