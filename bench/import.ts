/**
 * bench:import — registration rate: many small model archives imported in one
 * batch (`mlmodel -f FILE`, embedded store, durable writes: SQLite
 * synchronous=FULL, every object fsynced and renamed into place before its
 * record commits) against MLflow's create_registered_model +
 * create_model_version through its API on its SQLite backend, in the same run.
 *
 * Beside them, this machine's own floor for durable writes, measured in the
 * same run: N small files (the archives' size) each written and fsynced into
 * a directory, plus one SQLite commit (WAL, synchronous=FULL) of N rows — the
 * least the import path must do to keep every object and record. fsync
 * rates differ widely between machines, so the goal is a ratio to it.
 * The import path stores 16 archives at a time, and concurrent fsyncs share
 * the file system's journal commits, so a floor of one fsync after another
 * is not the least such a path must pay: the floor is measured both ways —
 * sequential, and the same files fsynced 16 at a time through the thread
 * pool — and the goal is stated against the stricter (the faster) of them.
 *
 *   npm run bench:import
 *   MLMODEL_BENCH_IMPORTS=5000         archives in our batch (default 5000)
 *   MLMODEL_BENCH_MLFLOW_IMPORTS=1000  MLflow registrations (default 1000)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fsync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openRegistry } from '../src/index.js';
import { importLine, smallArchives } from './lib/archives.js';
import { benchCache, BIN, log } from './lib/cache.js';
import { MLFLOW_VERSION, mlflow } from './lib/peers.js';
import { fmt, goal, printTable, saveResults } from './lib/report.js';
import { CONSOLE_THREAD_POOL, widenThreadPool } from '../console/thread-pool.js';
import { loadavg } from 'node:os';

// The parallel floor's flushes get the thread pool the console gives its imports (set before the pool first starts).
widenThreadPool(process.env);
/** Files fsynced at a time in the parallel floor: the import batch's concurrency. */
const FLOOR_PARALLEL = 16;

const N = Number(process.env.MLMODEL_BENCH_IMPORTS ?? 5000);
const M = Number(process.env.MLMODEL_BENCH_MLFLOW_IMPORTS ?? 1000);
const ONE_BY_ONE = Math.min(500, N);
// The package's bin (the launcher restoring the start-up snapshot), as a person or a script runs it.
const CLI = BIN;

