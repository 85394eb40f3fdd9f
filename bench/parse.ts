import { language, parse } from '../src/language.js';
import { corpus } from './corpus.js';

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
