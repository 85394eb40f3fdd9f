import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { EXIT_QUERY_FAILED, EXIT_USAGE, openFailureStatus } from '../exit-codes.js';
import { isLoopbackHost } from './auth.js';
import { terminalText } from '../render/terminal-text.js';
import type { ModelServer } from '../../src/serving/model-server.js';
import type { PredictServer } from './predict-server.js';
import type { PredictWorkers } from './predict-workers.js';
import type { QueryServer } from './server.js';

/**
 * The help text. The tracking endpoints are listed from their route table
 * (tracking-routes.ts), imported only here so that starting without --help
 * loads it with the server, not before.
 */
async function serveUsage(): Promise<string> {
  const { TRACKING_ENDPOINTS } = await import('./tracking-routes.js');
  const width = Math.max(...TRACKING_ENDPOINTS.map((e) => e.path.length));
  const tracking = TRACKING_ENDPOINTS.map((e) => `    ${e.method.padEnd(4)} ${e.path.padEnd(width)}  ${e.summary}`).join('\n');
  return `usage: mlmodel serve [--port N] [--predict-port N] [--predict-workers N] [--host ADDR] [--home DIR] [--config FILE] [--user NAME]
       mlmodel serve --model NAME[@VERSION|@ALIAS] [--port N] [--predict-workers N] [--host ADDR] …

  Serves the query API over HTTP (see docs/http.md):
    POST /query            {"q": "<query>"}  → {"fields", "results", …}
    POST /query/jobs       {"q": "<query>"}  → {"sid"}
    GET  /query/jobs/SID                     → {"status", "isEnd", "fields", "results"}
    GET  /ui/                                  the web page: models, runs, charts (docs/web.md)
  the endpoints training code logs runs through (see docs/tracking.md):
${tracking}
  An admin acts as another user with "user": NAME in a POST body, or user=NAME on a GET.
  And, with --predict-port, predictions from every deployed onnx model
  (see docs/serving.md):
    /v1/models/NAME…       TensorFlow Serving's REST API (:predict, metadata)
    /v2/…                  KServe's Open Inference Protocol v2 (/infer)
    /mlflow/NAME/…         MLflow's scoring protocol (/invocations)

  --port N          port to listen on (default 6036; with --model 5000; 0 picks a free one)
  --predict-port N  also answer predictions on this port, following deploy and stop
  --model REF       serve this one model version alone, on --port, the way
                    mlflow models serve -m does (MLflow's /invocations at the root)
  --max-batch N     most rows one model run stacks from concurrent prediction
                    requests (default 64; 1 runs every request alone; docs/serving.md)
  --predict-workers N
                    answer predictions from N worker processes sharing the port
                    (as gunicorn's workers do; default: in this process); each
                    follows deploy and stop, one that dies is replaced
  --host ADDR       address to listen on (default 127.0.0.1). Without tokens in
                    the config's http.tokens only a loopback address is allowed.`;
}

/** How long a log line may wait to go out with others, and how many may wait. */
const LOG_FLUSH_MS = 100;
const LOG_FLUSH_LINES = 1000;

export interface ServeIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `mlmodel serve`: opens the registry once, serves until SIGINT/SIGTERM,
 * then cancels running queries and closes the stores. Prints
 * `listening on http://HOST:PORT` on stdout once it accepts requests.
 */
