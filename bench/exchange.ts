/**
 * bench:exchange — a bundle of every version of a model, written
 * (`mlmodel bundle … all=true`) and read into a fresh registry
 * (`mlmodel unbundle`), against a raw copy of the same archive bytes through
 * the same stores (each stored archive read from the object store into a
 * file; each file stored as a new object), in one run, on the embedded
 * stores (SQLite + directory). Medians of MLMODEL_BENCH_REPEAT runs.
 *
 *   npm run bench:exchange
 *   MLMODEL_BENCH_EXCHANGE_VERSIONS=8   versions of the model
 *   MLMODEL_BENCH_EXCHANGE_MIB=32       MiB of each version's archive
 *   MLMODEL_BENCH_REPEAT=3
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../src/config/index.js';
import { openRegistry } from '../src/engine/registry.js';
import { openStores } from '../src/store/open.js';
import { benchCache, log } from './lib/cache.js';
import { fmt, percentile } from './lib/report.js';

const versions = Number(process.env.MLMODEL_BENCH_EXCHANGE_VERSIONS ?? 8);
const mib = Number(process.env.MLMODEL_BENCH_EXCHANGE_MIB ?? 32);
const repeat = Number(process.env.MLMODEL_BENCH_REPEAT ?? 3);

mkdirSync(benchCache('tmp'), { recursive: true });
const work = mkdtempSync(join(benchCache('tmp'), 'exchange-'));
const envOf = (home: string) => ({ HOME: work, MLMODEL_HOME: join(work, home), MLMODEL_USER: 'bench' });

/** A tar holding model.onnx of `bytes` random (incompressible) bytes, written in 1 MiB pieces. */
function archive(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const header = Buffer.alloc(512);
  header.write('model.onnx', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${bytes.toString(8).padStart(11, '0')}\0`, 124);
  header.write(`${(0).toString(8).padStart(11, '0')}\0`, 136);
  header.write('0', 156);
  header.write('ustar\u000000', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  writeSync(fd, header);
  for (let left = bytes; left > 0; left -= 1 << 20) writeSync(fd, randomBytes(Math.min(left, 1 << 20)));
  writeSync(fd, Buffer.alloc((512 - (bytes % 512)) % 512 + 1024));
  closeSync(fd);
}

log(`bench:exchange — ${versions} versions × ${mib} MiB, ${repeat} runs`);
const source = await openRegistry({ config: loadConfig(envOf('source')) });
for (let v = 0; v < versions; v++) {
  const p = join(work, `v${v}.tar`);
  archive(p, mib * 1024 * 1024);
  await source.run(`mlmodel import name=big type=onnx path=${p}`);
  rmSync(p);
}
const stores = await openStores(loadConfig(envOf('source')));
const records = await stores.metadata.findModels({});
const totalBytes = records.reduce((n, r) => n + r.size, 0);

const times = { bundle: [] as number[], rawOut: [] as number[], unbundle: [] as number[], rawIn: [] as number[] };
for (let i = 0; i < repeat; i++) {
  const out = join(work, `b${i}.tar`);
  let t = performance.now();
  await source.run(`mlmodel bundle big to=${out} all=true`);
  times.bundle.push(performance.now() - t);

  const raw = join(work, `raw${i}`);
  mkdirSync(raw);
  t = performance.now();
  for (const r of records) await pipeline(await stores.objects.get(r.object_key), createWriteStream(join(raw, r.uid)));
  times.rawOut.push(performance.now() - t);

  const target = await openRegistry({ config: loadConfig(envOf(`target${i}`)) });
  t = performance.now();
  await target.run(`mlmodel unbundle path=${out}`);
  times.unbundle.push(performance.now() - t);
  await target.close();

  const rawStores = await openStores(loadConfig(envOf(`raw-target${i}`)));
  t = performance.now();
  for (const r of records) await rawStores.objects.put(`raw/${r.uid}`, createReadStream(join(raw, r.uid)));
  times.rawIn.push(performance.now() - t);
  await rawStores.close();
  rmSync(raw, { recursive: true });
  rmSync(out);
  rmSync(join(work, `target${i}`), { recursive: true });
  rmSync(join(work, `raw-target${i}`), { recursive: true });
}
await stores.close();
await source.close();
rmSync(work, { recursive: true, force: true });

const mibps = (ms: number) => totalBytes / 1024 / 1024 / (ms / 1000);
const med = (xs: number[]) => percentile(xs, 50);
console.log(`\n${versions} versions, ${fmt(totalBytes / 1024 / 1024)} MiB of archives, embedded stores, median of ${repeat}\n`);
console.log('| step | mlmodel (bundle) | raw copy of the same bytes | bundle ÷ raw throughput |');
console.log('|---|---|---|---|');
console.log(`| export: registry → one file | ${fmt(med(times.bundle))} ms (${fmt(mibps(med(times.bundle)))} MiB/s) | ${fmt(med(times.rawOut))} ms (${fmt(mibps(med(times.rawOut)))} MiB/s) | ${fmt(med(times.rawOut) / med(times.bundle), 2)}× |`);
console.log(`| import: file → registry | ${fmt(med(times.unbundle))} ms (${fmt(mibps(med(times.unbundle)))} MiB/s) | ${fmt(med(times.rawIn))} ms (${fmt(mibps(med(times.rawIn)))} MiB/s) | ${fmt(med(times.rawIn) / med(times.unbundle), 2)}× |`);
