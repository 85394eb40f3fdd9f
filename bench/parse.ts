import { MAX_QUERY_LENGTH } from '../grammar/index.js';
import { language, parse } from '../src/language.js';
import { corpus } from './corpus.js';
import { LONG_QUERIES } from './lib/long-queries.js';

/**
 * Parse throughput on the fixed corpus, next to two floors measured in the
 * same run: the lexer alone (the part of parsing no grammar work can remove)
 * and V8's native JSON.parse reading the same ASTs (the fastest text→object
 * step this runtime has).
 */
const lines = corpus();
const chars = lines.reduce((n, l) => n + l.length, 0);
const asJson = lines.map((l) => JSON.stringify(parse(l)));

function measure(label: string, work: () => void, seconds = 2): { label: string; perSecond: number } {
  for (let i = 0; i < 3; i++) work(); // warm up the JIT
  let rounds = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    work();
    rounds++;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  }
  return { label, perSecond: (rounds * lines.length) / elapsed };
}

const results = [
  measure('mlmodel parse (text → AST)', () => {
    for (const l of lines) parse(l);
  }),
  measure('floor: lexer only', () => {
    for (const l of lines) language.tokens.lexer.tokenize(l);
  }),
  measure('floor: JSON.parse of the same ASTs', () => {
    for (const j of asJson) JSON.parse(j);
  }),
];

const ours = results[0]!.perSecond;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
console.log(`corpus: ${lines.length} queries, ${(chars / lines.length).toFixed(1)} characters on average; node ${process.version}, one core`);
console.log(`${'what'.padEnd(38)}${'queries/s'.padStart(12)}   ratio to ours`);
for (const r of results) console.log(`${r.label.padEnd(38)}${fmt(r.perSecond)}   ${(r.perSecond / ours).toFixed(2)}×`);
console.log(`goal: 200,000 queries/s — ${ours >= 200_000 ? 'met' : 'not met'}`);

/**
 * Seconds per megabyte on long queries, valid and invalid, at 100 KB and at
 * the 1 MB limit: linear parsing shows the same figure at both sizes (the
 * larger one a little higher, the garbage collector working on a larger
 * heap); quadratic would show ten times as much at 1 MB.
 */
function secondsPerMb(text: string): number {
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const started = process.hrtime.bigint();
    try {
      parse(text);
    } catch {
      // Rejecting is the work being timed.
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return best / (text.length / 1e6);
}

console.log(`\nlong queries, seconds per MB (best of 2)`);
console.log(`${'shape'.padEnd(40)}${'100 KB'.padStart(10)}${'1 MB'.padStart(10)}`);
for (const q of LONG_QUERIES) {
  const small = secondsPerMb(q.build(MAX_QUERY_LENGTH / 10));
  const large = secondsPerMb(q.build(MAX_QUERY_LENGTH));
  console.log(`${q.name.padEnd(40)}${small.toFixed(2).padStart(10)}${large.toFixed(2).padStart(10)}`);
}