export async function serveMain(argv: readonly string[], io: ServeIo, stop?: AbortSignal): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        port: { type: 'string' },
        'predict-port': { type: 'string' },
        model: { type: 'string' },
        'max-batch': { type: 'string' },
        'predict-workers': { type: 'string' },
        host: { type: 'string' },
        home: { type: 'string' },
        config: { type: 'string' },
        user: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr.write(`mlmodel serve: ${e instanceof Error ? e.message : String(e)}\n${await serveUsage()}\n`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout.write((await serveUsage()) + '\n');
    return 0;
  }
  const port = values.port === undefined ? (values.model !== undefined ? 5000 : 6036) : Number(values.port);
  const predictPort = values['predict-port'] === undefined ? null : Number(values['predict-port']);
  for (const [flag, v] of [['--port', values.port], ['--predict-port', values['predict-port']]] as const) {
    if (!/^\d{1,5}$/.test(v ?? '0') || Number(v ?? 0) > 65535) {
      io.stderr.write(`mlmodel serve: ${flag} must be a number from 0 to 65535\n`);
      return EXIT_USAGE;
    }
  }
  const maxBatch = values['max-batch'];
  if (maxBatch !== undefined && (!/^[1-9]\d{0,5}$/.test(maxBatch) || Number(maxBatch) > 65536)) {
    io.stderr.write(`mlmodel serve: --max-batch must be a number from 1 to 65536\n`);
    return EXIT_USAGE;
  }
  const workersText = values['predict-workers'];
  if (workersText !== undefined && (!/^[1-9]\d{0,2}$/.test(workersText) || Number(workersText) > 256)) {
    io.stderr.write(`mlmodel serve: --predict-workers must be a number from 1 to 256\n`);
    return EXIT_USAGE;
  }
  const workerCount = workersText === undefined ? null : Number(workersText);
  if (workerCount !== null && values.model === undefined && predictPort === null) {
    io.stderr.write(`mlmodel serve: --predict-workers answers predictions: give it with --predict-port N or --model REF\n`);
    return EXIT_USAGE;
  }
  if (values.model !== undefined && predictPort !== null) {
    io.stderr.write(`mlmodel serve: --model serves one model on --port alone; --predict-port is for the registry's server\n`);
    return EXIT_USAGE;
  }
  const host = values.host ?? '127.0.0.1';

  const [{ openRegistry }, { createQueryServer }, { isMlmodelError }, { redact, redactor, loadConfig }] = await Promise.all([
    import('../../src/engine/registry.js'),
    import('./server.js'),
    import('../../src/errors.js'),
    import('../../src/config/index.js'),
  ]);
  let registry;
  try {
    const config = loadConfig(io.env, {
      ...(values.home ? { home: values.home } : {}),
      ...(values.config ? { config: values.config } : {}),
      ...(values.user ? { user: values.user } : {}),
    });
    if (config.http.tokens.size === 0 && !isLoopbackHost(host)) {
      io.stderr.write(
        `mlmodel serve: refusing to listen on ${host} without tokens; add http.tokens to the config file (see docs/http.md) or listen on 127.0.0.1\n`,
      );
      return EXIT_USAGE;
    }
    // Local paths over HTTP stay inside http.local_roots; with none, they are refused.
    registry = await openRegistry({ config, localRoots: config.http.localRoots });
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    io.stderr.write(`mlmodel serve: ${terminalText(redact(e.message))} (${e.code})\n`);
    return openFailureStatus(e);
  }
  const secrets = registry.config.secrets;
  // The log lines of LOG_FLUSH_MS go out in one write: a server answering thousands of requests a
  // second spent more on a write per request line than on some of the answers, and a write per turn
  // of the event loop to a pipe (a supervisor reading it) still cost the prediction port ~6% of its
  // time, each write waking the reader.
  const redactLine = redactor(secrets);
  let logLines: string[] = [];
  let logTimer: NodeJS.Timeout | undefined;
  const flushLog = () => {
    clearTimeout(logTimer);
    logTimer = undefined;
    if (logLines.length === 0) return;
    const text = logLines.join('\n') + '\n';
    logLines = [];
    io.stderr.write(text);
  };
  const log = (line: string) => {
    logLines.push(terminalText(redactLine(line)));
    if (logLines.length >= LOG_FLUSH_LINES) flushLog();
    else logTimer ??= setTimeout(flushLog, LOG_FLUSH_MS);
  };
  let models: ModelServer | null = null;
  let predictor: PredictServer | null = null;
  let workers: PredictWorkers | null = null;
  let qs: QueryServer | null = null;
  let address;
  const closeAll = async () => {
    await qs?.close();
    await workers?.close();
    await predictor?.close();
    await models?.close();
    await registry.close();
  };
  try {
    if (workerCount !== null) {
      // The workers load the models and ONNX Runtime; this process only supervises them (and serves the query API).
      const [{ startPredictWorkers }, { parseModelRefText }, { packageVersion }] = await Promise.all([
        import('./predict-workers.js'),
        import('../../src/executor/models.js'),
        import('../version.js'),
      ]);
      workers = await startPredictWorkers({
        count: workerCount,
        port: values.model !== undefined ? port : predictPort!,
        settings: {
          host,
          ...(values.home ? { home: values.home } : {}),
          ...(values.config ? { config: values.config } : {}),
          ...(values.user ? { user: values.user } : {}),
          ...(maxBatch === undefined ? {} : { maxBatchRows: Number(maxBatch) }),
          version: packageVersion(),
        },
        model: values.model !== undefined ? parseModelRefText(values.model) : null,
        http: registry.config.http,
        defaultUser: registry.config.user,
        log,
        write: (text) => {
          flushLog();
          io.stderr.write(text);
        },
      });
    } else if (values.model !== undefined || predictPort !== null) {
      // Only now: the serving engine and ONNX Runtime stay out of a query-only server's start.
      const [{ createPredictServer }, { parseModelRefText }, { packageVersion }] = await Promise.all([
        import('./predict-server.js'),
        import('../../src/executor/models.js'),
        import('../version.js'),
      ]);
      const batching = maxBatch === undefined ? {} : { maxBatchRows: Number(maxBatch) };
      models = await registry.serveModels(values.model !== undefined ? { model: parseModelRefText(values.model), ...batching } : { log, ...batching });
      predictor = createPredictServer({
        models,
        http: registry.config.http,
        user: registry.config.user,
        secrets,
        oneModel: values.model !== undefined,
        version: packageVersion(),
        log,
      });
    }
    const inWorkers = workerCount === null ? '' : ` from ${workerCount} worker process${workerCount === 1 ? '' : 'es'}`;
    if (values.model !== undefined) {
      address = workers ? workers.listening : await predictor!.listen(port, host);
      const name = workers ? workers.served!.name : models!.names().join(', ');
      io.stderr.write(`mlmodel serve: ${name} alone (MLflow's /invocations at the root; docs/serving.md)${inWorkers}\n`);
    } else {
      qs = createQueryServer({ registry, log });
      address = await qs.listen(port, host);
      const predictions = workers ? workers.listening : predictor ? await predictor.listen(predictPort!, host) : null;
      if (predictions) io.stderr.write(`mlmodel serve: predictions on ${predictions.url}${inWorkers} (docs/serving.md)\n`);
    }
  } catch (e) {
    await closeAll();
    flushLog();
    if (isMlmodelError(e)) {
      io.stderr.write(`mlmodel serve: ${terminalText(redact(e.message, secrets))} (${e.code})\n`);
      return EXIT_QUERY_FAILED;
    }
    if (e instanceof Error && e.name === 'WorkerStartError') {
      // Already redacted by the worker; its engine code when it had one (a model that does not load).
      const code = (e as { code?: string | null }).code;
      io.stderr.write(`mlmodel serve: ${e.message}${code ? ` (${code})` : ''}\n`);
      return EXIT_QUERY_FAILED;
    }
    io.stderr.write(`mlmodel serve: cannot listen on ${host}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_QUERY_FAILED;
  }
  const tokens = registry.config.http.tokens.size;
  io.stderr.write(
    `mlmodel serve: ${tokens > 0 ? `${tokens} token(s) configured; every request needs one` : `no tokens configured: loopback callers only, as user ${registry.config.user}`}\n`,
  );
  const hosts = registry.config.http.allowedHosts;
  if (!isLoopbackHost(host) && hosts.length === 0) {
    // Reached by a name, it would refuse every request (403 FORBIDDEN_HOST): say so at the start.
    io.stderr.write(`mlmodel serve: answering the Host names localhost, 127.0.0.1, [::1] and this machine's addresses only; list other names in http.allowed_hosts\n`);
  }
  // The handlers are in place before the line that tells a supervisor it may signal us: a SIGTERM
  // right after it still closes cleanly (spilled results removed), not by the default action.
  const stopped = new Promise<void>((resolveStop) => {
    const done = () => resolveStop();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    stop?.addEventListener('abort', done, { once: true });
  });
  io.stdout.write(`listening on ${address.url}\n`);
  await stopped;
  flushLog();
  io.stderr.write('mlmodel serve: stopping\n');
  await closeAll();
  flushLog();
  return 0;
}
