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
 *
 * Then sync (`mlmodel sync to=… where=…`) between two embedded registries:
 * MLMODEL_BENCH_SYNC_MODELS models (default 1000) pushed once, then again
 * after MLMODEL_BENCH_SYNC_CHANGED of them (default 10) got a new version,
 * then once more with nothing changed, counting the object-store requests of
 * each run on both sides (every call of the ObjectStore interface).
 *   MLMODEL_BENCH_SYNC_MODELS=0 skips it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../src/config/index.js';
import { executeSync, type SyncCommand } from '../src/commands/sync.js';
import type { EngineContext } from '../src/engine/context.js';
import { openRemoteRegistry } from '../src/exchange/remote-registry.js';
import { parse } from '../src/language.js';
import type { ObjectStore } from '../src/store/objects.js';
import { openRegistry } from '../src/engine/registry.js';
import { openStores } from '../src/store/open.js';
import { benchCache, log } from './lib/cache.js';
import { fmt, goal, percentile } from './lib/report.js';

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
  // Read in 1 MiB chunks, as unbundle reads a bundle file.
  for (const r of records) await rawStores.objects.put(`raw/${r.uid}`, createReadStream(join(raw, r.uid), { highWaterMark: 1 << 20 }));
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
console.log('');
goal('bundle export ≥ 0.8× a raw copy', med(times.rawOut) / med(times.bundle) >= 0.8, `${fmt(med(times.rawOut) / med(times.bundle), 2)}× the raw copy's throughput`);
goal('bundle import ≥ 0.8× a raw copy', med(times.rawIn) / med(times.unbundle) >= 0.8, `${fmt(med(times.rawIn) / med(times.unbundle), 2)}× the raw copy's throughput`);

// ---- sync: only the changed models' new versions travel ----------------------------------------
const syncModelsCount = Number(process.env.MLMODEL_BENCH_SYNC_MODELS ?? 1000);
const syncChanged = Number(process.env.MLMODEL_BENCH_SYNC_CHANGED ?? 10);
if (syncModelsCount > 0) {
  const dirOf = mkdtempSync(join(benchCache('tmp'), 'sync-'));
  const srcHome = join(dirOf, 'src');
  const dstHome = join(dirOf, 'dst');
  const env = { HOME: dirOf, MLMODEL_HOME: srcHome, MLMODEL_USER: 'bench', MLMODEL_REGISTRY_SRC: srcHome, MLMODEL_REGISTRY_DST: dstHome };
  const small = (i: number) => {
    const p = join(dirOf, `m${i}.tar`);
    archive(p, 4096 + i);
    return p;
  };
  log(`bench:exchange sync — ${syncModelsCount} models, ${syncChanged} changed`);
  const reg = await openRegistry({ config: loadConfig(env) });
  const first = small(0);
  await reg.importBatch(Array.from({ length: syncModelsCount }, (_, i) => parse(`mlmodel import name=s${String(i).padStart(5, '0')} type=onnx path=${first}`)));
  await reg.close();

  const config = loadConfig(env);
  const [src, dst] = [await openRemoteRegistry(config, 'src'), await openRemoteRegistry(config, 'dst')];
  const base = { localRoots: null, user: 'bench', signal: undefined, onProgress: undefined, now: () => new Date() } as unknown as EngineContext;
  const counts = { src: 0, dst: 0 };
  /** The store, with every call of its interface counted. */
  const counted = (store: ObjectStore, side: keyof typeof counts): ObjectStore =>
    new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          counts[side]++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const dstCtx: EngineContext = { ...dst.context(base), objects: counted(dst.context(base).objects, 'dst') };
  const srcCtx: EngineContext = { ...src.context(base), objects: counted(src.context(base).objects, 'src'), remote: () => Promise.resolve(dstCtx) };
  const command = parse(`mlmodel sync to=dst where="name like 's%'"`).command as SyncCommand;
  const syncRun = async (what: string) => {
    counts.src = 0;
    counts.dst = 0;
    const t = performance.now();
    const out = await executeSync(srcCtx, command);
    const ms = performance.now() - t;
    const copied = out.rows.filter((r) => r[0] === 'copied').length;
    const others = out.rows.filter((r) => r[0] !== 'copied' && r[0] !== 'present').length;
    if (others > 0) throw new Error(`${what}: ${others} rows neither copied nor present`);
    return { what, ms, copied, rows: out.rows.length, src: counts.src, dst: counts.dst };
  };
  const results = [await syncRun(`first sync (${syncModelsCount} models)`)];
  const changedReg = await openRegistry({ config: loadConfig(env) });
  for (let i = 0; i < syncChanged; i++) await changedReg.run(`mlmodel import name=s${String(i * Math.floor(syncModelsCount / syncChanged)).padStart(5, '0')} type=onnx path=${small(1 + i)}`);
  await changedReg.close();
  results.push(await syncRun(`${syncChanged} models changed`));
  results.push(await syncRun('nothing changed'));
  await src.close();
  await dst.close();
  rmSync(dirOf, { recursive: true, force: true });
  console.log(`\nsync of ${syncModelsCount} models between two embedded registries (one run)\n`);
  console.log('| run | versions copied | rows | object requests, sending side | object requests, receiving side | time |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.what} | ${r.copied} | ${r.rows} | ${r.src} | ${r.dst} | ${fmt(r.ms)} ms |`);
  // A version costs the first sync a fixed number of object requests a side; the changed run must pay exactly that for its changed ones.
  const [initial, changed, none] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  const perVersion = (initial.src + initial.dst) / initial.copied;
  console.log('');
  goal(
    `a sync of ${syncModelsCount} models of which ${syncChanged} changed moves only those ${syncChanged}`,
    changed.copied === syncChanged && changed.src + changed.dst === perVersion * syncChanged && none.copied === 0 && none.src + none.dst === 0,
    `${changed.copied} versions copied with ${changed.src} + ${changed.dst} object requests (${fmt(perVersion, 0)} a version in the first sync); a rerun with nothing changed: ${none.src + none.dst} requests`,
  );
}
