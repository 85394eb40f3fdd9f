/**
 * `npm run bench:stream`: `mlmodel list` of 1,000,000 models streamed
 * (issue 22 §2), through the CLI's bin, in jsonl and csv: time to the first
 * row, total time and peak RSS of the process, beside a floor from the same
 * run — better-sqlite3 in a bare node process iterating the same rows'
 * records (their JSON as stored) in the same order and writing them to the
 * same pipe, which is what any streaming list must at least do. The
 * start-up is measured apart (`mlmodel list | head 0`: the process with its
 * registry opened, no row read), so the first row's time after start-up is
 * given too. Goals: peak RSS < 150 MB, first row < 100 ms after start-up.
 * One more jsonl run goes through the ESM bin with node's own flags (no
 * snapshot, the default young generation), to show in the same run what the
 * bin's V8 flags (scripts/node-flags.ts) take off the peak.
 *
 * The registry is bench:web's million (bench/lib/big-home.ts), cached.
 *
 *   MLMODEL_BENCH_STREAM_MODELS=1000000   registry size
 *   MLMODEL_BENCH_RUNS=7                  start-up and first-row samples (median)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bigHome } from './lib/big-home.js';
import { log, repoRoot } from './lib/cache.js';
import { fmt, goal, percentile, saveResults } from './lib/report.js';

const MODELS = Number(process.env.MLMODEL_BENCH_STREAM_MODELS ?? 1_000_000);
const RUNS = Number(process.env.MLMODEL_BENCH_RUNS ?? 7);
// package.json's bin, as a person runs it: the launcher, which restores the
// start-up snapshot and passes the bin's V8 flags (scripts/node-flags.ts).
const BIN = join(repoRoot, 'dist', 'bin', 'mlmodel');

interface Figures {
  /** From spawn to the end of the first row (the first line after `header` lines), ms. */
  readonly firstMs: number;
  readonly totalMs: number;
  readonly rssMb: number;
  readonly lines: number;
  readonly load: string;
}

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-bench-stream-'));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/**
 * Runs `CMD ARGS` under /usr/bin/time (peak RSS: the process's ru_maxrss; a
 * hook inside it would need NODE_OPTIONS, with which the launcher leaves the
 * snapshot out), reading its stdout as it comes and counting lines.
 */
