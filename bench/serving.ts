/**
 * bench:serving — one scikit-learn model (iris LogisticRegression) served
 * two ways in the same run, and the floor under both:
 *
 * - mlmodel: the model converted with skl2onnx, imported, served alone by
 *   `mlmodel serve --model iris` (onnxruntime-node), MLflow's /invocations;
 * - MLflow: the same fitted model saved with mlflow.sklearn, served by
 *   `mlflow models serve -m … --env-manager local` (its pyfunc);
 * - the floor: onnxruntime-node called in this process, no HTTP.
 *
 * Figures: time from start to ready (/ping answers 200), p50/p95 of one-row
 * requests one at a time, and throughput with 8 concurrent clients (one
 * keep-alive connection each). The load generator runs on the same cores as
 * the servers, as does the rest of the machine: the load average is printed.
 *
 *   npm run bench:serving
 *   MLMODEL_BENCH_SERVING_REQUESTS=500     timed one-at-a-time requests per server
 *   MLMODEL_BENCH_SERVING_SECONDS=5        seconds of the 8-client load
 *
 * MLflow is installed with pip into a virtualenv under ~/.cache/mlmodel
 * (bench/serving-requirements.txt; a few minutes, once).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadOnnxModel } from '../src/serving/onnx-runtime.js';
import { cacheRoot, log, repoRoot } from './lib/cache.js';
import { fmt, goal, percentile, printTable, saveResults, type Row } from './lib/report.js';

const REQUESTS = Number(process.env.MLMODEL_BENCH_SERVING_REQUESTS ?? 500);
const SECONDS = Number(process.env.MLMODEL_BENCH_SERVING_SECONDS ?? 5);
const CLIENTS = 8;
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

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Spawns a server and waits for `GET ready` to answer 200; returns it and the ms from spawn to ready. */
async function startServer(cmd: string, args: string[], ready: string, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; ms: number }> {
  const t = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`${cmd} not ready after 180 s: ${err}`);
    const ok = await fetch(ready).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, ms: performance.now() - t };
    await new Promise((r) => setTimeout(r, 10));
  }
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

interface Load {
  p50: number;
  p95: number;
  perSecond: number;
}

/** One-row requests one at a time (p50/p95), then CLIENTS concurrent loops for SECONDS (throughput). */
async function load(call: () => Promise<void>): Promise<Load> {
  for (let i = 0; i < 50; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        await call();
        done++;
      }
    }),
  );
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), perSecond: done / ((performance.now() - t0) / 1000) };
}

/** A keep-alive client for CLIENTS sockets: node:http, lighter than fetch, so the load generator takes less of the CPU the servers need. */
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

function poster(url: string, body: unknown): () => Promise<void> {
  const text = JSON.stringify(body);
  const u = new URL(url);
  return () =>
    new Promise((res, rej) => {
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            const answer = Buffer.concat(chunks).toString('utf8');
            // Every answer is checked: a server that answered errors fast would not count.
            if (r.statusCode !== 200 || !Array.isArray((JSON.parse(answer) as { predictions?: unknown }).predictions)) rej(new Error(`${url}: ${r.statusCode} ${answer.slice(0, 300)}`));
            else res();
          });
        },
      );
      req.on('error', rej);
      req.end(text);
    });
}

