/**
 * bench:registry — registry queries at scale, side by side with MLflow's
 * model registry (SQLite backend, seeded through its own API) in the same run,
 * and on the MongoDB path the proof of push-down (one `find` per list query,
 * with filter, sort and limit) with FerretDB's figure only as a bound.
 *
 *   npm run bench:registry
 *   MLMODEL_BENCH_SIZES=10000,100000            our registry sizes (default 10000,100000,1000000)
 *   MLMODEL_BENCH_MLFLOW_SIZES=1000,10000,100000 MLflow's (default; seeding 100,000 takes ~10 min once)
 *   MLMODEL_BENCH_RUNS=200                      timed runs per query in-process (MLflow: a quarter)
 *   MLMODEL_BENCH_MONGO=0                       skip the MongoDB-path section
 *
 * Seeded registries are cached under ~/.cache/mlmodel/bench.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { openRegistry } from '../src/index.js';
import { writeRegistryChart } from './lib/registry-chart.js';
import { benchCache, BIN, log } from './lib/cache.js';
import { MLFLOW_VERSION, mlflow, mlflowRegistry, mlflowWallMs } from './lib/peers.js';
import { fmt, goal, percentile, printTable, saveResults, type Row } from './lib/report.js';
import { seededHome } from './lib/seed.js';
import { mongoPushdown, printPushdown } from './lib/mongo-pushdown.js';

const sizes = (process.env.MLMODEL_BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const mlflowSizes = (process.env.MLMODEL_BENCH_MLFLOW_SIZES ?? '1000,10000,100000').split(',').map(Number);
const runs = Number(process.env.MLMODEL_BENCH_RUNS ?? 200);

type Key = 'filtered' | 'or_in' | 'lookup' | 'summary';
const QUERIES: Record<Key, (n: number) => string> = {
  filtered: () => 'mlmodel list | where type = tf and category = classification | sort -modified | head 20',
  or_in: () => 'mlmodel list | where type in (tf, onnx) or category = clustering | sort -modified | head 20',
  lookup: (n) => `mlmodel list | where name = bench-${Math.floor(n / 2)}`,
  summary: (n) => `mlmodel summary bench-${Math.floor(n / 2)}`,
};
const LABEL: Record<Key, string> = {
  filtered: 'type=tf and category=classification, sort -modified, head 20',
  or_in: 'type in (tf, onnx) or category=clustering, sort -modified, head 20',
  lookup: 'lookup by name',
  summary: 'summary NAME',
};
const KEYS = Object.keys(QUERIES) as Key[];

interface Timing {
  p50: number;
  p95: number;
  rows?: number;
}

async function ours(n: number): Promise<{ inProcess: Record<Key, Timing>; endToEnd: Record<Key, number> }> {
  const home = await seededHome(n);
  const reg = await openRegistry({ env: { MLMODEL_HOME: home, MLMODEL_USER: 'bench', HOME: process.env.HOME } });
  const inProcess = {} as Record<Key, Timing>;
  try {
    for (const k of KEYS) {
      const q = QUERIES[k](n);
      let rows = 0;
      for (let i = 0; i < 20; i++) rows = (await reg.run(q)).rows.length;
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await reg.run(q);
        ms.push(performance.now() - t);
      }
      inProcess[k] = { p50: percentile(ms, 50), p95: percentile(ms, 95), rows };
    }
  } finally {
    await reg.close();
  }
  // End to end: a whole `mlmodel -c` process (start, open, query, print), median of 3.
  const endToEnd = {} as Record<Key, number>;
  for (const k of KEYS) {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = spawnSync(BIN, ['--home', home, '--user', 'bench', '-c', QUERIES[k](n)], { stdio: ['ignore', 'ignore', 'pipe'] });
      ms.push(performance.now() - t);
      if (r.status !== 0) throw new Error(`mlmodel -c failed: ${r.stderr}`);
    }
    endToEnd[k] = percentile(ms, 50);
  }
  return { inProcess, endToEnd };
}

interface MlflowQuery {
  results: Record<string, { p50?: number; p95?: number; rows?: number; unsupported?: string }>;
}

function theirs(n: number): { inProcess: MlflowQuery['results']; endToEnd: Partial<Record<Key, number>> } {
  const db = mlflowRegistry(n);
  try {
    const r = mlflow<MlflowQuery>(['query', '--db', db, '--count', String(n), '--runs', String(Math.max(10, Math.round(runs / 4)))]);
    const endToEnd: Partial<Record<Key, number>> = {};
    for (const k of ['filtered', 'lookup', 'summary'] as const) {
      const ms = [0, 1, 2].map(() => mlflowWallMs(['once', '--db', db, '--count', String(n), '--query', k]));
      endToEnd[k] = percentile(ms, 50);
    }
    return { inProcess: r.results, endToEnd };
  } finally {
    rmSync(db, { force: true });
  }
}

const oursBySize = new Map<number, Awaited<ReturnType<typeof ours>>>();
const theirsBySize = new Map<number, ReturnType<typeof theirs>>();
for (const n of sizes) {
  log(`mlmodel at ${n.toLocaleString('en-US')} models`);
  oursBySize.set(n, await ours(n));
}
for (const n of mlflowSizes) {
  log(`MLflow ${MLFLOW_VERSION} at ${n.toLocaleString('en-US')} models`);
  theirsBySize.set(n, theirs(n));
}

console.log(`registry queries: mlmodel (embedded SQLite store, in-process p50/p95 over ${runs} runs) vs MLflow ${MLFLOW_VERSION} (SQLite backend, MlflowClient in-process, ${Math.max(10, Math.round(runs / 4))} runs); end to end = one whole process (median of 3): \`mlmodel -c\` vs a Python script importing mlflow\n`);
const tables: string[] = [];
for (const n of [...new Set([...sizes, ...mlflowSizes])].sort((a, b) => a - b)) {
  const o = oursBySize.get(n);
  const t = theirsBySize.get(n);
  const rows: Row[] = [];
  for (const k of KEYS) {
    const peer = t?.inProcess[k];
    const peerValue = (f: 'p50' | 'p95') => (peer === undefined ? null : peer.unsupported ? 'cannot express' : (peer[f] ?? null));
    rows.push({ what: `${LABEL[k]} p50`, unit: 'ms', ours: o?.inProcess[k].p50 ?? null, peer: peerValue('p50'), higherIsBetter: false });
    rows.push({ what: `${LABEL[k]} p95`, unit: 'ms', ours: o?.inProcess[k].p95 ?? null, peer: peerValue('p95'), higherIsBetter: false });
  }
  for (const k of KEYS) {
    rows.push({
      what: `end to end: ${LABEL[k]}`,
      unit: 'ms',
      ours: o?.endToEnd[k] ?? null,
      peer: t ? (k === 'or_in' ? 'cannot express' : (t.endToEnd[k] ?? null)) : null,
      higherIsBetter: false,
    });
  }
  tables.push(printTable(`registry of ${n.toLocaleString('en-US')} models${!o ? ' (mlmodel not run at this size)' : ''}${!t ? ' (MLflow not seeded at this size)' : ''}`, `MLflow ${MLFLOW_VERSION}`, rows));
}
const refusal = [...theirsBySize.values()][0]?.inProcess.or_in?.unsupported;
if (refusal) console.log(`MLflow on the OR/IN query: ${refusal}\n`);

// The chart: filtered-query and lookup latency against registry size.
const chartFile = writeRegistryChart(
  Object.fromEntries([...oursBySize].map(([n, o]) => [n, o.inProcess])),
  Object.fromEntries([...theirsBySize].map(([n, t]) => [n, t.inProcess])),
);
log(`chart written to ${chartFile}`);

// Goals.
const goals: string[] = [];
const at = (n: number) => oursBySize.get(n)?.inProcess.filtered.p50;
const mlAt = (n: number) => theirsBySize.get(n)?.inProcess.filtered?.p50;
if (at(100_000) !== undefined) {
  goals.push(goal('filtered query at 100k ≤ 5 ms p50 in-process', at(100_000)! <= 5, `${fmt(at(100_000)!, 3)} ms`));
  const ml = mlAt(100_000);
  if (ml) goals.push(goal('≥ 30× faster than MLflow at 100k', ml / at(100_000)! >= 30, `${fmt(ml / at(100_000)!, 0)}× (MLflow ${fmt(ml)} ms)`));
}
if (at(1_000_000) !== undefined && at(10_000) !== undefined) {
  const r = at(1_000_000)! / at(10_000)!;
  goals.push(goal('1,000,000 no more than 2× slower than 10,000', r <= 2, `${fmt(r, 2)}× (${fmt(at(10_000)!, 3)} → ${fmt(at(1_000_000)!, 3)} ms)`));
}

// The MongoDB path: push-down proved from the driver's command monitoring.
let mongo: Awaited<ReturnType<typeof mongoPushdown>> | null = null;
if (process.env.MLMODEL_BENCH_MONGO !== '0') {
  mongo = await mongoPushdown(Object.fromEntries(KEYS.map((k) => [k, QUERIES[k](400)])) as Record<Key, string>, 400);
  if (mongo) {
    printPushdown(mongo);
    const lists = mongo.queries.filter((q) => q.key !== 'summary');
    goals.push(goal('MongoDB path: each list query is one find with filter, sort and limit, on an index the registry creates', lists.every((q) => q.oneFind && q.index !== null), lists.map((q) => `${q.key}: ${q.oneFind ? 'one find' : 'NOT one find'} → ${q.index ?? 'no index'}`).join('; ')));
  }
}

const file = saveResults('registry', {
  runs,
  sizes,
  mlflowSizes,
  mlflowVersion: MLFLOW_VERSION,
  queries: Object.fromEntries(KEYS.map((k) => [k, QUERIES[k](100_000)])),
  ours: Object.fromEntries(oursBySize),
  mlflow: Object.fromEntries(theirsBySize),
  tables,
  goals,
  mongo,
});
log(`figures saved to ${file}`);
rmSync(benchCache('tmp'), { recursive: true, force: true });
