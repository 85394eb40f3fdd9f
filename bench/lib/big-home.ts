/**
 * A bench registry of many models: the bench's 3,000 real imports
 * (seed.ts) and their rows copied in SQL to `count` under new names, ids
 * and uids (importing a million archives one by one takes hours on these
 * machines); cached under ~/.cache/mlmodel/bench/web-<count> (bench:web and
 * bench:stream share it).
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { benchCache, log } from './cache.js';
import { fmt } from './report.js';
import { seededHome } from './seed.js';

const REAL = 3000;

/** A registry of `count` models: REAL real imports, their rows copied under new names in one transaction. */
export async function bigHome(count: number): Promise<string> {
  const home = benchCache(`web-${count}`);
  if (existsSync(join(home, 'mlmodel.db'))) return home;
  const seed = await seededHome(Math.min(REAL, count));
  const tmp = `${home}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  copyFileSync(join(seed, 'mlmodel.db'), join(tmp, 'mlmodel.db'));
  symlinkSync(join(seed, 'objects'), join(tmp, 'objects'));
  const t = performance.now();
  const db = new Database(join(tmp, 'mlmodel.db'));
  const cols = (db.prepare('PRAGMA table_info(models)').all() as { name: string }[]).map((c) => c.name);
  const set: Record<string, string> = {
    uid: "m.uid || '-' || k.n",
    model_uid: "m.model_uid || '-' || k.n",
    id: 'k.n',
    name: "'web-' || k.n",
    // Spread in time, so a sort by modified is not one long tie.
    modified: 'm.modified + k.n * 1000',
    doc: "json_set(m.doc, '$.uid', m.uid || '-' || k.n, '$.model_uid', m.model_uid || '-' || k.n, '$.id', k.n, '$.name', 'web-' || k.n, '$.modified', strftime('%Y-%m-%dT%H:%M:%fZ', (m.modified + k.n * 1000) / 1000.0, 'unixepoch'))",
  };
  const n = Math.min(REAL, count);
  db.exec('BEGIN');
  db.prepare(
    `WITH RECURSIVE k(n) AS (SELECT ${n + 1} UNION ALL SELECT n + 1 FROM k WHERE n < ${count})
     INSERT INTO models (${cols.map((c) => `"${c}"`).join(', ')})
     SELECT ${cols.map((c) => set[c] ?? `m."${c}"`).join(', ')} FROM k JOIN models m ON m.id = ((k.n - 1) % ${n}) + 1`,
  ).run();
  db.exec('COMMIT');
  db.exec('ANALYZE');
  db.close();
  log(`copied ${count - n} model rows in ${fmt((performance.now() - t) / 1000, 1)} s`);
  rmSync(home, { recursive: true, force: true });
  renameSync(tmp, home);
  return home;
}

