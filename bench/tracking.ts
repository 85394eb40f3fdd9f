/**
 * `npm run bench:tracking`: logging and reading training runs, mlmodel
 * beside MLflow Tracking in the same run. mlmodel: the embedded SQLite store,
 * in-process, through the language (registry.run and the library's
 * startRun, the path every front end takes). MLflow: MlflowClient on its
 * SQLite backend in-process (scripts/bench-mlflow-tracking.py, the cached
 * virtualenv bench/lib/peers.ts makes). Also: compare of 10 runs × 10,000
 * steps, a 1,000,000-point metric charted from the store (`mlmodel chart`,
 * reduced in SQL, then drawn for an 80-column terminal), and the console's
 * renderer given a 1,000,000-row table to chart. Figures are printed, never asserted.
 *
 * Then over HTTP, both servers spawned on loopback in this run, each one
 * process on an SQLite file, each driven by its own project's Python client
 * in the same interpreter (MLflow's venv): `mlmodel serve` (the `/runs`
 * endpoints, and `POST /query` for the search) by mlmodel's Tracker
 * (notebook/, scripts/bench-mlmodel-tracking.py), against `mlflow server
 * --workers 1` by MlflowClient(tracking_uri=its URL) running the same
 * workload (its 1,000 search runs are written to the server's SQLite file
 * directly, set-up, untimed: through REST they took minutes; ours go through
 * the server, also untimed). The HTTP floor is the same Tracker's requests
 * against bench/lib/durable-http-floor.ts. One client, one request in flight:
 * more workers would sit idle. MLflow's job runner (huey consumers, for its
 * GenAI jobs) is switched off with MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false:
 * the workload never uses it and its processes would only take the peer's CPU.
 *
 * Like with like: every call on either side is durable when it returns —
 * ours one IMMEDIATE transaction in WAL with synchronous = FULL, MLflow's one
 * committed session with SQLite's defaults (rollback journal, synchronous =
 * FULL; the script reports what its engine runs with). The bench also times
 * a bare durable SQLite commit in each journal mode, in this run: the floor
 * of any one-commit-per-call path, and so the bound on the per-call ratios.
 * The load average is printed with each side's figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { renderChart } from '../console/render/chart.js';
import { loadConfig } from '../src/config/index.js';
import { openRegistry } from '../src/engine/registry.js';
import { startRun } from '../src/tracking/client.js';
import type { ResultTable } from '../src/result/table.js';
import { bareCommitter } from './lib/bare-commit.js';
import { ensureMlflow, MLFLOW_VERSION } from './lib/peers.js';
import { log, repoRoot } from './lib/cache.js';
import { freePort, startServer, stopServer } from './lib/child-server.js';
import { fmt, goal } from './lib/report.js';

const SINGLE = Number(process.env.MLMODEL_BENCH_SINGLE ?? 2000);
const BATCH = Number(process.env.MLMODEL_BENCH_BATCH ?? 200_000);
const PARAMS = Number(process.env.MLMODEL_BENCH_PARAMS ?? 1000);
const HISTORY = 10_000;
const RUNS = 1000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timeMs(fn: () => Promise<unknown>, runs = 9): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const loads: Record<string, string> = {};

/** Milliseconds of one durable commit (a row inserted, a row updated) in `mode`, synchronous = FULL: the per-call floor. */
function bareCommitMs(dir: string, mode: 'WAL' | 'DELETE', n = 200): number {
  const floor = bareCommitter(join(dir, `floor-${mode}.db`), mode);
  try {
    const t = performance.now();
    for (let i = 0; i < n; i++) floor.commit(`v${i}`);
    return (performance.now() - t) / n;
  } finally {
    floor.close();
  }
}

