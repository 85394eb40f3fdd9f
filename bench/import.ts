/**
 * bench:import — registration rate: many small model archives imported in one
 * batch (`mlmodel -f FILE`, embedded store, durable writes: SQLite
 * synchronous=FULL, every object fsynced and renamed into place before its
 * record commits) against MLflow's create_registered_model +
 * create_model_version through its API on its SQLite backend, in the same run.
 *
 *   npm run bench:import
 *   MLMODEL_BENCH_IMPORTS=5000         archives in our batch (default 5000)
 *   MLMODEL_BENCH_MLFLOW_IMPORTS=1000  MLflow registrations (default 1000)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry } from '../src/index.js';
import { importLine, smallArchives } from './lib/archives.js';
import { benchCache, log, repoRoot } from './lib/cache.js';
import { MLFLOW_VERSION, mlflow } from './lib/peers.js';
import { fmt, goal, printTable, saveResults } from './lib/report.js';

const N = Number(process.env.MLMODEL_BENCH_IMPORTS ?? 5000);
const M = Number(process.env.MLMODEL_BENCH_MLFLOW_IMPORTS ?? 1000);
const ONE_BY_ONE = Math.min(500, N);
const CLI = join(repoRoot, 'dist', 'console', 'cli.js');

mkdirSync(benchCache('tmp'), { recursive: true });
const work = mkdtempSync(join(benchCache('tmp'), 'import-'));
const archives = smallArchives(join(work, 'archives'));

// Ours: one `mlmodel -f` process over N import lines (a fresh registry), timed whole: start-up included.
const file = join(work, 'imports.mlq');
writeFileSync(file, Array.from({ length: N }, (_, i) => importLine(i, archives)).join('\n') + '\n');
const home = join(work, 'home');
log(`mlmodel -f: ${N} imports into a fresh embedded registry`);
const t = performance.now();
const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, '--home', home, '--user', 'bench', '--format', 'jsonl', '-f', file], {
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

// MLflow: create_registered_model + create_model_version, M times, timed inside its process (start-up excluded).
log(`MLflow ${MLFLOW_VERSION}: ${M} registrations through its API`);
const ml = mlflow<{ per_second: number; seconds: number }>(['register', '--db', join(work, 'mlflow.db'), '--count', String(M)]);

const rows = [
  { what: `mlmodel -f, ${N} imports in one process (start-up included)`, unit: 'models/s', ours: batchRate, peer: ml.per_second, higherIsBetter: true },
  { what: `in-process, one import at a time (${ONE_BY_ONE})`, unit: 'models/s', ours: oneRate, peer: ml.per_second, higherIsBetter: true },
  { what: 'peak RSS of the mlmodel -f process', unit: 'MiB', ours: batchRss, peer: null, higherIsBetter: false },
];
const table = printTable(
  `registration rate, durable writes (mlmodel: SQLite synchronous=FULL + fsynced objects; MLflow ${MLFLOW_VERSION}: SQLite backend, create_registered_model + create_model_version)`,
  `MLflow ${MLFLOW_VERSION}`,
  rows,
);
const goals = [
  goal('≥ 1,000 small models/s with durable writes', batchRate >= 1000, `${fmt(batchRate, 0)}/s`),
  goal('≥ 5× MLflow', batchRate / ml.per_second >= 5, `${fmt(batchRate / ml.per_second, 1)}× (MLflow ${fmt(ml.per_second, 0)}/s)`),
];
const saved = saveResults('import', { N, M, batchSeconds, batchRate, batchRss, oneRate, mlflow: ml, table, goals });
log(`figures saved to ${saved}`);
rmSync(work, { recursive: true, force: true });
