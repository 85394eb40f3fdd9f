import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS } from '../scripts/node-flags.js';
import { ensureMongosh, MONGOSH_VERSION } from './lib/peers.js';
import { goal, printTable, saveResults } from './lib/report.js';

/**
 * Start-up cost of a one-shot query: the wall time of the `mlmodel` bin
 * (package.json's: the /bin/sh launcher dist/bin/mlmodel, which restores the
 * V8 startup snapshot dist/bin/mlmodel.blob) running
 * `-c "mlmodel list"` and `-f` of a file of ten queries on the embedded store
 * (fresh home, registry created on the first run, not timed) next to
 * `node -e 0` measured in the same run, interleaved so all see the same
 * machine load. The goal is at most 2.5× node's own start.
 *
 * NODE_EXTRA_CA_CERTS makes every node process read and parse a CA bundle
 * before it runs a line (about 90 ms on these machines), which no program can
 * avoid; the runs are made without it (the ratio's floor) and, when the
 * environment has it, the floor and `-c` again with it, so both are named.
 *
 *   npm run bench:startup [-- --runs N]
 */
const PACKAGE_ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(PACKAGE_ROOT, (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { bin: { mlmodel: string } }).bin.mlmodel);
const ESM_BIN = new URL('../bin/mlmodel.js', import.meta.url).pathname;
const BLOB = new URL('../bin/mlmodel.blob', import.meta.url).pathname;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const GOAL = 2.5;

const home = mkdtempSync(join(tmpdir(), 'mlmodel-bench-startup-'));
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: home, MLMODEL_HOME: join(home, 'home'), MLMODEL_USER: 'bench' };
const CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
const envWithCa: NodeJS.ProcessEnv = CA_CERTS ? { ...env, NODE_EXTRA_CA_CERTS: CA_CERTS } : env;

/** A command line: node's arguments, or a whole command when it starts with `!` (the bin itself). */
function command(args: string[]): [string, string[]] {
  return args[0]?.startsWith('!') ? [args[0].slice(1), args.slice(1)] : [process.execPath, args];
}