const root = mkdtempSync(join(tmpdir(), 'mlmodel-bench-tracking-'));
const reg = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'bench' }) });
const ours: Record<string, number> = {};
try {
  loads.mlmodel_start = load();
  log('floor: a bare durable SQLite commit, WAL and rollback journal');
  ours.floor_wal_ms = bareCommitMs(root, 'WAL');
  ours.floor_delete_ms = bareCommitMs(root, 'DELETE');
  log('mlmodel: points one at a time');
  let run = await startRun(reg, { experiment: 'bench' });
  let t = performance.now();
  for (let i = 0; i < SINGLE; i++) await reg.run(`mlmodel log metrics ${run.id} step=${i} loss=${1 / (i + 1)}`);
  ours.single_points_per_s = SINGLE / ((performance.now() - t) / 1000);

  log(`mlmodel: ${BATCH} points in batches`);
  run = await startRun(reg, { experiment: 'bench' });
  const points = Array.from({ length: BATCH }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), step: i }));
  t = performance.now();
  await run.logBatch(points);
  ours.batch_points_per_s = BATCH / ((performance.now() - t) / 1000);

  log('mlmodel: params one at a time');
  run = await startRun(reg, { experiment: 'bench' });
  t = performance.now();
  for (let i = 0; i < PARAMS; i++) await reg.run(`mlmodel log params ${run.id} p${i}=${i}`);
  ours.params_per_s = PARAMS / ((performance.now() - t) / 1000);

  log('mlmodel: a 10,000-step history');
  run = await startRun(reg, { experiment: 'bench' });
  await run.logBatch(points.slice(0, HISTORY));
  ours.history_ms = await timeMs(async () => {
    const h = await reg.run(`mlmodel metric ${run.id} loss`);
    if (h.rows.length !== HISTORY) throw new Error('short history');
  });

  log('mlmodel: 1000 runs, a filtered sorted search');
  const lrs = [0.001, 0.005, 0.01, 0.05, 0.1];
  for (let i = 0; i < RUNS; i++) {
    const r = await startRun(reg, { experiment: 'search', params: { lr: lrs[i % 5]! } });
    await r.logMetrics({ acc: ((i * 37) % 100) / 100 }, 0);
  }
  ours.search_ms = await timeMs(() => reg.run('mlmodel runs search | where params.lr = 0.001 and metrics.acc > 0.5 | sort -metrics.acc | head 5'));

  log('mlmodel: compare of 10 runs × 10,000 steps');
  const ids: number[] = [];
  for (let k = 0; k < 10; k++) {
    const r = await startRun(reg, { experiment: 'compare', params: { lr: lrs[k % 5]!, seed: k } });
    await r.logBatch(points.slice(0, HISTORY).map((p) => ({ ...p, value: p.value * (k + 1) })));
    ids.push(r.id);
  }
  ours.compare_ms = await timeMs(() => reg.run(`mlmodel compare ${ids.join(', ')}`), 5);

  log('mlmodel: a 1,000,000-row table drawn as a chart for 80 columns');
  const million: ResultTable = {
    columns: [
      { name: 'metric', type: 'TEXT' },
      { name: 'step', type: 'LONG' },
      { name: 'value', type: 'DOUBLE' },
    ],
    rows: Array.from({ length: 1_000_000 }, (_, i) => ['loss', i, Math.sin(i / 5000) + (i === 777_777 ? 5 : 0)]),
    chart: { title: 'one million points', series: 'metric', x: 'step', y: 'value' },
  };
  ours.render_1m_ms = await timeMs(async () => {
    renderChart(million, { width: 80 });
  }, 5);

  log('mlmodel: a 1,000,000-point metric in the store, charted for 80 columns (mlmodel chart, then drawn)');
  run = await startRun(reg, { experiment: 'chart' });
  for (let b = 0; b < 10; b++) {
    await run.logBatch(Array.from({ length: 100_000 }, (_, i) => ({ key: 'loss', value: Math.sin((b * 100_000 + i) / 5000) + (b * 100_000 + i === 777_777 ? 5 : 0), step: b * 100_000 + i })));
  }
  // Where the time goes: the statement (the store's read and reduction) and the drawing of what it returns.
  const query: number[] = [];
  const draw: number[] = [];
  ours.chart_1m_ms = await timeMs(async () => {
    const t0 = performance.now();
    const table = await reg.run(`mlmodel chart ${run.id} loss`);
    const t1 = performance.now();
    renderChart(table, { width: 80 });
    query.push(t1 - t0);
    draw.push(performance.now() - t1);
  }, 5);
  ours.chart_query_ms = median(query);
  ours.chart_draw_ms = median(draw);
  loads.mlmodel_end = load();
} finally {
  await reg.close();
  rmSync(root, { recursive: true, force: true });
}

