/**
 * The peers a user would pick instead, installed by the benches themselves
 * into throw-away places under ~/.cache/mlmodel (never into the project):
 * MLflow with pip into a virtualenv, mongosh with npm into a prefix.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCache, cacheRoot, log, repoRoot } from './cache.js';

export const MLFLOW_VERSION = process.env.MLMODEL_BENCH_MLFLOW_VERSION ?? '3.17.2';
export const MONGOSH_VERSION = process.env.MLMODEL_BENCH_MONGOSH_VERSION ?? '2.12.0';

/** The Python of a virtualenv holding mlflow==MLFLOW_VERSION (made on first use, about 2 min). */
export function ensureMlflow(): string {
  const dir = join(cacheRoot(), `mlflow-${MLFLOW_VERSION}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.installed'))) return python;
  log(`installing mlflow==${MLFLOW_VERSION} into ${dir} (pip, about 2 min)`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'venv', dir], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `mlflow==${MLFLOW_VERSION}`], { stdio: 'inherit' });
  writeFileSync(join(dir, '.installed'), `mlflow==${MLFLOW_VERSION}\n`);
  return python;
}

const MLFLOW_SCRIPT = () => join(repoRoot, 'scripts', 'bench-mlflow.py');

/** Runs scripts/bench-mlflow.py with the venv's Python; returns the JSON of its last stdout line. */
export function mlflow<T = Record<string, unknown>>(args: string[], opts: { quiet?: boolean } = {}): T {
  const python = ensureMlflow();
  const r = spawnSync(python, [MLFLOW_SCRIPT(), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONWARNINGS: 'ignore', MLFLOW_TRACKING_URI: '', GIT_PYTHON_REFRESH: 'quiet' },
    stdio: ['ignore', 'pipe', opts.quiet ? 'pipe' : 'inherit'],
  });
  if (r.status !== 0) throw new Error(`bench-mlflow.py ${args.join(' ')} failed (${r.status}): ${r.stderr ?? ''}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/** The wall time of one whole `python bench-mlflow.py …` process (import mlflow included), in ms. */
export function mlflowWallMs(args: string[]): number {
  const python = ensureMlflow();
  const t = performance.now();
  const r = spawnSync(python, [MLFLOW_SCRIPT(), ...args], {
    stdio: 'ignore',
    env: { ...process.env, PYTHONWARNINGS: 'ignore', GIT_PYTHON_REFRESH: 'quiet' },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bench-mlflow.py ${args.join(' ')} failed (${r.status})`);
  return ms;
}

/**
 * An MLflow registry of `count` models seeded through MLflow's own API
 * (about 10 minutes for 100,000 on 2 cores), cached at each size, each grown
 * from the largest smaller one cached. Returns a fresh copy to query.
 */
export function mlflowRegistry(count: number): string {
  const dir = benchCache(`mlflow-${MLFLOW_VERSION}`);
  mkdirSync(dir, { recursive: true });
  const cached = join(dir, `models-${count}.db`);
  if (!existsSync(cached)) {
    // Grown from the largest smaller size cached, never from a larger one: a
    // registry asked for after a larger one was seeded must not hold more models.
    const smaller = readdirSync(dir)
      .map((f) => /^models-(\d+)\.db$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) < count)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a)[0];
    const seeding = join(dir, `seeding-${process.pid}.db`);
    rmSync(seeding, { force: true });
    if (smaller !== undefined) copyFileSync(join(dir, `models-${smaller}.db`), seeding);
    log(`seeding MLflow's registry to ${count} models through its API${smaller === undefined ? '' : `, from the cached ${smaller}`} (cached in ${dir})`);
    const res = mlflow<{ seeded: number; per_second: number | null }>(['seed', '--db', seeding, '--count', String(count)]);
    log(`MLflow seeded ${res.seeded} models (${res.per_second?.toFixed(0) ?? '—'}/s)`);
    renameSync(seeding, cached);
  }
  const copy = join(benchCache('tmp'), `mlflow-${count}-${process.pid}.db`);
  mkdirSync(benchCache('tmp'), { recursive: true });
  copyFileSync(cached, copy);
  return copy;
}

/** mongosh installed with npm into a throw-away prefix; returns the command to run it. */
export function ensureMongosh(): string {
  const dir = join(cacheRoot(), `mongosh-${MONGOSH_VERSION}`);
  const bin = join(dir, 'node_modules', '.bin', 'mongosh');
  if (existsSync(bin)) return bin;
  log(`installing mongosh@${MONGOSH_VERSION} into ${dir} (npm)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  execFileSync('npm', ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--loglevel=error', `mongosh@${MONGOSH_VERSION}`], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return bin;
}
