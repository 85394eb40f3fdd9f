import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMongosh, MONGOSH_VERSION } from './lib/peers.js';
import { goal, printTable, saveResults } from './lib/report.js';

/**
 * Start-up cost of a one-shot query: the wall time of
 * `mlmodel -c "mlmodel list"` on the embedded store (fresh home, registry
 * created on the first run, not timed) next to `node -e 0` measured in the
 * same run, interleaved so both see the same machine load. The goal is at
 * most 2.5× node's own start.
 *
 *   npm run bench:startup [-- --runs N]
 */
const CLI = new URL('../console/cli.js', import.meta.url).pathname;
const PACKAGE_ROOT = new URL('../../', import.meta.url).pathname;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const GOAL = 2.5;

const home = mkdtempSync(join(tmpdir(), 'mlmodel-bench-startup-'));
const env = { PATH: process.env.PATH ?? '', HOME: home, MLMODEL_HOME: join(home, 'home'), MLMODEL_USER: 'bench' };

function wall(args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const ours = [CLI, '-c', 'mlmodel list'];
const floor = ['-e', '0'];
// The peer: mongosh, installed with npm into a throw-away prefix (bench/lib/peers.ts).
const MONGOSH = ensureMongosh();
const peer = ['--nodb', '--eval', '1'];
function wallOf(cmd: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}
/** Peak RSS (MiB) of one run, from /usr/bin/time. */
function peakRss(cmd: string, args: string[]): number {
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args], { env, cwd: PACKAGE_ROOT, encoding: 'utf8' });
  const m = /RSS_KB=(\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(m[1]) / 1024;
}
// Creates the registry (SQLite schema, directories) and warms the file cache (mongosh's too).
wall(ours);
wall(floor);
wallOf(MONGOSH, peer);

const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
for (let i = 0; i < RUNS; i++) {
  b.push(wall(floor));
  a.push(wall(ours));
  c.push(wallOf(MONGOSH, peer));
}
const rss = { ours: [] as number[], floor: [] as number[], peer: [] as number[] };
for (let i = 0; i < 3; i++) {
  rss.floor.push(peakRss(process.execPath, floor));
  rss.ours.push(peakRss(process.execPath, ours));
  rss.peer.push(peakRss(MONGOSH, peer));
}

/** Where the time goes: each heavy module imported alone in a fresh process, less node's own start. */
const ROOT = new URL(`file://${PACKAGE_ROOT}`);
const parts: [string, string][] = [
  ['grammar', new URL('dist/grammar/index.js', ROOT).href],
  ['engine, with the grammar', new URL('dist/src/engine/registry.js', ROOT).href],
  ['  of it: chevrotain (pulls in lodash-es)', 'chevrotain'],
  ['  vs chevrotain as its one-file bundle', new URL('node_modules/chevrotain/lib/chevrotain.min.mjs', ROOT).href],
  ['  of it: mingo', 'mingo'],
  ['  of it: yaml', 'yaml'],
  ['  of it: better-sqlite3', 'better-sqlite3'],
  ['renderers (cli-table3)', new URL('dist/console/render/formats.js', ROOT).href],
  ['REPL only: ink + react', 'ink'],
];
const breakdown = parts.map(([label, specifier]) => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(wall(['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`]));
  return { label, ms: times };
});
rmSync(home, { recursive: true, force: true });

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const min = (xs: number[]) => Math.min(...xs);
const ratio = median(a) / median(b);

const row = (label: string, xs: number[], note = '') =>
  `${label.padEnd(36)}${median(xs).toFixed(1).padStart(8)} ms${min(xs).toFixed(1).padStart(10)} ms${note}`;
console.log(`start-up, ${RUNS} runs each, interleaved (node ${process.version}, embedded store)`);
console.log(`${''.padEnd(36)}${'median'.padStart(11)}${'min'.padStart(13)}`);
console.log(row('node -e 0', b));
console.log(row('mlmodel -c "mlmodel list"', a, `   ${ratio.toFixed(2)}× node (goal ≤ ${GOAL}×)`));
console.log('where it goes (each imported alone in a fresh process, median of 5, minus node -e 0):');
for (const p of breakdown) console.log(`  ${p.label.padEnd(40)}${(median(p.ms) - median(b)).toFixed(1).padStart(8)} ms`);
console.log(`startup ratio: ${ratio.toFixed(2)} ${ratio <= GOAL ? 'within' : 'OVER'} the ${GOAL}× goal`);

// Side by side with the floor (node -e 0) and the peer (mongosh --nodb --eval 1), same run.
const maxOf = (xs: number[]) => Math.max(...xs);
const tables = [
  printTable(`start-up against the floor, ${RUNS} interleaved runs (medians), peak RSS max of 3`, 'node -e 0', [
    { what: 'mlmodel -c "mlmodel list" wall time', unit: 'ms', ours: median(a), peer: median(b), higherIsBetter: false },
    { what: 'peak RSS', unit: 'MiB', ours: maxOf(rss.ours), peer: maxOf(rss.floor), higherIsBetter: false },
  ]),
  printTable(`start-up against the peer, mongosh ${MONGOSH_VERSION} --nodb --eval 1, same runs`, `mongosh ${MONGOSH_VERSION}`, [
    { what: 'wall time', unit: 'ms', ours: median(a), peer: median(c), higherIsBetter: false },
    { what: 'peak RSS', unit: 'MiB', ours: maxOf(rss.ours), peer: maxOf(rss.peer), higherIsBetter: false },
    { what: 'mongosh --nodb --eval 1 against node -e 0', unit: '×', ours: null, peer: median(c) / median(b), higherIsBetter: false },
  ]),
];
const goals = [
  goal(`start-up ≤ ${GOAL}× node -e 0`, ratio <= GOAL, `${ratio.toFixed(2)}×`),
  goal('≥ 4× faster than mongosh', median(c) / median(a) >= 4, `${(median(c) / median(a)).toFixed(2)}×`),
];
saveResults('startup', { runs: RUNS, ours: a, floor: b, mongosh: c, rss, ratio, tables, goals });