const mlflowEnv = (python: string): NodeJS.ProcessEnv => ({
  ...process.env,
  // mlflow server starts uvicorn by name: the venv's bin comes first on PATH.
  PATH: `${dirname(python)}:${process.env.PATH ?? ''}`,
  PYTHONWARNINGS: 'ignore',
  MLFLOW_TRACKING_URI: '',
  GIT_PYTHON_REFRESH: 'quiet',
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
});

/**
 * `script` (in scripts/) run by `python` with `args`; the JSON of its last line. Asynchronous: a server
 * this process started keeps its stderr pipe drained while the script talks to it.
 */
function pythonJson(python: string, script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(repoRoot, 'scripts', script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>);
      } catch (e) {
        reject(new Error(`${script} printed no JSON (${(e as Error).message}): ${out.slice(-500)}`));
      }
    });
  });
}

/** scripts/bench-mlflow-tracking.py with `args` (its --db or --url and counts). */
const mlflowTracking = (python: string, args: string[]) => pythonJson(python, 'bench-mlflow-tracking.py', args, mlflowEnv(python));

/**
 * scripts/bench-mlmodel-tracking.py with `args`: mlmodel's Python client (notebook/src) in the same Python
 * as MLflow's, so each server is driven by its own project's client, in one interpreter.
 */
const ourClient = (args: string[]) =>
  pythonJson(clientPython, 'bench-mlmodel-tracking.py', args, { PATH: process.env.PATH ?? '', PYTHONPATH: join(repoRoot, 'notebook', 'src'), PYTHONWARNINGS: 'ignore' });