log(`load average before the run: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
mkdirSync(benchCache('tmp'), { recursive: true });
const work = mkdtempSync(join(benchCache('tmp'), 'import-'));
const archives = smallArchives(join(work, 'archives'));

// Ours: one `mlmodel -f` process over N import lines (a fresh registry), timed whole: start-up included.
const file = join(work, 'imports.mlq');
writeFileSync(file, Array.from({ length: N }, (_, i) => importLine(i, archives)).join('\n') + '\n');
const home = join(work, 'home');
log(`mlmodel -f: ${N} imports into a fresh embedded registry`);
const t = performance.now();
const r = spawnSync('/usr/bin/time', ['-f', '%M', CLI, '--home', home, '--user', 'bench', '--format', 'jsonl', '-f', file], {
  encoding: 'utf8',
  maxBuffer: 256 << 20,
});
const batchSeconds = (performance.now() - t) / 1000;
if (r.status !== 0) throw new Error(`mlmodel -f failed (${r.status}): ${r.stderr.slice(-2000)}`);
const oks = r.stdout.split('\n').filter((l) => l.includes('"result":"ok"')).length;
if (oks !== N) throw new Error(`mlmodel -f registered ${oks} of ${N}`);
const batchRss = Number(r.stderr.trim().split('\n').pop()) / 1024;
const batchRate = N / batchSeconds;

// For scale: the same imports one at a time in-process (each its own durable commits), a fresh registry.
log(`in-process: ${ONE_BY_ONE} imports one at a time`);
const reg = await openRegistry({ env: { MLMODEL_HOME: join(work, 'home-one'), MLMODEL_USER: 'bench', HOME: process.env.HOME } });
const t1 = performance.now();
for (let i = 0; i < ONE_BY_ONE; i++) await reg.run(importLine(i, archives));
const oneRate = ONE_BY_ONE / ((performance.now() - t1) / 1000);
await reg.close();

// The floor: N small files written and fsynced (and the directory fsynced once), plus one SQLite commit of N rows;
// once one file after another, once FLOOR_PARALLEL at a time (each in its own fresh directory and database).
const payload = readFileSync(Object.values(archives)[0]!);
const commitRows = (path: string) => {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE r (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO r (doc) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < N; i++) insert.run(JSON.stringify({ name: `bench-${i}`, type: 'onnx', size: payload.length }));
  })();
  db.close();
};
const syncDirOf = (dir: string) => {
  const dirFd = openSync(dir, 'r');
  fsyncSync(dirFd);
  closeSync(dirFd);
};

log(`durable-write floor, sequential: ${N} small files fsynced one after another + one SQLite commit`);
const floorDir = join(work, 'floor');
mkdirSync(floorDir);
const t2 = performance.now();
for (let i = 0; i < N; i++) {
  const fd = openSync(join(floorDir, `o${i}`), 'w');
  writeSync(fd, payload);
  fsyncSync(fd);
  closeSync(fd);
}
syncDirOf(floorDir);
commitRows(join(work, 'floor.db'));
const floorRate = N / ((performance.now() - t2) / 1000);

log(`durable-write floor, parallel: the same, ${FLOOR_PARALLEL} files fsynced at a time (thread pool of ${process.env.UV_THREADPOOL_SIZE})`);
const parallelDir = join(work, 'floor-parallel');
mkdirSync(parallelDir);
const t3 = performance.now();
let nextFile = 0;
const flusher = async () => {
  for (let i = nextFile++; i < N; i = nextFile++) {
    const fd = openSync(join(parallelDir, `o${i}`), 'w');
    writeSync(fd, payload);
    await new Promise<void>((res, rej) => fsync(fd, (e) => (e ? rej(e) : res())));
    closeSync(fd);
  }
};
await Promise.all(Array.from({ length: FLOOR_PARALLEL }, flusher));
syncDirOf(parallelDir);
commitRows(join(work, 'floor-parallel.db'));
const parallelFloorRate = N / ((performance.now() - t3) / 1000);
const strictFloor = Math.max(floorRate, parallelFloorRate);
const strictName = parallelFloorRate >= floorRate ? 'parallel' : 'sequential';

// MLflow: create_registered_model + create_model_version, M times, timed inside its process (start-up excluded).
log(`MLflow ${MLFLOW_VERSION}: ${M} registrations through its API`);
const ml = mlflow<{ per_second: number; seconds: number }>(['register', '--db', join(work, 'mlflow.db'), '--count', String(M)]);

const rows = [
  { what: `mlmodel -f, ${N} imports in one process (start-up included)`, unit: 'models/s', ours: batchRate, peer: ml.per_second, higherIsBetter: true },
  { what: `in-process, one import at a time (${ONE_BY_ONE})`, unit: 'models/s', ours: oneRate, peer: ml.per_second, higherIsBetter: true },
  { what: `against the floor: ${N} small files fsynced one by one + one SQLite commit`, unit: 'models/s', ours: batchRate, peer: floorRate, higherIsBetter: true, note: 'floor' },
  {
    what: `against the parallel floor: the same, ${FLOOR_PARALLEL} fsyncs at a time`,
    unit: 'models/s',
    ours: batchRate,
    peer: parallelFloorRate,
    higherIsBetter: true,
    note: 'floor',
  },
  { what: 'peak RSS of the mlmodel -f process', unit: 'MiB', ours: batchRss, peer: null, higherIsBetter: false },
];
const table = printTable(
  `registration rate, durable writes (mlmodel: SQLite synchronous=FULL + fsynced objects; MLflow ${MLFLOW_VERSION}: SQLite backend, create_registered_model + create_model_version)`,
  `MLflow ${MLFLOW_VERSION}`,
  rows,
);
const goals = [
  goal('≥ 10× MLflow', batchRate / ml.per_second >= 10, `${fmt(batchRate / ml.per_second, 1)}× (MLflow ${fmt(ml.per_second, 0)}/s)`),
  goal(
    `within 2× of the durable-write floor (the stricter: ${strictName})`,
    batchRate * 2 >= strictFloor,
    `${fmt(strictFloor / batchRate, 2)}× below it (floor ${fmt(strictFloor, 0)}/s, ours ${fmt(batchRate, 0)}/s; sequential floor ${fmt(floorRate, 0)}/s, ${fmt(floorRate / batchRate, 2)}×; parallel ${fmt(parallelFloorRate, 0)}/s, ${fmt(parallelFloorRate / batchRate, 2)}×)`,
  ),
];
const load = loadavg().map((x) => x.toFixed(2)).join(' ');
log(`load average after the run: ${load} (thread pool ${process.env.UV_THREADPOOL_SIZE}, console default ${CONSOLE_THREAD_POOL})`);
const saved = saveResults('import', { N, M, batchSeconds, batchRate, batchRss, oneRate, floorRate, parallelFloorRate, load, mlflow: ml, table, goals });
log(`figures saved to ${saved}`);
rmSync(work, { recursive: true, force: true });
