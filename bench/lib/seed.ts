/**
 * Our bench registries, seeded through the registry's own bulk path
 * (Registry.importBatch, the path `mlmodel -f` takes for a run of imports)
 * and cached: one growing home (one of its own for a size below one already
 * grown), and a copy of its metadata database at each
 * size, next to the shared object directory (keys are uids, so the objects of
 * a smaller registry are a subset).
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry, parse } from '../../src/index.js';
import { benchCache, log } from './cache.js';
import { importLine, smallArchives } from './archives.js';

const SEED_VERSION = 'v1';
export const seedRoot = () => benchCache(`registry-${SEED_VERSION}`);

/** The home of a registry with `count` bench models, seeding it first if it is not cached. */
export async function seededHome(count: number): Promise<string> {
  const root = seedRoot();
  const home = join(root, `home-${count}`);
  if (existsSync(join(home, 'mlmodel.db'))) return home;
  await seedTo(count);
  return home;
}

/** Grows the seeding home to `count` models and snapshots it as home-<count>. */
export async function seedTo(count: number): Promise<{ added: number; seconds: number }> {
  const root = seedRoot();
  const archives = smallArchives(join(root, 'archives'));
  const open = (home: string) => {
    mkdirSync(home, { recursive: true });
    return openRegistry({ env: { MLMODEL_HOME: home, MLMODEL_USER: 'bench', HOME: process.env.HOME } });
  };
  const newest = async (r: Awaited<ReturnType<typeof openRegistry>>) => Number((await r.run('mlmodel list | sort -id | head 1 | fields id')).rows[0]?.[0] ?? 0);
  let growing = join(root, 'seeding');
  let reg = await open(growing);
  let have = await newest(reg);
  if (have > count) {
    // Asked for a size below one already grown (e.g. bench:stream's 3,000
    // after bench:registry's 100,000 on a fresh machine): grown in a home of
    // its own, so it holds exactly `count` models.
    await reg.close();
    growing = join(root, `seeding-${count}`);
    reg = await open(growing);
    have = await newest(reg);
  }
  let added = 0;
  const started = performance.now();
  try {
    let last = started;
    const chunk = 256;
    for (let i = have; i < count; i += chunk) {
      const queries = [];
      for (let k = i; k < Math.min(count, i + chunk); k++) queries.push(parse(importLine(k, archives)));
      const outcomes = await reg.importBatch(queries, { concurrency: 32 });
      for (const o of outcomes) if (!('table' in o)) throw new Error(`seeding failed: ${JSON.stringify('error' in o ? String(o.error) : o)}`);
      added += queries.length;
      if (performance.now() - last > 10_000) {
        last = performance.now();
        log(`seeding: ${i + queries.length}/${count} models (${Math.round(added / ((last - started) / 1000))}/s)`);
      }
    }
  } finally {
    await reg.close();
  }
  const seconds = (performance.now() - started) / 1000;
  if (added) log(`seeded ${added} models in ${seconds.toFixed(0)} s (${Math.round(added / seconds)}/s)`);
  const home = join(root, `home-${count}`);
  const tmp = `${home}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  copyFileSync(join(growing, 'mlmodel.db'), join(tmp, 'mlmodel.db'));
  symlinkSync(join(growing, 'objects'), join(tmp, 'objects'));
  rmSync(home, { recursive: true, force: true });
  renameSync(tmp, home);
  return { added, seconds };
}
