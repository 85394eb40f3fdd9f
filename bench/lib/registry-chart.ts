/**
 * docs/registry-latency.svg from bench:registry's figures: p50 in-process
 * latency against registry size, ours and MLflow's, from one run.
 * `node dist/bench/lib/registry-chart.js` redraws it from the last run's
 * saved figures (~/.cache/mlmodel/bench/results/registry.json).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchCache, repoRoot } from './cache.js';
import { logLogChart } from './chart.js';
import { MLFLOW_VERSION } from './peers.js';

type Timings = Record<string, { p50?: number } | undefined>;

export function writeRegistryChart(ours: Record<string, Timings>, mlflow: Record<string, Timings>): string {
  const series = (data: Record<string, Timings>, key: string) =>
    Object.entries(data)
      .map(([n, t]) => [Number(n), t[key]?.p50 ?? 0] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => a[0] - b[0]);
  const svg = logLogChart({
    title: 'Registry query latency (p50, in-process) against registry size',
    xLabel: 'models in the registry',
    yLabel: 'milliseconds (log scale)',
    series: [
      { label: `MLflow ${MLFLOW_VERSION}: filtered`, color: '#d62728', points: series(mlflow, 'filtered') },
      { label: `MLflow ${MLFLOW_VERSION}: lookup`, color: '#d62728', dashed: true, points: series(mlflow, 'lookup') },
      { label: 'mlmodel: filtered', color: '#1f77b4', points: series(ours, 'filtered') },
      { label: 'mlmodel: lookup', color: '#1f77b4', dashed: true, points: series(ours, 'lookup') },
      { label: 'mlmodel: OR/IN', color: '#2ca02c', points: series(ours, 'or_in') },
    ],
    note: 'filtered: type=tf and category=classification, newest 20. MLflow cannot express OR/IN. One run, 2 cores.',
  });
  const file = join(repoRoot, 'docs', 'registry-latency.svg');
  writeFileSync(file, svg);
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const saved = JSON.parse(readFileSync(benchCache('results', 'registry.json'), 'utf8')) as {
    ours: Record<string, { inProcess: Timings }>;
    mlflow: Record<string, { inProcess: Timings }>;
  };
  const pick = (d: Record<string, { inProcess: Timings }>) => Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.inProcess]));
  console.log(writeRegistryChart(pick(saved.ours), pick(saved.mlflow)));
}
