/**
 * bench:serving — one scikit-learn model (iris LogisticRegression) served
 * two ways in the same run, and the floors under them:
 *
 * - mlmodel: the model converted with skl2onnx, imported, served alone by
 *   `mlmodel serve --model iris` (onnxruntime-node), MLflow's /invocations;
 * - MLflow: the same fitted model saved with mlflow.sklearn, served by
 *   `mlflow models serve -m … --env-manager local` (its pyfunc);
 * - the floor: onnxruntime-node called in this process, no HTTP;
 * - the HTTP floor: a bare node:http server in its own process that reads
 *   the same body, parses it and answers a fixed JSON (no model): what
 *   Node's HTTP/1.1 stack costs a request before any serving is done.
 *
 * Figures: time from start to ready (/ping answers 200), p50/p95 of one-row
 * requests one at a time, throughput with 8 concurrent clients (one
 * keep-alive connection each), and the CPU time each server process (its
 * whole process tree) spent per request during that load, read from
 * /proc: on a shared machine the wall-clock figures follow the other
 * processes' load, the CPU per request much less. The load generator is
 * bench/lib/http-load.ts (raw keep-alive sockets, request bytes built once;
 * node:http's client cost about as much per request as the server it
 * measured) in this process; its own CPU share is printed, so a saturated
 * client shows.
 *
 * Each server is then measured again with wrk (Debian's package, installed
 * by scripts/install-wrk.mjs; bench/lib/wrk-load.ts): one connection for
 * p50/p95, then 8 connections on one wrk thread for throughput, latency
 * percentiles from wrk's own histogram, every answer checked in its Lua
 * hook. On these 2 cores the node generator took a large share of a core
 * from the server it measured; wrk takes much less, and its share is
 * printed too. The goals are judged on wrk's figures (and printed for the
 * node generator's too).
 *
 *   npm run bench:serving
 *   MLMODEL_BENCH_SERVING_REQUESTS=500     timed one-at-a-time requests per server
 *   MLMODEL_BENCH_SERVING_SECONDS=5        seconds of the 8-client load
 *   MLMODEL_BENCH_SERVING_WORKERS=N        prediction workers of the second mlmodel
 *                                          (default: the machine's cores)
 *
 * mlmodel is measured twice: one process (`serve --model`), then N
 * prediction workers sharing the port (`serve --model --predict-workers N`,
 * node:cluster; docs/serving.md), its CPU summed over the primary and its
 * workers. The in-process floor stays one process: one session with the
 * server's options (one intra-op thread, so ONNX Runtime runs on the
 * calling thread). With the load
 * generator on the same cores, what any server can reach is bounded by
 * (cores − the generator's share) / the server's CPU per request; that
 * bound is printed beside each figure.
 *
 * MLflow is installed with pip into a virtualenv under ~/.cache/mlmodel
 * (bench/serving-requirements.txt; a few minutes, once).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOnnxModel } from '../src/serving/onnx-runtime.js';
import { cacheRoot, log, repoRoot } from './lib/cache.js';
import { freePort, startServer, stopServer, type ServerOptions } from './lib/child-server.js';
import { KeepAliveConnection } from './lib/http-load.js';
import { runWrk, type WrkLoad } from './lib/wrk-load.js';
import { fmt, goal, percentile, printTable, saveResults, type Row } from './lib/report.js';

const REQUESTS = Number(process.env.MLMODEL_BENCH_SERVING_REQUESTS ?? 500);
const SECONDS = Number(process.env.MLMODEL_BENCH_SERVING_SECONDS ?? 5);
const CLIENTS = 8;
const WORKERS = Number(process.env.MLMODEL_BENCH_SERVING_WORKERS ?? availableParallelism());
const CLI = join(repoRoot, 'dist', 'console', 'cli.js');
const REQUIREMENTS = join(repoRoot, 'bench', 'serving-requirements.txt');

/** The virtualenv with MLflow, scikit-learn and skl2onnx, keyed by the requirements file. */
function servingPython(): string {
  const key = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 12);
  const dir = join(cacheRoot(), `mlflow-serving-venv-${key}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.ready'))) return python;
  log(`installing ${REQUIREMENTS} into ${dir} (pip, a few minutes, once)`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'venv', dir], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], { stdio: 'inherit' });
  writeFileSync(join(dir, '.ready'), `${new Date().toISOString()}\n`);
  return python;
}

interface Load {
  p50: number;
  p95: number;
  perSecond: number;
  /** CPU time of the measured process (tree) per request during the concurrent load, µs. */
  cpuPerRequest: number;
  /** The share of one core the load generator (this process) used during the concurrent load, %. */
  clientCpu: number;
}

/** A measured call and how to read the CPU time of whatever answers it (ms, process tree; this process for the in-process floor). */
interface Target {
  readonly call: (client: number) => Promise<void>;
  readonly cpuMs: () => number;
  readonly close?: () => void;
}

/** One-row requests one at a time (p50/p95), then CLIENTS concurrent loops for SECONDS (throughput, CPU per request). */
async function load(t: Target): Promise<Load> {
  for (let i = 0; i < 200; i++) await t.call(0);
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    await t.call(0);
    ms.push(performance.now() - start);
  }
  // Warm every connection, then measure.
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => t.call(c)));
  let done = 0;
  const cpu0 = t.cpuMs();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (performance.now() < end) {
        await t.call(c);
        done++;
      }
    }),
  );
  const wall = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const cpu = t.cpuMs() - cpu0;
  t.close?.();
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), perSecond: done / (wall / 1000), cpuPerRequest: (cpu * 1000) / done, clientCpu: ((self.user + self.system) / 1000 / wall) * 100 };
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** utime + stime of a process and every live descendant (MLflow's uvicorn runs under its CLI and a shell), ms. */
function treeCpuMs(root: number): number {
  const stats = new Map<number, { ppid: number; ms: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    stats.set(Number(d), { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * TICK_MS });
  }
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    total += stats.get(pid)?.ms ?? 0;
    for (const [child, st] of stats) if (st.ppid === pid) todo.push(child);
  }
  return total;
}

/** CLIENTS keep-alive connections posting one body; every answer is checked (a server that answered errors fast would not count). */
function httpTarget(url: string, body: unknown, pid: number, check: (answer: unknown) => boolean): Target {
  const conns = Array.from({ length: CLIENTS }, () => new KeepAliveConnection(url, 'POST', JSON.stringify(body), { 'Content-Type': 'application/json' }));
  return {
    async call(client) {
      const a = await conns[client]!.send();
      const text = a.body.toString('utf8');
      if (a.status !== 200 || !check(JSON.parse(text))) throw new Error(`${url}: ${a.status} ${text.slice(0, 300)}`);
    },
    cpuMs: () => treeCpuMs(pid),
    close: () => conns.forEach((c) => c.close()),
  };
}

/** `wrk -v`'s version (it prints it and exits 1). */
function wrkVersion(wrk: string): string {
  const r = spawnSync(wrk, ['-v'], { encoding: 'utf8' });
  return /wrk (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '';
}

const hasPredictions = (a: unknown) => Array.isArray((a as { predictions?: unknown }).predictions);

/** wrk, or null (with why) when it cannot be had: the node generator's figures still print. */
async function findWrk(): Promise<string | null> {
  try {
    const script = (await import(pathToFileURL(join(repoRoot, 'scripts', 'install-wrk.mjs')).href)) as typeof import('../scripts/install-wrk.mjs');
    return script.ensureWrk((m) => log(m));
  } catch (e) {
    log(`no wrk, so no wrk figures: ${(e as Error).message}`);
    return null;
  }
}

interface WrkFigures {
  /** One connection: p50/p95. */
  readonly one: WrkLoad;
  /** CLIENTS connections: throughput. */
  readonly many: WrkLoad;
  /** The server's process-tree CPU per request during the CLIENTS-connection run, µs. */
  readonly cpuPerRequest: number;
}

/** One server under wrk: one connection, then CLIENTS connections on one wrk thread (it is C: one thread keeps up). */
async function wrkMeasure(wrk: string, url: string, body: unknown, pid: number, dir: string): Promise<WrkFigures> {
  const common = { url, body: JSON.stringify(body), contentType: 'application/json', mustContain: '"predictions"', threads: 1, dir };
  await runWrk(wrk, { ...common, connections: CLIENTS, seconds: 1 }, TICK_MS);
  const one = await runWrk(wrk, { ...common, connections: 1, seconds: SECONDS }, TICK_MS);
  const cpu0 = treeCpuMs(pid);
  const many = await runWrk(wrk, { ...common, connections: CLIENTS, seconds: SECONDS }, TICK_MS);
  const cpuPerRequest = ((treeCpuMs(pid) - cpu0) * 1000) / many.requests;
  for (const w of [one, many]) if (w.bad > 0) throw new Error(`${url}: ${w.bad} of ${w.requests} answers under wrk were not 200 with predictions`);
  return { one, many, cpuPerRequest };
}

/**
 * The HTTP floor: node:http in a process of its own, with what any JSON
 * server does per request (read the body, JSON.parse, JSON.stringify an
 * answer of the same size, Content-Length) and nothing of serving.
 */
const HTTP_FLOOR = `
const answer = ${JSON.stringify(JSON.stringify({ predictions: [{ label: 0, probabilities: [0.9815794229507446, 0.018420562148094177, 1.459569620720913e-8] }] }))};
require('node:http').createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/ping') { res.writeHead(200, { 'Content-Length': '1' }); res.end('\\n'); return; }
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const text = JSON.stringify(JSON.parse(answer));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

const python = servingPython();
const wrk = await findWrk();
const work = mkdtempSync(join(tmpdir(), 'mlmodel-bench-serving-'));
try {
  const made = JSON.parse(execFileSync(python, [join(repoRoot, 'scripts', 'bench-serving.py'), work], { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } }).trim().split('\n').pop()!) as {
    mlflow_model: string;
    onnx_tar: string;
    row: number[];
  };
  const body = { dataframe_split: { columns: ['sepal length', 'sepal width', 'petal length', 'petal width'], data: [made.row] } };
  const home = join(work, 'home');
  const env = { ...process.env, MLMODEL_HOME: home, MLMODEL_USER: 'bench' };
  const imported = spawnSync(process.execPath, [CLI, '-c', `mlmodel import name=iris type=onnx path=${made.onnx_tar}`], { env, encoding: 'utf8' });
  if (imported.status !== 0) throw new Error(`import failed: ${imported.stderr}`);

  // The floor: ONNX Runtime in this process, the same model, the same one row, one run per row.
  const tarBytes = readFileSync(made.onnx_tar);
  const size = parseInt(tarBytes.subarray(124, 136).toString().replace(/\0/g, '').trim(), 8);
  const model = await loadOnnxModel(tarBytes.subarray(512, 512 + size));
  const input = [{ name: 'X', type: 'float' as const, shape: [1, 4], data: made.row }];
  log('in-process floor');
  const selfMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const floor = await load({ call: async () => void (await model.run(input)), cpuMs: selfMs });
  await model.release();

  /**
   * A server spawned and ready on a free port: its start-to-ready time, the
   * node generator's load and (when wrk is installed) wrk's figures against
   * its POST /invocations, then stopped.
   */
  const measureServer = async (cmd: string, args: (port: number) => string[], options?: ServerOptions): Promise<{ ms: number; load: Load; wrk: WrkFigures | null }> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await startServer(cmd, args(port), `${url}/ping`, options);
    try {
      const figures = await load(httpTarget(`${url}/invocations`, body, server.child.pid!, hasPredictions));
      return { ms: server.ms, load: figures, wrk: wrk ? await wrkMeasure(wrk, `${url}/invocations`, body, server.child.pid!, work) : null };
    } finally {
      await stopServer(server.child);
    }
  };

  log('HTTP floor: bare node:http');
  const { load: bareLoad, wrk: bareWrk } = await measureServer(process.execPath, (port) => ['-e', HTTP_FLOOR, String(port)]);

  log('mlmodel serve --model iris');
  const ours = await measureServer(process.execPath, (port) => [CLI, 'serve', '--model', 'iris', '--port', String(port)], { env });
  const { load: oursLoad, wrk: oursWrk } = ours;

  log(`mlmodel serve --model iris --predict-workers ${WORKERS}`);
  const workers = await measureServer(
    process.execPath,
    (port) => [CLI, 'serve', '--model', 'iris', '--port', String(port), '--predict-workers', String(WORKERS)],
    { env },
  );
  const { load: workersLoad, wrk: workersWrk } = workers;

  log('mlflow models serve --env-manager local');
  const theirs = await measureServer(
    python,
    (port) => ['-m', 'mlflow', 'models', 'serve', '-m', made.mlflow_model, '--env-manager', 'local', '--host', '127.0.0.1', '-p', String(port)],
    // MLflow starts its server as `uvicorn …` through bash: the venv's bin must come first on PATH.
    { env: { ...process.env, PATH: `${dirname(python)}:${process.env.PATH ?? ''}`, PYTHONWARNINGS: 'ignore', MLFLOW_TRACKING_URI: '', GIT_PYTHON_REFRESH: 'quiet' } },
  );
  const { load: theirsLoad, wrk: theirsWrk } = theirs;

  const mlflowVersion = execFileSync(python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).trim();
  console.log(
    `serving one iris LogisticRegression: mlmodel serve --model (onnxruntime-node ${JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version as string}) vs mlflow models serve --env-manager local (MLflow ${mlflowVersion}, sklearn pyfunc); ${REQUESTS} one-row POST /invocations one at a time, then ${CLIENTS} keep-alive clients for ${SECONDS} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores\n`,
  );
  const capacity = (l: Load) => 1e6 / l.cpuPerRequest;
  const rows: Row[] = [
    { what: 'start to ready (/ping 200)', unit: 'ms', ours: ours.ms, peer: theirs.ms, higherIsBetter: false },
    { what: 'one-row request p50', unit: 'ms', ours: oursLoad.p50, peer: theirsLoad.p50, higherIsBetter: false },
    { what: 'one-row request p95', unit: 'ms', ours: oursLoad.p95, peer: theirsLoad.p95, higherIsBetter: false },
    { what: `throughput, ${CLIENTS} clients`, unit: 'req/s', ours: oursLoad.perSecond, peer: theirsLoad.perSecond, higherIsBetter: true },
    { what: 'server CPU per request (process tree)', unit: 'µs', ours: oursLoad.cpuPerRequest, peer: theirsLoad.cpuPerRequest, higherIsBetter: false },
    { what: 'requests per CPU-second (1e6 / CPU per request)', unit: 'req/s', ours: capacity(oursLoad), peer: capacity(theirsLoad), higherIsBetter: true },
  ];
  const table = printTable('HTTP, node generator: mlmodel vs MLflow', `MLflow ${mlflowVersion}`, rows);
  const floorRows: Row[] = [
    { what: 'one-row p50', unit: 'ms', ours: oursLoad.p50, peer: floor.p50, higherIsBetter: false },
    { what: `throughput, ${CLIENTS} concurrent`, unit: 'req/s', ours: oursLoad.perSecond, peer: floor.perSecond, higherIsBetter: true },
    { what: 'CPU per request (run)', unit: 'µs', ours: oursLoad.cpuPerRequest, peer: floor.cpuPerRequest, higherIsBetter: false },
  ];
  const floorTable = printTable('mlmodel over HTTP vs onnxruntime-node in-process (the floor)', 'in-process floor', floorRows);
  const bareRows: Row[] = [
    { what: 'one-row p50', unit: 'ms', ours: oursLoad.p50, peer: bareLoad.p50, higherIsBetter: false },
    { what: `throughput, ${CLIENTS} clients`, unit: 'req/s', ours: oursLoad.perSecond, peer: bareLoad.perSecond, higherIsBetter: true },
    { what: 'server CPU per request', unit: 'µs', ours: oursLoad.cpuPerRequest, peer: bareLoad.cpuPerRequest, higherIsBetter: false },
  ];
  const bareTable = printTable('mlmodel vs a bare node:http server answering the same body without a model (the HTTP floor)', 'bare node:http', bareRows);
  const cores = availableParallelism();
  /** What the cores left by the generator give a server at its CPU per request (req/s). */
  const bound = (serverCpuUs: number, generatorPct: number) => ((cores - generatorPct / 100) * 1e6) / serverCpuUs;
  const workerRows: Row[] = [
    { what: `throughput, ${CLIENTS} clients`, unit: 'req/s', ours: workersLoad.perSecond, peer: oursLoad.perSecond, higherIsBetter: true },
    { what: 'server CPU per request (primary + workers)', unit: 'µs', ours: workersLoad.cpuPerRequest, peer: oursLoad.cpuPerRequest, higherIsBetter: false },
    { what: 'one-row p50', unit: 'ms', ours: workersLoad.p50, peer: oursLoad.p50, higherIsBetter: false },
  ];
  const workersTable = printTable(`mlmodel with ${WORKERS} prediction workers vs one process (node generator)`, 'one process', workerRows);
  const workersFloorTable = printTable(`mlmodel with ${WORKERS} prediction workers vs onnxruntime-node in-process (one process, one intra-op thread)`, 'in-process floor', [
    { what: `throughput, ${CLIENTS} concurrent`, unit: 'req/s', ours: workersLoad.perSecond, peer: floor.perSecond, higherIsBetter: true },
  ]);
  console.log(
    `the bound on ${cores} cores with the node generator's share taken out ((cores − generator) / server CPU per request): mlmodel ${WORKERS} workers ${fmt(bound(workersLoad.cpuPerRequest, workersLoad.clientCpu), 0)} req/s (${fmt(bound(workersLoad.cpuPerRequest, workersLoad.clientCpu) / floor.perSecond, 2)}× the floor), one process ≤ 1 core: ${fmt(Math.min(1e6 / oursLoad.cpuPerRequest, bound(oursLoad.cpuPerRequest, oursLoad.clientCpu)), 0)} req/s, bare node:http ${fmt(bound(bareLoad.cpuPerRequest, bareLoad.clientCpu), 0)} req/s\n`,
  );
  console.log(
    `load generator (this process) during the ${CLIENTS}-client loads: ${fmt(oursLoad.clientCpu, 0)}% of a core against mlmodel, ${fmt(theirsLoad.clientCpu, 0)}% against MLflow, ${fmt(bareLoad.clientCpu, 0)}% against the HTTP floor\n`,
  );
  // The goals, on what a generator measured: throughput and p50 against MLflow's, throughput against the in-process floor.
  interface Measured {
    readonly p50: number;
    readonly perSecond: number;
    readonly cpuPerRequest: number;
  }
  const goalsOf = (by: string, o: Measured, t: Measured, b: Measured) => [
    goal(`≥ 10× MLflow throughput (${by})`, o.perSecond >= 10 * t.perSecond, `${fmt(o.perSecond / t.perSecond, 1)}× (per CPU-second: ${fmt(t.cpuPerRequest / o.cpuPerRequest, 1)}×)`),
    goal(`p50 ≤ a tenth of MLflow (${by})`, o.p50 * 10 <= t.p50, `${fmt(t.p50 / o.p50, 1)}× lower (${fmt(o.p50, 3)} vs ${fmt(t.p50, 2)} ms)`),
    goal(
      `HTTP ≥ 0.7× the in-process floor throughput (${by})`,
      o.perSecond >= 0.7 * floor.perSecond,
      `${fmt(o.perSecond / floor.perSecond, 2)}× (per CPU-second: ${fmt(floor.cpuPerRequest / o.cpuPerRequest, 2)}×; the bare HTTP floor alone reaches ${fmt(b.perSecond / floor.perSecond, 2)}×, per CPU-second ${fmt(floor.cpuPerRequest / b.cpuPerRequest, 2)}×)`,
    ),
  ];
  const goals = goalsOf('node generator', oursLoad, theirsLoad, bareLoad);
  goals.push(...goalsOf(`node generator, ${WORKERS} workers`, workersLoad, theirsLoad, bareLoad).slice(2));
  const tables = [table, floorTable, bareTable, workersTable, workersFloorTable];
  let wrkFigures: Record<string, unknown> | null = null;
  if (oursWrk && theirsWrk && bareWrk) {
    const [o, t, b] = [oursWrk, theirsWrk, bareWrk];
    console.log(
      `\nthe same three servers under wrk ${wrkVersion(wrk!)} (one thread; 1 connection for p50/p95, then ${CLIENTS} connections for ${SECONDS} s; latency from wrk's own histogram); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`,
    );
    const wrkRows = (peer: WrkFigures): Row[] => [
      { what: 'one-row request p50 (1 connection)', unit: 'ms', ours: o.one.p50, peer: peer.one.p50, higherIsBetter: false },
      { what: 'one-row request p95 (1 connection)', unit: 'ms', ours: o.one.p95, peer: peer.one.p95, higherIsBetter: false },
      { what: `throughput, ${CLIENTS} connections`, unit: 'req/s', ours: o.many.perSecond, peer: peer.many.perSecond, higherIsBetter: true },
      { what: `p50 under ${CLIENTS} connections`, unit: 'ms', ours: o.many.p50, peer: peer.many.p50, higherIsBetter: false },
      { what: 'server CPU per request (process tree)', unit: 'µs', ours: o.cpuPerRequest, peer: peer.cpuPerRequest, higherIsBetter: false },
    ];
    tables.push(printTable('wrk: mlmodel vs MLflow', `MLflow ${mlflowVersion}`, wrkRows(t)));
    tables.push(
      printTable('wrk: mlmodel vs onnxruntime-node in-process (the floor, as above)', 'in-process floor', [
        { what: 'one-row p50', unit: 'ms', ours: o.one.p50, peer: floor.p50, higherIsBetter: false },
        { what: `throughput, ${CLIENTS} concurrent`, unit: 'req/s', ours: o.many.perSecond, peer: floor.perSecond, higherIsBetter: true },
      ]),
    );
    tables.push(printTable('wrk: mlmodel vs the bare node:http server (the HTTP floor)', 'bare node:http', wrkRows(b)));
    console.log(
      `wrk's own CPU (share of one core) during the ${CLIENTS}-connection runs: ${fmt(o.many.clientCpu, 0)}% against mlmodel, ${fmt(t.many.clientCpu, 0)}% against MLflow, ${fmt(b.many.clientCpu, 0)}% against the HTTP floor (the node generator: ${fmt(oursLoad.clientCpu, 0)}%, ${fmt(theirsLoad.clientCpu, 0)}%, ${fmt(bareLoad.clientCpu, 0)}%)\n`,
    );
    const m = (w: WrkFigures, p50: number): Measured => ({ p50, perSecond: w.many.perSecond, cpuPerRequest: w.cpuPerRequest });
    goals.push(...goalsOf('wrk', m(o, o.one.p50), m(t, t.one.p50), m(b, b.one.p50)));
    if (workersWrk) {
      const w = workersWrk;
      tables.push(
        printTable(`wrk: mlmodel with ${WORKERS} prediction workers vs one process`, 'one process', [
          { what: `throughput, ${CLIENTS} connections`, unit: 'req/s', ours: w.many.perSecond, peer: o.many.perSecond, higherIsBetter: true },
          { what: 'server CPU per request (primary + workers)', unit: 'µs', ours: w.cpuPerRequest, peer: o.cpuPerRequest, higherIsBetter: false },
          { what: 'one-row request p50 (1 connection)', unit: 'ms', ours: w.one.p50, peer: o.one.p50, higherIsBetter: false },
          { what: `p50 under ${CLIENTS} connections`, unit: 'ms', ours: w.many.p50, peer: o.many.p50, higherIsBetter: false },
        ]),
      );
      console.log(
        `wrk's share against the ${WORKERS} workers: ${fmt(w.many.clientCpu, 0)}% of a core; the bound on ${cores} cores without it: ${fmt(bound(w.cpuPerRequest, w.many.clientCpu), 0)} req/s = ${fmt(bound(w.cpuPerRequest, w.many.clientCpu) / floor.perSecond, 2)}× the floor (0.7× needs server CPU per request ≤ ${fmt(((cores - w.many.clientCpu / 100) * 1e6) / (0.7 * floor.perSecond), 0)} µs; the bare node:http server's is ${fmt(b.cpuPerRequest, 0)} µs)\n`,
      );
      goals.push(...goalsOf(`wrk, ${WORKERS} workers`, m(w, w.one.p50), m(t, t.one.p50), m(b, b.one.p50)).slice(2));
    }
    wrkFigures = { ours: o, mlflow: t, httpFloor: b, workers: workersWrk };
  }
  goals.push(goal('start to ready ≤ a tenth of MLflow', ours.ms * 10 <= theirs.ms, `${fmt(theirs.ms / ours.ms, 1)}× faster`));
  const file = saveResults('serving', {
    loadavg: loadavg(),
    ours: { ready: ours.ms, ...oursLoad },
    workers: { count: WORKERS, ready: workers.ms, ...workersLoad },
    mlflow: { version: mlflowVersion, ready: theirs.ms, ...theirsLoad },
    floor,
    httpFloor: bareLoad,
    wrk: wrkFigures,
    tables,
    goals,
  });
  log(`results in ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
