import { loadavg } from 'node:os';
import { MAX_QUERY_LENGTH } from '../grammar/index.js';
import { language, parse } from '../src/language.js';
import { corpus } from './corpus.js';
import { LONG_QUERIES } from './lib/long-queries.js';
import { goal } from './lib/report.js';

/**
 * Parse throughput on the fixed corpus, next to two floors measured in the
 * same run: the lexer alone (the part of parsing no grammar work can remove)
 * and V8's native JSON.parse reading the same ASTs (the fastest text→object
 * step this runtime has). `parse` reads a clean query by the fast path
 * (grammar/fast-parse.ts) and hands anything else to Chevrotain; the bench
 * says how many corpus queries the fast path took, and times Chevrotain's
 * path alone beside it.
 */
const lines = corpus();
const chars = lines.reduce((n, l) => n + l.length, 0);
const asJson = lines.map((l) => JSON.stringify(parse(l)));
const taken = lines.filter((l) => language.paths.fast(l) !== undefined).length;

/** CPU time of this thread so far, in seconds: what a slice cost, whatever else the machine runs. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Queries per CPU-second of each piece of work, measured in alternating
 * slices of about 100 ms (round-robin, 2 s each in all) so that the parse
 * and its floors see the same machine: on a shared machine, measuring one
 * after the other compared one moment's load with another's.
 */
function measureInterleaved(works: { label: string; work: () => void }[], seconds = 2): { label: string; perSecond: number }[] {
  for (const w of works) for (let i = 0; i < 3; i++) w.work(); // warm up the JIT
  const spent = works.map(() => ({ rounds: 0, cpu: 0 }));
  while (spent.some((x) => x.cpu < seconds)) {
    works.forEach((w, i) => {
      const started = cpuSeconds();
      const sliceEnd = started + 0.1;
      let now = started;
      while (now < sliceEnd) {
        w.work();
        spent[i]!.rounds++;
        now = cpuSeconds();
      }
      spent[i]!.cpu += now - started;
    });
  }
  return works.map((w, i) => ({ label: w.label, perSecond: (spent[i]!.rounds * lines.length) / spent[i]!.cpu }));
}

const results = measureInterleaved([
  {
    label: 'mlmodel parse (text → AST)',
    work: () => {
      for (const l of lines) parse(l);
    },
  },
  {
    label: 'Chevrotain path alone (no fast path)',
    work: () => {
      for (const l of lines) language.paths.chevrotain(l);
    },
  },
  {
    label: 'floor: lexer only',
    work: () => {
      for (const l of lines) language.tokens.lexer.tokenize(l);
    },
  },
  {
    label: 'floor: JSON.parse of the same ASTs',
    work: () => {
      for (const j of asJson) JSON.parse(j);
    },
  },
]);

const ours = results[0]!.perSecond;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
console.log(`# ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`corpus: ${lines.length} queries, ${(chars / lines.length).toFixed(1)} characters on average; node ${process.version}, one core`);
console.log(`fast path: took ${taken} of ${lines.length} corpus queries (the rest went to Chevrotain)`);
console.log(`${'what'.padEnd(38)}${'queries/s'.padStart(12)}   ratio to ours`);
for (const r of results) console.log(`${r.label.padEnd(38)}${fmt(r.perSecond)}   ${(r.perSecond / ours).toFixed(2)}×`);
const toFloor = ours / results[2]!.perSecond;
goal('text → AST ≥ 0.6× the lexer-only floor', toFloor >= 0.6, `${toFloor.toFixed(2)}× (queries per CPU-second, interleaved)`);

/**
 * Seconds per megabyte on long queries, valid and invalid, at 100 KB and at
 * the 1 MB limit: linear parsing shows the same figure at both sizes (the
 * larger one a little higher, the garbage collector working on a larger
 * heap); quadratic would show ten times as much at 1 MB.
 */
function secondsPerMb(text: string, read: (text: string) => unknown = parse): number {
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const started = cpuSeconds();
    try {
      read(text);
    } catch {
      // Rejecting is the work being timed.
    }
    best = Math.min(best, cpuSeconds() - started);
  }
  return best / (text.length / 1e6);
}

console.log(`\nlong queries, CPU seconds per MB (best of 2)`);
// The last column reads the 1 MB query by Chevrotain alone: what the fast path's attempt adds to invalid input (and saves on valid).
console.log(`${'shape'.padEnd(40)}${'100 KB'.padStart(10)}${'1 MB'.padStart(10)}${'1 MB, Chevrotain alone'.padStart(24)}`);
let worst = { name: '', growth: 0 };
for (const q of LONG_QUERIES) {
  const small = secondsPerMb(q.build(MAX_QUERY_LENGTH / 10));
  const large = secondsPerMb(q.build(MAX_QUERY_LENGTH));
  if (large / small > worst.growth) worst = { name: q.name, growth: large / small };
  const alone = secondsPerMb(q.build(MAX_QUERY_LENGTH), language.paths.chevrotain);
  console.log(`${q.name.padEnd(40)}${small.toFixed(2).padStart(10)}${large.toFixed(2).padStart(10)}${alone.toFixed(2).padStart(24)}`);
}
// Ten times the input: linear time keeps seconds per MB level, quadratic multiplies it by ten.
goal('time linear in the input (seconds per MB at 1 MB under 3× that at 100 KB, every shape)', worst.growth < 3, `largest growth ${worst.growth.toFixed(2)}× (${worst.name})`);
console.log(`# load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
