/**
 * bench:throughput — import and export of big archives through MinIO against
 * the floor: the `minio` client streaming the same object get → put, in the
 * same run. Both are whole processes under /usr/bin/time (wall time and peak
 * RSS). Import: source object in a connector bucket → inspected, hashed and
 * stored in the registry's MinIO bucket (metadata in the embedded store).
 * Export: the stored archive → the connector bucket.
 *
 *   npm run bench:throughput
 *   MLMODEL_BENCH_SIZES_MIB=100,1024   archive sizes (default)
 *   MLMODEL_BENCH_REPEAT=3             runs of each, interleaved; the median is reported
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bigArchive } from './lib/archives.js';
import { benchCache, log, repoRoot } from './lib/cache.js';
import { startBenchMinio, timed } from './lib/minio-env.js';
import { fmt, goal, percentile, printTable, saveResults, type Row } from './lib/report.js';

const sizes = (process.env.MLMODEL_BENCH_SIZES_MIB ?? '100,1024').split(',').map(Number);
const repeat = Number(process.env.MLMODEL_BENCH_REPEAT ?? 3);
const CLI = join(repoRoot, 'dist', 'console', 'cli.js');
const COPY = join(repoRoot, 'dist', 'bench', 'lib', 'minio-copy.js');

mkdirSync(benchCache('tmp'), { recursive: true });
const work = mkdtempSync(join(benchCache('tmp'), 'throughput-'));
const minio = await startBenchMinio(['bench', 'mlmodel']);
const withBucket = (bucket: string) => `${minio.url}/${bucket}`;
const env = {
  PATH: process.env.PATH ?? '',
  HOME: work,
  MLMODEL_HOME: join(work, 'home'),
  MLMODEL_USER: 'bench',
  MLMODEL_MINIO_URL: withBucket('mlmodel'),
  MLMODEL_CONNECTOR_SRC: withBucket('bench'),
};

interface Figures {
  mib: number;
  importS: number;
  importFloorS: number;
  exportS: number;
  exportFloorS: number;
  importRss: number;
  importFloorRss: number;
  exportRss: number;
  exportFloorRss: number;
}
const results: Figures[] = [];
try {
  for (const mib of sizes) {
    const file = await bigArchive(benchCache('archives', `onnx-${mib}MiB.tar`), mib * 2 ** 20);
    const srcKey = `src/model-${mib}.tar`;
    log(`${mib} MiB: uploading the source archive`);
    await minio.client.fPutObject('bench', srcKey, file, {});
    const runs: Record<string, { seconds: number; rssMiB: number }[]> = { imp: [], impF: [], exp: [], expF: [] };
    for (let i = 0; i < repeat; i++) {
      const name = `big${mib}_${i}`;
      runs.impF!.push(timed(process.execPath, [COPY, minio.url, 'bench', srcKey, 'mlmodel', `floor/${name}`], env));
      runs.imp!.push(timed(process.execPath, [CLI, '-c', `mlmodel import name=${name} type=onnx path=OBJECTSTORAGE.SRC:${srcKey}`], env));
      runs.expF!.push(timed(process.execPath, [COPY, minio.url, 'mlmodel', `floor/${name}`, 'bench', `out/floor-${name}.tar`], env));
      runs.exp!.push(timed(process.execPath, [CLI, '-c', `mlmodel export name=${name} path=OBJECTSTORAGE.SRC:out/${name}.tar`], env));
      log(`${mib} MiB run ${i + 1}: import ${runs.imp!.at(-1)!.seconds.toFixed(2)} s (floor ${runs.impF!.at(-1)!.seconds.toFixed(2)} s), export ${runs.exp!.at(-1)!.seconds.toFixed(2)} s (floor ${runs.expF!.at(-1)!.seconds.toFixed(2)} s)`);
      await minio.client.removeObject('bench', `out/${name}.tar`);
      await minio.client.removeObject('bench', `out/floor-${name}.tar`);
      await minio.client.removeObject('mlmodel', `floor/${name}`);
    }
    const med = (k: string) => percentile(runs[k]!.map((r) => r.seconds), 50);
    const peak = (k: string) => Math.max(...runs[k]!.map((r) => r.rssMiB));
    results.push({
      mib,
      importS: med('imp'),
      importFloorS: med('impF'),
      exportS: med('exp'),
      exportFloorS: med('expF'),
      importRss: peak('imp'),
      importFloorRss: peak('impF'),
      exportRss: peak('exp'),
      exportFloorRss: peak('expF'),
    });
    await minio.client.removeObject('bench', srcKey);
  }
} finally {
  await minio.stop();
  rmSync(work, { recursive: true, force: true });
}

const rows: Row[] = [];
for (const r of results) {
  rows.push({ what: `import ${r.mib} MiB (mlmodel -c import vs get→put)`, unit: 'MiB/s', ours: r.mib / r.importS, peer: r.mib / r.importFloorS, higherIsBetter: true });
  rows.push({ what: `export ${r.mib} MiB (mlmodel -c export vs get→put)`, unit: 'MiB/s', ours: r.mib / r.exportS, peer: r.mib / r.exportFloorS, higherIsBetter: true });
  rows.push({ what: `import ${r.mib} MiB peak RSS`, unit: 'MiB', ours: r.importRss, peer: r.importFloorRss, higherIsBetter: false });
  rows.push({ what: `export ${r.mib} MiB peak RSS`, unit: 'MiB', ours: r.exportRss, peer: r.exportFloorRss, higherIsBetter: false });
}
const table = printTable(`import/export through MinIO, whole processes, median of ${repeat} (floor: the minio client streaming the same object get→put)`, 'floor: minio get→put', rows);
const goals: string[] = [];
for (const r of results) {
  goals.push(goal(`import ${r.mib} MiB ≥ 0.8× the floor`, r.importFloorS / r.importS >= 0.8, `${fmt(r.importFloorS / r.importS, 2)}×`));
  goals.push(goal(`export ${r.mib} MiB ≥ 0.8× the floor`, r.exportFloorS / r.exportS >= 0.8, `${fmt(r.exportFloorS / r.exportS, 2)}×`));
}
if (results.length >= 2) {
  const [a, b] = [results[0]!, results.at(-1)!];
  const grows = (x: number, y: number) => y > x * 1.25 + 16;
  goals.push(
    goal(
      `peak RSS does not grow with archive size (${a.mib} → ${b.mib} MiB)`,
      !grows(a.importRss, b.importRss) && !grows(a.exportRss, b.exportRss),
      `import ${fmt(a.importRss, 0)} → ${fmt(b.importRss, 0)} MiB, export ${fmt(a.exportRss, 0)} → ${fmt(b.exportRss, 0)} MiB`,
    ),
  );
}
log(`figures saved to ${saveResults('throughput', { sizes, repeat, results, table, goals })}`);