const python = servingPython();
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

  // The floor: ONNX Runtime in this process, the same model, the same one row.
  const tarBytes = readFileSync(made.onnx_tar);
  const size = parseInt(tarBytes.subarray(124, 136).toString().replace(/\0/g, '').trim(), 8);
  const model = await loadOnnxModel(tarBytes.subarray(512, 512 + size));
  const input = [{ name: 'X', type: 'float' as const, shape: [1, 4], data: made.row }];
  log('in-process floor');
  const floor = await load(async () => {
    await model.run(input);
  });
  await model.release();

  log('mlmodel serve --model iris');
  const ourPort = await freePort();
  const ours = await startServer(process.execPath, [CLI, 'serve', '--model', 'iris', '--port', String(ourPort)], `http://127.0.0.1:${ourPort}/ping`, env);
  let oursLoad: Load;
  try {
    oursLoad = await load(poster(`http://127.0.0.1:${ourPort}/invocations`, body));
  } finally {
    await stopServer(ours.child);
  }

  log('mlflow models serve --env-manager local');
  const theirPort = await freePort();
  const theirs = await startServer(
    python,
    ['-m', 'mlflow', 'models', 'serve', '-m', made.mlflow_model, '--env-manager', 'local', '--host', '127.0.0.1', '-p', String(theirPort)],
    `http://127.0.0.1:${theirPort}/ping`,
    // MLflow starts its server as `uvicorn …` through bash: the venv's bin must come first on PATH.
    { ...process.env, PATH: `${dirname(python)}:${process.env.PATH ?? ''}`, PYTHONWARNINGS: 'ignore', MLFLOW_TRACKING_URI: '', GIT_PYTHON_REFRESH: 'quiet' },
  );
  let theirsLoad: Load;
  try {
    theirsLoad = await load(poster(`http://127.0.0.1:${theirPort}/invocations`, body));
  } finally {
    await stopServer(theirs.child);
  }

  const mlflowVersion = execFileSync(python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).trim();
  console.log(
    `serving one iris LogisticRegression: mlmodel serve --model (onnxruntime-node ${JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version as string}) vs mlflow models serve --env-manager local (MLflow ${mlflowVersion}, sklearn pyfunc); ${REQUESTS} one-row POST /invocations one at a time, then ${CLIENTS} clients for ${SECONDS} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores\n`,
  );
  const rows: Row[] = [
    { what: 'start to ready (/ping 200)', unit: 'ms', ours: ours.ms, peer: theirs.ms, higherIsBetter: false },
    { what: 'one-row request p50', unit: 'ms', ours: oursLoad.p50, peer: theirsLoad.p50, higherIsBetter: false },
    { what: 'one-row request p95', unit: 'ms', ours: oursLoad.p95, peer: theirsLoad.p95, higherIsBetter: false },
    { what: `throughput, ${CLIENTS} clients`, unit: 'req/s', ours: oursLoad.perSecond, peer: theirsLoad.perSecond, higherIsBetter: true },
  ];
  const table = printTable('HTTP: mlmodel vs MLflow', `MLflow ${mlflowVersion}`, rows);
  const floorRows: Row[] = [
    { what: 'one-row p50', unit: 'ms', ours: oursLoad.p50, peer: floor.p50, higherIsBetter: false },
    { what: `throughput, ${CLIENTS} concurrent`, unit: 'req/s', ours: oursLoad.perSecond, peer: floor.perSecond, higherIsBetter: true },
  ];
  const floorTable = printTable('mlmodel over HTTP vs onnxruntime-node in-process (the floor)', 'in-process floor', floorRows);
  const goals = [
    goal('≥ 10× MLflow throughput', oursLoad.perSecond >= 10 * theirsLoad.perSecond, `${fmt(oursLoad.perSecond / theirsLoad.perSecond, 1)}×`),
    goal('p50 ≤ a tenth of MLflow', oursLoad.p50 * 10 <= theirsLoad.p50, `${fmt(theirsLoad.p50 / oursLoad.p50, 1)}× lower`),
    goal('HTTP ≥ 0.7× the in-process floor throughput', oursLoad.perSecond >= 0.7 * floor.perSecond, `${fmt(oursLoad.perSecond / floor.perSecond, 2)}×`),
    goal('start to ready ≤ a tenth of MLflow', ours.ms * 10 <= theirs.ms, `${fmt(theirs.ms / ours.ms, 1)}× faster`),
  ];
  const file = saveResults('serving', { loadavg: loadavg(), ours: { ready: ours.ms, ...oursLoad }, mlflow: { version: mlflowVersion, ready: theirs.ms, ...theirsLoad }, floor, tables: [table, floorTable], goals });
  log(`results in ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