function wall(args: string[], withEnv: NodeJS.ProcessEnv = env): number {
  const started = process.hrtime.bigint();
  const [cmd, rest] = command(args);
  const r = spawnSync(cmd, rest, { env: withEnv, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

/**
 * CPU time (user + system, ms) of one run, from /usr/bin/time: on a machine
 * other jobs share, wall time measures the queue as much as the program, and
 * the CPU a start-up spends is what is left of it.
 */
function cpu(args: string[], withEnv: NodeJS.ProcessEnv = env): number {
  const [cmd, rest] = command(args);
  const r = spawnSync('/usr/bin/time', ['-f', 'CPU=%U %S', cmd, ...rest], { env: withEnv, cwd: PACKAGE_ROOT, encoding: 'utf8' });
  const m = /CPU=([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return (Number(m[1]) + Number(m[2])) * 1000;
}

const ours = [`!${BIN}`, '-c', 'mlmodel list'];
/** The same snapshot without the launcher (its cost is the difference), and the ESM bin the launcher falls back to. */
// The snapshot restores only under the V8 flags it was built with: the bin's (scripts/node-flags.ts).
const direct = existsSync(BLOB) ? [...NODE_FLAGS, '--snapshot-blob', BLOB, ESM_BIN, '-c', 'mlmodel list'] : null;
const esmBin = [ESM_BIN, '-c', 'mlmodel list'];
const floor = ['-e', '0'];
/** Ten queries a script might run, all answered by an empty registry. */
const TEN = join(home, 'ten.mlmodel');
writeFileSync(
  TEN,
  [
    'mlmodel list',
    'mlmodel list | where type = onnx',
    'mlmodel list | where category = classification and type in (tf, onnx) | sort -modified | head 20',
    'mlmodel list | fields name, type | sort name',
    'mlmodel list | where name like "bench-%" | head 5',
    'mlmodel list | where not (type = sklearn) | sort -create',
    'mlmodel list | where algorithm = "random forest" or category = clustering',
    'mlmodel list | sort type, -modified | head 3',
    'mlmodel list | where user = bench | fields id, name',
    'mlmodel list | head 1',
  ].join('\n') + '\n',
);
const oursFile = [`!${BIN}`, '-f', TEN];
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
wall(oursFile);
wall(floor);
wallOf(MONGOSH, peer);

const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
const f: number[] = [];
const caFloor: number[] = [];
const caOurs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  b.push(wall(floor));
  a.push(wall(ours));
  f.push(wall(oursFile));
  c.push(wallOf(MONGOSH, peer));
  if (CA_CERTS) {
    caFloor.push(wall(floor, envWithCa));
    caOurs.push(wall(ours, envWithCa));
  }
}
const cpuOf = { floor: [] as number[], ours: [] as number[], file: [] as number[], direct: [] as number[], esm: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  cpuOf.floor.push(cpu(floor));
  cpuOf.ours.push(cpu(ours));
  cpuOf.file.push(cpu(oursFile));
  if (direct) cpuOf.direct.push(cpu(direct));
  cpuOf.esm.push(cpu(esmBin));
}
const rss = { ours: [] as number[], floor: [] as number[], peer: [] as number[] };
for (let i = 0; i < 3; i++) {
  rss.floor.push(peakRss(process.execPath, floor));
  rss.ours.push(peakRss(...command(ours)));
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
const fileRatio = median(f) / median(b);

const row = (label: string, xs: number[], note = '') =>
  `${label.padEnd(36)}${median(xs).toFixed(1).padStart(8)} ms${min(xs).toFixed(1).padStart(10)} ms${note}`;
console.log(`start-up, ${RUNS} runs each, interleaved (node ${process.version}, embedded store)`);
console.log(`${''.padEnd(36)}${'median'.padStart(11)}${'min'.padStart(13)}`);
console.log(row('node -e 0', b));
console.log(row('mlmodel -c "mlmodel list"', a, `   ${ratio.toFixed(2)}× node (goal ≤ ${GOAL}×)`));
console.log(row('mlmodel -f (ten queries)', f, `   ${fileRatio.toFixed(2)}× node (goal ≤ ${GOAL}×)`));
if (CA_CERTS) {
  console.log(`with NODE_EXTRA_CA_CERTS=${CA_CERTS} (as this environment has it):`);
  console.log(row('node -e 0', caFloor));
  console.log(row('mlmodel -c "mlmodel list"', caOurs, `   ${(median(caOurs) / median(caFloor)).toFixed(2)}× node with it`));
}
console.log(`CPU time (user + system), ${RUNS} interleaved runs, from /usr/bin/time (10 ms ticks):`);
console.log(row('node -e 0', cpuOf.floor));
console.log(row('mlmodel -c "mlmodel list"', cpuOf.ours, `   ${(median(cpuOf.ours) / median(cpuOf.floor)).toFixed(2)}× node`));
console.log(row('mlmodel -f (ten queries)', cpuOf.file, `   ${(median(cpuOf.file) / median(cpuOf.floor)).toFixed(2)}× node`));
if (direct) console.log(row('  snapshot without the launcher', cpuOf.direct, `   ${(median(cpuOf.direct) / median(cpuOf.floor)).toFixed(2)}× node`));
else console.log('  no snapshot here (dist/bin/mlmodel.blob missing): the launcher ran the ESM bin');
console.log(row('  the ESM bin (no snapshot)', cpuOf.esm, `   ${(median(cpuOf.esm) / median(cpuOf.floor)).toFixed(2)}× node`));
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`floor used for the ratios: node -e 0 without NODE_EXTRA_CA_CERTS${CA_CERTS ? ' (the environment sets it; runs above clear it)' : ' (not set here)'}`);
console.log('where it goes (each imported alone in a fresh process, median of 5, minus node -e 0):');
for (const p of breakdown) console.log(`  ${p.label.padEnd(40)}${(median(p.ms) - median(b)).toFixed(1).padStart(8)} ms`);
console.log(`startup ratio: ${ratio.toFixed(2)} ${ratio <= GOAL ? 'within' : 'OVER'} the ${GOAL}× goal`);

// Side by side with the floor (node -e 0) and the peer (mongosh --nodb --eval 1), same run.
const maxOf = (xs: number[]) => Math.max(...xs);
const tables = [
  printTable(`start-up against the floor, ${RUNS} interleaved runs (medians), peak RSS max of 3`, 'node -e 0', [
    { what: 'mlmodel -c "mlmodel list" wall time', unit: 'ms', ours: median(a), peer: median(b), higherIsBetter: false },
    { what: 'mlmodel -f (ten queries) wall time', unit: 'ms', ours: median(f), peer: median(b), higherIsBetter: false },
    ...(CA_CERTS
      ? [{ what: '-c "mlmodel list", both with NODE_EXTRA_CA_CERTS', unit: 'ms', ours: median(caOurs), peer: median(caFloor), higherIsBetter: false }]
      : []),
    { what: '-c "mlmodel list" CPU time', unit: 'ms', ours: median(cpuOf.ours), peer: median(cpuOf.floor), higherIsBetter: false },
    { what: '-f (ten queries) CPU time', unit: 'ms', ours: median(cpuOf.file), peer: median(cpuOf.floor), higherIsBetter: false },
    { what: 'peak RSS', unit: 'MiB', ours: maxOf(rss.ours), peer: maxOf(rss.floor), higherIsBetter: false },
  ]),
  printTable(`start-up against the peer, mongosh ${MONGOSH_VERSION} --nodb --eval 1, same runs`, `mongosh ${MONGOSH_VERSION}`, [
    { what: 'wall time', unit: 'ms', ours: median(a), peer: median(c), higherIsBetter: false },
    { what: 'peak RSS', unit: 'MiB', ours: maxOf(rss.ours), peer: maxOf(rss.peer), higherIsBetter: false },
    { what: 'mongosh --nodb --eval 1 against node -e 0', unit: '×', ours: null, peer: median(c) / median(b), higherIsBetter: false },
  ]),
];
const goals = [
  goal(`start-up (-c "mlmodel list") ≤ ${GOAL}× node -e 0`, ratio <= GOAL, `${ratio.toFixed(2)}×`),
  goal(`start-up (-f, ten queries) ≤ ${GOAL}× node -e 0`, fileRatio <= GOAL, `${fileRatio.toFixed(2)}×`),
  goal('≥ 4× faster than mongosh', median(c) / median(a) >= 4, `${(median(c) / median(a)).toFixed(2)}×`),
];
saveResults('startup', { runs: RUNS, cpu: cpuOf, ours: a, oursFile: f, floor: b, mongosh: c, caFloor, caOurs, caCerts: CA_CERTS ?? null, rss, ratio, fileRatio, tables, goals });