let theirs: Record<string, number> | null = null;
try {
  const python = ensureMlflow();
  const dir = mkdtempSync(join(tmpdir(), 'mlflow-bench-tracking-'));
  log(`MLflow ${MLFLOW_VERSION}: the same workload (smaller counts where it is slow)`);
  loads.mlflow_start = load();
  try {
    theirs = await mlflowTracking(python, ['--db', join(dir, 'mlflow.db'), '--single', '500', '--batch', '20000', '--params', '300']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  loads.mlflow_end = load();
} catch (e) {
  log(`MLflow not measured: ${(e as Error).message.split('\n')[0]}`);
}

// ---- over HTTP: mlmodel serve vs MLflow's REST server ----

const HTTP_SINGLE = Number(process.env.MLMODEL_BENCH_HTTP_SINGLE ?? 1000);
const HTTP_BATCH = Number(process.env.MLMODEL_BENCH_HTTP_BATCH ?? 100_000);
const HTTP_PARAMS = Number(process.env.MLMODEL_BENCH_HTTP_PARAMS ?? 500);
/**
 * Requests each server (and the floor) gets before it is timed, untimed, the same on both sides: a server
 * just started answers its first requests slower (our JIT, MLflow's caches). See the scripts' --warmup.
 */
const HTTP_WARMUP = String(Number(process.env.MLMODEL_BENCH_HTTP_WARMUP ?? 100));
/** Points per request, as the Python client's log_batch sends them (its BATCH_POINTS: a request body is at most 64 KiB). */
const HTTP_CHUNK = 500;
const CLI = join(repoRoot, 'dist', 'console', 'cli.js');

/** The measures of the two tables that the goal compares with MLflow. */
const MEASURED_BESIDE_MLFLOW = ['single_points_per_s', 'batch_points_per_s', 'params_per_s', 'history_ms', 'search_ms'] as const;

/**
 * The Python both sides' clients run in: MLflow's cached virtualenv (its client needs it; ours needs only
 * the standard library), or python3 from PATH when that venv cannot be made here.
 */
let clientPython = 'python3';
try {
  clientPython = ensureMlflow();
} catch {
  // MLflow is reported as not measured below; ours still runs.
}
const httpOurs: Record<string, number> = {};
let httpTheirs: Record<string, number> | null = null;
/** Milliseconds a request of the floor over HTTP (durable-http-floor.ts). */
let httpFloorMs: number | undefined;
{
  const root2 = mkdtempSync(join(tmpdir(), 'mlmodel-bench-tracking-http-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // No tokens configured: the server answers loopback callers only, as user root (docs/http.md).
  const env = { PATH: process.env.PATH ?? '', HOME: root2, MLMODEL_HOME: join(root2, 'home'), MLMODEL_USER: 'bench', TZ: 'UTC' };
  log('mlmodel serve: the same workload over HTTP through mlmodel\'s Python client (the /runs endpoints, POST /query for the search)');
  const server = await startServer(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port)], `${base}/runs`, { env });
  try {
    loads.http_mlmodel_start = load();
    Object.assign(httpOurs, await ourClient(['--url', base, '--single', String(HTTP_SINGLE), '--batch', String(HTTP_BATCH), '--params', String(HTTP_PARAMS), '--history', String(HISTORY), '--runs', String(RUNS), '--warmup', HTTP_WARMUP]));
    loads.http_mlmodel_end = load();
  } finally {
    await stopServer(server.child);
  }

  // The floor over HTTP: the same one-request-at-a-time loop against a bare
  // node:http server that does one bare durable commit a request.
  log('floor over HTTP: a bare node:http server, one bare durable SQLite commit a request');
  const floorPort = await freePort();
  const floor = await startServer(
    process.execPath,
    [join(repoRoot, 'dist', 'bench', 'lib', 'durable-http-floor.js'), join(root2, 'floor.db'), String(floorPort)],
    `http://127.0.0.1:${floorPort}/`,
  );
  try {
    httpFloorMs = (await ourClient(['--floor-url', `http://127.0.0.1:${floorPort}`, '--single', String(HTTP_SINGLE), '--warmup', HTTP_WARMUP])).floor_ms;
  } finally {
    await stopServer(floor.child);
    rmSync(root2, { recursive: true, force: true });
  }
}

try {
  const python = ensureMlflow();
  const dir = mkdtempSync(join(tmpdir(), 'mlflow-bench-tracking-rest-'));
  try {
    const port = await freePort();
    log(`MLflow ${MLFLOW_VERSION}: mlflow server on SQLite, the same workload through MlflowClient over REST (smaller counts: it is slow per call)`);
    const server = await startServer(
      python,
      ['-m', 'mlflow', 'server', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
      `http://127.0.0.1:${port}/health`,
      // Its default artifact root (./mlartifacts) lands in the throw-away directory; its workers die with it (a process group).
      { env: mlflowEnv(python), cwd: dir, group: true },
    );
    try {
      loads.http_mlflow_start = load();
      httpTheirs = await mlflowTracking(python, ['--url', `http://127.0.0.1:${port}`, '--seed-db', join(dir, 'mlflow.db'), '--single', '100', '--batch', '5000', '--params', '100', '--warmup', HTTP_WARMUP]);
      loads.http_mlflow_end = load();
    } finally {
      await stopServer(server.child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} catch (e) {
  log(`MLflow's REST server not measured: ${(e as Error).message.split('\n')[0]}`);
}

const rows: Array<[string, string, 'higher' | 'lower']> = [
  ['single_points_per_s', 'points/s, one per call', 'higher'],
  ['batch_points_per_s', 'points/s, in batches', 'higher'],
  ['params_per_s', 'params/s, one per call', 'higher'],
  ['history_ms', 'read a 10,000-step history (ms)', 'lower'],
  ['search_ms', 'filtered, sorted search over 1,000 runs (ms)', 'lower'],
  ['compare_ms', 'compare 10 runs × 10,000 steps (ms)', 'lower'],
  ['chart_1m_ms', 'chart a 1,000,000-point metric, 80 cols (ms)', 'lower'],
  ['chart_query_ms', '  of which the statement: read + reduce (ms)', 'lower'],
  ['chart_draw_ms', '  of which drawing the reduced series (ms)', 'lower'],
  ['render_1m_ms', 'draw a 1,000,000-row table as a chart (ms)', 'lower'],
];
const f = (n: number | undefined) => (n === undefined ? '—' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
/** How many times better ours is on `key` (above 1: ours), or undefined when a side was not measured. */
function ratioOf(a: Record<string, number>, b: Record<string, number> | null, key: string): number | undefined {
  const better = rows.find((r) => r[0] === key)![2];
  const x = a[key];
  const y = b?.[key];
  return x === undefined || y === undefined ? undefined : better === 'higher' ? x / y : y / x;
}
function printSideBySide(title: string, a: Record<string, number>, b: Record<string, number> | null, keys: readonly string[]): void {
  console.log(`\n${title}\n`);
  console.log(`${'measure'.padEnd(46)} ${'mlmodel'.padStart(10)} ${'MLflow'.padStart(10)} ${'ratio'.padStart(8)}`);
  for (const [key, label] of rows.filter((r) => keys.includes(r[0]))) {
    const ratio = ratioOf(a, b, key);
    console.log(`${label.padEnd(46)} ${f(a[key]).padStart(10)} ${f(b?.[key]).padStart(10)} ${ratio === undefined ? '—'.padStart(8) : `${ratio.toFixed(1)}×`.padStart(8)}`);
  }
  console.log('\n(ratio: how many times better mlmodel is; above 1 is better)');
}
printSideBySide(
  `tracking: mlmodel (embedded SQLite, in-process, through the language) vs MLflow ${MLFLOW_VERSION} (MlflowClient, SQLite backend, in-process)`,
  ours,
  theirs,
  rows.map((r) => r[0]),
);
const theirsText = theirs as unknown as Record<string, unknown> | null;
console.log(
  `\ndurability: mlmodel journal_mode=wal synchronous=FULL (2), one transaction per call; MLflow journal_mode=${String(theirsText?.journal_mode ?? '?')} synchronous=${String(theirsText?.synchronous ?? '?')}, one committed session per call`,
);
const floorWal = ours.floor_wal_ms!;
const floorDelete = ours.floor_delete_ms!;
const perCall = (perS: number | undefined) => (perS === undefined ? undefined : 1000 / perS);
/** Milliseconds a call, to the hundredth: the per-call figures sit within tenths of each other. */
const ms = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(2));
const tenfold = (theirsPerS: number | undefined) => (theirsPerS === undefined ? '—' : ms(perCall(theirsPerS)! / 10));
console.log(
  `per-call floor, this run: a bare durable SQLite commit takes ${ms(floorWal)} ms in WAL (ours) and ${ms(floorDelete)} ms with a rollback journal (MLflow's). ` +
    `mlmodel takes ${ms(perCall(ours.single_points_per_s))} ms a point and ${ms(perCall(ours.params_per_s))} ms a param, MLflow ${ms(perCall(theirs?.single_points_per_s))} and ${ms(perCall(theirs?.params_per_s))}; ` +
    `10× MLflow would need ${tenfold(theirs?.single_points_per_s)} and ${tenfold(theirs?.params_per_s)} ms a call, against the floor of ${ms(floorWal)}`,
);
console.log(`load average (1, 5, 15 min): mlmodel ${loads.mlmodel_start} → ${loads.mlmodel_end}; MLflow ${loads.mlflow_start ?? '—'} → ${loads.mlflow_end ?? '—'}`);

printSideBySide(
  `over HTTP: mlmodel serve (embedded SQLite, the /runs endpoints and POST /query, through mlmodel's Python client on one kept-alive connection) vs MLflow ${MLFLOW_VERSION}'s REST server (mlflow server --workers 1, SQLite backend, MlflowClient over its URL)`,
  httpOurs,
  httpTheirs,
  MEASURED_BESIDE_MLFLOW,
);
console.log(
  `counts over HTTP: mlmodel ${HTTP_SINGLE} points one per request, ${HTTP_BATCH} in requests of ${HTTP_CHUNK}, ${HTTP_PARAMS} params; MLflow 100, 5000 in requests of 1000 (its most), 100; each server (and the floor) warmed first, untimed, with ${HTTP_WARMUP} points and params one per request and ${Math.floor(Number(HTTP_WARMUP) / 10) * 1000} points in batches`,
);
console.log(
  `per-request floor over HTTP, this run: ${ms(httpFloorMs)} ms — a bare node:http server doing one bare durable commit a request, driven by the same Python client (the round trip, and the commit with the gap between requests left before it). ` +
    `mlmodel serve takes ${ms(perCall(httpOurs.single_points_per_s))} ms a point and ${ms(perCall(httpOurs.params_per_s))} ms a param (${f(httpFloorMs === undefined ? undefined : perCall(httpOurs.single_points_per_s)! / httpFloorMs)}× and ${f(httpFloorMs === undefined ? undefined : perCall(httpOurs.params_per_s)! / httpFloorMs)}× the floor), ` +
    `MLflow's server ${ms(perCall(httpTheirs?.single_points_per_s))} and ${ms(perCall(httpTheirs?.params_per_s))}; 10× MLflow would need ${tenfold(httpTheirs?.single_points_per_s)} and ${tenfold(httpTheirs?.params_per_s)} ms a request`,
);
console.log(
  `load average (1, 5, 15 min) over HTTP: mlmodel serve ${loads.http_mlmodel_start ?? '—'} → ${loads.http_mlmodel_end ?? '—'}; MLflow's server ${loads.http_mlflow_start ?? '—'} → ${loads.http_mlflow_end ?? '—'}\n`,
);

// Issue 17 §6's goals, every one, for both tables.
for (const [where, a, b, floorMs] of [
  ['in-process', ours, theirs, floorWal],
  ['over HTTP', httpOurs, httpTheirs, httpFloorMs],
] as const) {
  for (const key of MEASURED_BESIDE_MLFLOW) {
    const label = rows.find((r) => r[0] === key)![1];
    const ratio = ratioOf(a, b, key);
    // A per-call measure that missed says what ten times MLflow's rate asks a call to take, beside the floor.
    const perCallKey = key === 'single_points_per_s' || key === 'params_per_s';
    const bound =
      perCallKey && ratio !== undefined && ratio < 10 && floorMs !== undefined
        ? `; 10× MLflow needs ${ms(perCall(b?.[key])! / 10)} ms a call, ours takes ${ms(perCall(a[key]))}, the floor of one durable commit${where === 'over HTTP' ? ' a request' : ''} ${ms(floorMs)}`
        : '';
    goal(
      `${where}: ${label} ≥ 10× MLflow`,
      ratio !== undefined && ratio >= 10,
      ratio === undefined ? 'MLflow not measured in this run' : `${fmt(ratio, 2)}× (mlmodel ${f(a[key])}, MLflow ${f(b?.[key])})${bound}`,
    );
  }
}
goal('compare 10 runs × 10,000 steps < 50 ms in-process', ours.compare_ms! < 50, `${fmt(ours.compare_ms!, 1)} ms`);
goal(
  '1,000,000 points charted < 200 ms',
  ours.chart_1m_ms! < 200,
  `${fmt(ours.chart_1m_ms!, 1)} ms (statement ${fmt(ours.chart_query_ms!, 1)}, drawing ${fmt(ours.chart_draw_ms!, 1)})`,
);
