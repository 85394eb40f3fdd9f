import cluster from 'node:cluster';
import type { ModelServer } from '../../src/serving/model-server.js';
import type { Registry } from '../../src/engine/registry.js';
import type { PredictServer } from './predict-server.js';
import type { WorkerMessage, WorkerStart } from './predict-workers.js';

/**
 * One prediction worker of `mlmodel serve --predict-workers N`, the script
 * node:cluster forks (console/serve/predict-workers.ts is its primary). It
 * does what the single process does for predictions, in a process of its
 * own: opens the registry from the same home and config file, loads the
 * models (following deploy and stop itself, or the one pinned version of
 * `--model`), and answers on the port every worker shares. The tokens and
 * Host/Origin rules come from the primary over IPC, so every worker checks
 * the very ones the primary read (and no token passes through the
 * environment). Its log lines go to the primary in batches, which writes
 * them on its stderr: one stream, no lines torn between processes.
 */
const LOG_FLUSH_MS = 100;

async function runWorker(): Promise<void> {
  const send = (m: WorkerMessage, then?: () => void) => {
    if (process.connected) process.send!(m, undefined, {}, then);
    else then?.();
  };
  let registry: Registry | null = null;
  let models: ModelServer | null = null;
  let predictor: PredictServer | null = null;
  let flushLog: (then: () => void) => void = (then) => then();
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await predictor?.close().catch(() => undefined);
      await models?.close().catch(() => undefined);
      await registry?.close().catch(() => undefined);
      flushLog(() => process.exit(0));
    })();
  };
  // In place before anything is awaited: a stop sent while this worker starts is not lost.
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') stop();
  });
  // The primary gone (killed): nobody supervises this worker any more, so it stops too.
  process.on('disconnect', stop);
  // A signal to the process group (Ctrl-C) reaches the workers too; the primary stops them all anyway.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const start = await new Promise<WorkerStart>((resolve) => {
    const first = (m: WorkerStart | { type: 'stop' }) => {
      if (m.type !== 'start') return;
      process.off('message', first);
      resolve(m);
    };
    process.on('message', first);
    send({ type: 'hello' });
  });
  if (stopping) return;
  const [{ openRegistry }, { loadConfig, redact, redactor, Secret }, { createPredictServer }, { terminalText }] = await Promise.all([
    import('../../src/engine/registry.js'),
    import('../../src/config/index.js'),
    import('./predict-server.js'),
    import('../render/terminal-text.js'),
  ]);
  let lines: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let redactLine = (s: string) => redact(s);
  const flush = (then?: () => void) => {
    clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return then?.();
    const text = lines.join('\n') + '\n';
    lines = [];
    send({ type: 'log', text }, then);
  };
  flushLog = flush;
  const log = (line: string) => {
    lines.push(`worker ${start.id}: ${terminalText(redactLine(line))}`);
    timer ??= setTimeout(flush, LOG_FLUSH_MS);
  };

  try {
    if (stopping) return;
    const config = loadConfig(process.env, {
      ...(start.home !== undefined ? { home: start.home } : {}),
      ...(start.config !== undefined ? { config: start.config } : {}),
      ...(start.user !== undefined ? { user: start.user } : {}),
    });
    redactLine = redactor(config.secrets);
    registry = await openRegistry({ config, localRoots: config.http.localRoots });
    const batching = start.maxBatchRows === undefined ? {} : { maxBatchRows: start.maxBatchRows };
    models = await registry.serveModels(start.model !== null ? { model: start.model, ...batching, ...(start.label !== null ? { label: start.label } : {}) } : { log, ...batching });
    const http = {
      ...config.http,
      tokens: new Map(start.http.tokens.map(([token, user]) => [new Secret(token), user] as const)),
      allowedHosts: start.http.allowedHosts,
      allowedOrigins: start.http.allowedOrigins,
    };
    predictor = createPredictServer({ models, http, user: start.http.user, secrets: config.secrets, oneModel: start.model !== null, version: start.version, log, worker: start.id });
    const listening = await predictor.listen(start.port, start.host);
    const first = start.model !== null ? models.resolve(models.first() ?? '') : null;
    send({ type: 'ready', port: listening.port, url: listening.url, served: first === null ? null : { name: first.name, version: first.version } });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : null;
    flush();
    send({ type: 'failed', message: terminalText(redactLine(message)), code }, () => process.exit(1));
  }
}

if (cluster.isWorker) await runWorker();