function measure([cmd, ...args]: string[], env: NodeJS.ProcessEnv, header = 0): Promise<Figures> {
  const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd!, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let firstMs = NaN;
  let lines = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
    if (Number.isNaN(firstMs) && lines > header) firstMs = performance.now() - started;
  });
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${status}: ${stderr}`));
      resolve({ firstMs, totalMs: performance.now() - started, rssMb: Number(readFileSync(rssFile, 'utf8').trim()) / 1024, lines, load: load() });
    });
  });
}

/** Spawn → the end of the first row of `mlmodel list` in `format`, the process then stopped (the pipe closed). */
function firstRow(format: 'jsonl' | 'csv', env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(BIN, ['--format', format, '-c', 'mlmodel list'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let lines = 0;
  let at = NaN;
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
      if (Number.isNaN(at) && lines > (format === 'csv' ? 1 : 0)) {
        at = performance.now() - started;
        child.stdout.destroy();
      }
    });
    // The next run starts once this one has gone.
    child.on('close', () => resolve(at));
  });
}

/** Start-up and first row, interleaved RUNS times so that the load's swings fall on both alike: medians. */
async function firstRows(env: NodeJS.ProcessEnv): Promise<{ startup: number; jsonl: number; csv: number }> {
  const t: { startup: number[]; jsonl: number[]; csv: number[] } = { startup: [], jsonl: [], csv: [] };
  for (let i = 0; i < RUNS; i++) {
    t.startup.push((await measure([BIN, '--format', 'jsonl', '-c', 'mlmodel list | head 0'], env)).totalMs);
    t.jsonl.push(await firstRow('jsonl', env));
    t.csv.push(await firstRow('csv', env));
  }
  return { startup: percentile(t.startup, 50), jsonl: percentile(t.jsonl, 50), csv: percentile(t.csv, 50) };
}

/** The floor: the same rows' stored JSON, iterated by better-sqlite3 and written to the pipe in 64 KiB chunks. */
const FLOOR = `
const Database = require(${JSON.stringify(join(repoRoot, 'node_modules', 'better-sqlite3'))});
const db = new Database(process.argv[1], { readonly: true });
let buf = [];
let size = 0;
const fs = require('fs');
for (const r of db.prepare("SELECT doc FROM models WHERE latest = 1 AND state = 'ACTIVE' ORDER BY id").iterate()) {
  buf.push(r.doc);
  size += r.doc.length;
  if (size > 65536) { fs.writeSync(1, buf.join('\\n') + '\\n'); buf = []; size = 0; }
}
if (buf.length) fs.writeSync(1, buf.join('\\n') + '\\n');
`;

async function main(): Promise<void> {
  const home = await bigHome(MODELS);
  const env = { PATH: process.env.PATH, HOME: tmp, MLMODEL_HOME: home, MLMODEL_USER: 'bench', MLMODEL_CONFIG: join(tmp, 'none.yaml') };
  writeFileSync(join(tmp, 'none.yaml'), '');
  log(`streaming a list of ${MODELS.toLocaleString('en-US')} models (load average ${load()})`);
  // Warm-ups, so that the file is in the page cache for every figure alike
  // and the registry's first open (index statistics, once) is not counted.
  await measure([process.execPath, '-e', FLOOR, join(home, 'mlmodel.db')], env);
  await measure([BIN, '--format', 'jsonl', '-c', 'mlmodel list | head 1'], env);
  const startup = await measure([BIN, '--format', 'jsonl', '-c', 'mlmodel list | head 0'], env);
  const floor = await measure([process.execPath, '-e', FLOOR, join(home, 'mlmodel.db')], env);
  const results: Record<string, Figures> = { startup, floor };
  for (const format of ['jsonl', 'csv'] as const) results[format] = await measure([BIN, '--format', format, '-c', 'mlmodel list'], env, format === 'csv' ? 1 : 0);
  const esm = await measure([process.execPath, `${BIN}.js`, '--format', 'jsonl', '-c', 'mlmodel list'], env);
  const row = (name: string, f: Figures) =>
    `| ${name} | ${fmt(f.firstMs, 0)} ms | ${fmt(f.totalMs / 1000, 1)} s | ${fmt(f.rssMb, 0)} MB | ${f.lines.toLocaleString('en-US')} | ${f.load} |`;
  console.log(`\nmlmodel list of ${MODELS.toLocaleString('en-US')} models, streamed (one run each)\n`);
  console.log('| what | first row | total | peak RSS | lines | load average |\n|---|---:|---:|---:|---:|---|');
  console.log(row('start-up: `mlmodel list \\| head 0`', startup));
  console.log(row('floor: better-sqlite3 iterate → pipe', floor));
  console.log(row('`--format jsonl`', results.jsonl!));
  console.log(row('`--format csv`', results.csv!));
  console.log(row('`--format jsonl`, `node dist/bin/mlmodel.js` (node\'s default flags)', esm));
  const first = await firstRows(env);
  console.log(`\nstart-up and first row, median of ${RUNS} interleaved runs (load average ${load()}): start-up ${fmt(first.startup, 0)} ms, first jsonl row ${fmt(first.jsonl, 0)} ms, first csv row ${fmt(first.csv, 0)} ms`);
  const goals: string[] = [];
  for (const format of ['jsonl', 'csv'] as const) {
    const f = results[format]!;
    const after = first[format] - first.startup;
    console.log(`${format}: total ${fmt(f.totalMs / floor.totalMs, 1)}× the floor's; first row ${fmt(after, 0)} ms after start-up`);
    goals.push(goal(`${format} peak RSS < 150 MB`, f.rssMb < 150, `${fmt(f.rssMb, 0)} MB (floor ${fmt(floor.rssMb, 0)} MB)`));
    goals.push(goal(`${format} first row < 100 ms after start-up`, after < 100, `${fmt(after, 0)} ms`));
  }
  console.log(`\nresults: ${saveResults('stream', { models: MODELS, results: { ...results, esm }, first, goals })}`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
