/** The tracking conformance suite on the embedded SQLite store, in a file of its own per store as the registry's is. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteTrackingStore } from '../../src/tracking/sqlite.js';
import type { TrackingStore } from '../../src/tracking/store.js';
import { trackingConformance } from './conformance.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-tracking-'));
const opened: TrackingStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const paths = new WeakMap<TrackingStore, string>();

async function open(path: string): Promise<TrackingStore> {
  const store = new SqliteTrackingStore({ path });
  await store.init();
  paths.set(store, path);
  opened.push(store);
  return store;
}

describe('SQLite tracking store', () =>
  trackingConformance({
    open: () => open(join(root, `db-${++n}`, 'mlmodel.db')),
    reopen: (store) => open(paths.get(store)!),
  }));

describe('SQLite tracking store made before its search and chart tables', () => {
  it('fills tracking_values and tracking_blocks from the runs and points it has, and answers as before', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { F } = await import('../../src/store/filter.js');
    const { runRecord } = await import('./conformance.js');
    const path = join(root, 'older', 'mlmodel.db');
    const s = await open(path);
    const T = new Date(Date.UTC(2025, 0, 1));
    for (let i = 1; i <= 30; i++) {
      await s.insertRun(runRecord({ id: i, params: { lr: [0.1, 0.01, 'x', true][i % 4]! }, tags: { t: `v${i % 3}` } }));
      await s.logMetrics(i, [{ key: 'acc', step: i % 5, value: (i * 37) % 11, time: T }], T);
    }
    await s.logMetrics(1, Array.from({ length: 50_000 }, (_, k) => ({ key: 'loss', step: k, value: Math.cos(k / 300) + (k === 41_234 ? 9 : 0), time: T })), T);
    const queries = [
      { filter: F.and(F.lt('params.lr', 0.5), F.gt('metrics.acc', 3)), sort: [['metrics.acc', -1]] as Array<[string, 1 | -1]>, limit: 4 },
      { filter: F.eq('tags.t', 'v1'), sort: [['params.lr', 1]] as Array<[string, 1 | -1]> },
      { sort: [['metric_steps.acc', -1]] as Array<[string, 1 | -1]>, limit: 7 },
    ];
    const before = await Promise.all(queries.map((q) => s.findRuns(q)));
    const series = await s.metricSeries(1, 'loss', 500);
    await s.close();
    // What an older version left: no search or chart tables.
    const db = new Database(path);
    db.exec('DROP TABLE tracking_values; DROP TABLE tracking_blocks;');
    db.close();
    const again = await open(path);
    expect(await Promise.all(queries.map((q) => again.findRuns(q)))).toEqual(before);
    expect(before[0]!.length).toBeGreaterThan(0);
    expect(await again.metricSeries(1, 'loss', 500)).toEqual(series);
    expect(series.values).toContain(Math.cos(41_234 / 300) + 9);
  }, 60_000);
});
