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
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderChart } from '../console/render/chart.js';
import { loadConfig } from '../src/config/index.js';
import { openRegistry } from '../src/engine/registry.js';
import { startRun } from '../src/tracking/client.js';
import type { ResultTable } from '../src/result/table.js';
import { ensureMlflow, MLFLOW_VERSION } from './lib/peers.js';
import { log, repoRoot } from './lib/cache.js';

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
  const db = new Database(join(dir, `floor-${mode}.db`));
  try {
    db.pragma(`journal_mode = ${mode}`);
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO u VALUES (1, NULL)');
    const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
    const up = db.prepare('UPDATE u SET v = ? WHERE k = 1');
    const tx = db.transaction((i: number) => {
      ins.run(`v${i}`);
      up.run(`w${i}`);
    });
    const t = performance.now();
    for (let i = 0; i < n; i++) tx.immediate(i);
    return (performance.now() - t) / n;
  } finally {
    db.close();
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

let theirs: Record<string, number> | null = null;
try {
  const python = ensureMlflow();
  const dir = mkdtempSync(join(tmpdir(), 'mlflow-bench-tracking-'));
  log(`MLflow ${MLFLOW_VERSION}: the same workload (smaller counts where it is slow)`);
  loads.mlflow_start = load();
  const r = spawnSync(python, [join(repoRoot, 'scripts', 'bench-mlflow-tracking.py'), '--db', join(dir, 'mlflow.db'), '--single', '500', '--batch', '20000', '--params', '300'], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env: { ...process.env, PYTHONWARNINGS: 'ignore', MLFLOW_TRACKING_URI: '', GIT_PYTHON_REFRESH: 'quiet' },
  });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(r.stderr);
  theirs = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  loads.mlflow_end = load();
} catch (e) {
  log(`MLflow not measured: ${(e as Error).message.split('\n')[0]}`);
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
console.log(`\ntracking: mlmodel (embedded SQLite, in-process, through the language) vs MLflow ${MLFLOW_VERSION} (MlflowClient, SQLite backend, in-process)\n`);
console.log(`${'measure'.padEnd(46)} ${'mlmodel'.padStart(10)} ${'MLflow'.padStart(10)} ${'ratio'.padStart(8)}`);
for (const [key, label, better] of rows) {
  const a = ours[key];
  const b = theirs?.[key];
  const ratio = a !== undefined && b !== undefined ? (better === 'higher' ? a / b : b / a) : undefined;
  console.log(`${label.padEnd(46)} ${f(a).padStart(10)} ${f(b).padStart(10)} ${ratio === undefined ? '—'.padStart(8) : `${ratio.toFixed(1)}×`.padStart(8)}`);
}
console.log('\n(ratio: how many times better mlmodel is; above 1 is better)');
const theirsText = theirs as unknown as Record<string, unknown> | null;
console.log(
  `\ndurability: mlmodel journal_mode=wal synchronous=FULL (2), one transaction per call; MLflow journal_mode=${String(theirsText?.journal_mode ?? '?')} synchronous=${String(theirsText?.synchronous ?? '?')}, one committed session per call`,
);
const floorWal = ours.floor_wal_ms!;
const floorDelete = ours.floor_delete_ms!;
const perCall = (perS: number | undefined) => (perS === undefined ? undefined : 1000 / perS);
const goal = (theirsPerS: number | undefined) => (theirsPerS === undefined ? '—' : f(perCall(theirsPerS)! / 10));
console.log(
  `per-call floor, this run: a bare durable SQLite commit takes ${f(floorWal)} ms in WAL (ours) and ${f(floorDelete)} ms with a rollback journal (MLflow's). ` +
    `mlmodel takes ${f(perCall(ours.single_points_per_s))} ms a point and ${f(perCall(ours.params_per_s))} ms a param, MLflow ${f(perCall(theirs?.single_points_per_s))} and ${f(perCall(theirs?.params_per_s))}; ` +
    `10× MLflow would need ${goal(theirs?.single_points_per_s)} and ${goal(theirs?.params_per_s)} ms a call, against the floor of ${f(floorWal)}`,
);
console.log(`load average (1, 5, 15 min): mlmodel ${loads.mlmodel_start} → ${loads.mlmodel_end}; MLflow ${loads.mlflow_start ?? '—'} → ${loads.mlflow_end ?? '—'}`);
