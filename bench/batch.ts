/**
 * bench:batch — 10,000 mixed queries piped into one `mlmodel` process on the
 * embedded store (the 100,000-model bench registry), queries per second,
 * next to the floor (the same lines through `mlmodel --parse`: reading,
 * parsing and printing, no store) and MLflow running the expressible
 * equivalents in one Python process over its 100,000-model registry
 * (a sample of 1,000: at its speed the whole batch would take many minutes).
 *
 *   npm run bench:batch
 *   MLMODEL_BENCH_BATCH=10000  MLMODEL_BENCH_BATCH_SIZE=100000  MLMODEL_BENCH_MLFLOW_BATCH=1000
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALGORITHMS, CATEGORIES, MODEL_TYPES } from './lib/archives.js';
import { benchCache, log, repoRoot } from './lib/cache.js';
import { MLFLOW_VERSION, mlflow, mlflowRegistry } from './lib/peers.js';
import { fmt, goal, printTable, saveResults, type Row } from './lib/report.js';
import { seededHome } from './lib/seed.js';

const N = Number(process.env.MLMODEL_BENCH_BATCH ?? 10_000);
const SIZE = Number(process.env.MLMODEL_BENCH_BATCH_SIZE ?? 100_000);
const ML = Number(process.env.MLMODEL_BENCH_MLFLOW_BATCH ?? 1000);
const CLI = join(repoRoot, 'dist', 'console', 'cli.js');

/** Query i of the mix, as mlmodel text and as an MLflow job (null: MLflow cannot express it). */
function mixed(i: number): { text: string; job: Record<string, string> | null } {
  const pick = <T>(xs: readonly T[], k: number) => xs[k % xs.length]!;
  const name = `bench-${(i * 7919) % SIZE}`;
  switch (i % 6) {
    case 0: {
      const [type, category] = [pick(MODEL_TYPES, i), pick(CATEGORIES, i >> 3)];
      return { text: `mlmodel list | where type = ${type} and category = ${category} | sort -modified | head 20`, job: { kind: 'filtered', type, category } };
    }
    case 1:
      return { text: `mlmodel list | where type in (${pick(MODEL_TYPES, i)}, ${pick(MODEL_TYPES, i + 2)}) or category = ${pick(CATEGORIES, i)} | sort -modified | head 20`, job: null };
    case 2:
      return { text: `mlmodel list | where name = ${name}`, job: { kind: 'lookup', name } };
    case 3:
      return { text: `mlmodel summary ${name}`, job: { kind: 'summary', name } };
    case 4: {
      const algorithm = pick(ALGORITHMS, i >> 2);
      return { text: `mlmodel list | where algorithm = ${algorithm} | sort -modified | head 10`, job: { kind: 'algorithm', algorithm } };
    }
    default:
      return { text: 'mlmodel list | sort -modified | head 5', job: { kind: 'newest' } };
  }
}

mkdirSync(benchCache('tmp'), { recursive: true });
const work = mkdtempSync(join(benchCache('tmp'), 'batch-'));
const home = await seededHome(SIZE);
const queries = Array.from({ length: N }, (_, i) => mixed(i));
const file = join(work, 'mixed.mlq');
writeFileSync(file, queries.map((q) => q.text).join('\n') + '\n');

function piped(args: string[]): { seconds: number; lines: number } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, '--home', home, '--user', 'bench', ...args], {
    input: readFileSync(file),
    maxBuffer: 1 << 30,
  });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`mlmodel ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().slice(-2000)}`);
  return { seconds, lines: r.stdout.toString().split('\n').length };
}

log(`${N} mixed queries piped into one process (registry of ${SIZE.toLocaleString('en-US')})`);
piped(['--format', 'jsonl']); // warms the file cache
const jsonl = piped(['--format', 'jsonl']);
const table = piped([]);
const parseOnly = piped(['--parse']);

log(`MLflow ${MLFLOW_VERSION}: ${ML} of the same mix in one process`);
const jobs = join(work, 'mlflow.jsonl');
const sample = queries.slice(0, ML);
writeFileSync(jobs, sample.map((q) => JSON.stringify(q.job ?? { kind: 'or_in' })).join('\n') + '\n');
const db = mlflowRegistry(SIZE);
const ml = mlflow<{ queries: number; skipped: number; per_second: number }>(['batch', '--db', db, '--file', jobs]);
rmSync(db, { force: true });

const rate = N / jsonl.seconds;
const rows: Row[] = [
  { what: `${N} mixed queries, --format jsonl (vs MLflow, same mix less OR/IN)`, unit: 'queries/s', ours: rate, peer: ml.per_second, higherIsBetter: true },
  { what: `${N} mixed queries, table format (vs MLflow)`, unit: 'queries/s', ours: N / table.seconds, peer: ml.per_second, higherIsBetter: true },
  { what: `${N} mixed queries vs floor: the same lines through --parse`, unit: 'queries/s', ours: rate, peer: N / parseOnly.seconds, higherIsBetter: true },
];
const text = printTable(`batch throughput: one process, stdin, embedded store, ${SIZE.toLocaleString('en-US')} models (MLflow: ${ml.queries} queries, ${ml.skipped} OR/IN skipped as inexpressible)`, `MLflow ${MLFLOW_VERSION} / floor`, rows);
const goals = [goal('batch ≥ 2,000 queries/s', rate >= 2000, `${fmt(rate, 0)} queries/s`)];
log(`figures saved to ${saveResults('batch', { N, SIZE, ML, jsonl, table, parseOnly, mlflow: ml, text, goals })}`);
rmSync(work, { recursive: true, force: true });
