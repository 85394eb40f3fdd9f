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
    // What an older version left: no search or chart tables, and the params and tags only in the runs' documents.
    const db = new Database(path);
    db.exec(`UPDATE tracking_runs SET doc = json_set(doc,
        '$.params', (SELECT json_group_object(key, CASE rank WHEN 8 THEN json(iif(value, 'true', 'false')) ELSE value END) FROM tracking_values WHERE run = id AND kind = 0),
        '$.tags', (SELECT json_group_object(key, value) FROM tracking_values WHERE run = id AND kind = 1));
      DROP TABLE tracking_values; DROP TABLE tracking_blocks; DROP TABLE tracking_migrations;`);
    db.close();
    const again = await open(path);
    expect(await Promise.all(queries.map((q) => again.findRuns(q)))).toEqual(before);
    expect(before[0]!.length).toBeGreaterThan(0);
    expect(await again.metricSeries(1, 'loss', 500)).toEqual(series);
    expect(series.values).toContain(Math.cos(41_234 / 300) + 9);
  }, 60_000);
});

describe('a home whose runs keep their params and tags in their documents (the tracking code before they became rows only)', () => {
  /** The fixture: that home's database as SQL, made by the registry of that code through the language (runs 1–3 of user alice). */
  const fixture = join(import.meta.dirname, 'fixtures', 'home-params-in-documents.sql');

  async function olderHome(): Promise<string> {
    const { default: Database } = await import('better-sqlite3');
    const { mkdirSync, readFileSync } = await import('node:fs');
    const home = join(root, `older-home-${++n}`);
    mkdirSync(home, { recursive: true });
    const db = new Database(join(home, 'mlmodel.db'));
    db.exec(readFileSync(fixture, 'utf8'));
    db.close();
    return home;
  }

  it('opens, shows and searches by its params through the language, and a param stays immutable', async () => {
    const { loadConfig } = await import('../../src/config/index.js');
    const { openRegistry } = await import('../../src/engine/registry.js');
    const home = await olderHome();
    const reg = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'alice' }) });
    try {
      const runs = await reg.run('mlmodel runs | sort id');
      const params = runs.columns.findIndex((c) => c.name === 'params');
      expect(runs.rows.map((r) => r[params])).toEqual([
        { batch_size: 32, epochs: 10, lr: 0.01, nesterov: true, note: 'a b', opt: 'sgd' },
        { lr: 0.1, opt: 'adam' },
        { lr: 0.001 },
      ]);
      const found = await reg.run("mlmodel runs | where params.lr < 0.05 and params.opt = 'sgd' | sort -metrics.acc");
      expect(found.rows.map((r) => r[0])).toEqual([1]);
      expect((await reg.run('mlmodel runs | where params.lr < 1 | sort params.lr')).rows.map((r) => r[0])).toEqual([3, 1, 2]);
      // The same value again is a no-op, another value CONFLICT with nothing written, a new name is added.
      await reg.run('mlmodel log params 2 lr=0.1 seed=7');
      await expect(reg.run('mlmodel log params 2 opt=sgd extra=1')).rejects.toMatchObject({ code: 'CONFLICT' });
      await reg.run('mlmodel log tags 2 stage=b');
      const two = await reg.run('mlmodel runs | where id = 2');
      expect(two.rows[0]![params]).toEqual({ lr: 0.1, opt: 'adam', seed: 7 });
    } finally {
      await reg.close();
    }
  }, 60_000);

  it('takes params and tags out of the documents once, in the open, and answers every run as before', async () => {
    const { default: Database } = await import('better-sqlite3');
    const path = join(await olderHome(), 'mlmodel.db');
    const docs = () => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT doc FROM tracking_runs ORDER BY id').pluck().all() as string[]).map((d) => JSON.parse(d) as Record<string, unknown>);
      } finally {
        db.close();
      }
    };
    const before = docs();
    expect(before.every((d) => 'params' in d && 'tags' in d)).toBe(true);
    const s = await open(path);
    const after = docs();
    expect(after.some((d) => 'params' in d || 'tags' in d)).toBe(false);
    // Nothing else in a document changed.
    expect(after).toEqual(before.map(({ params: _p, tags: _t, ...rest }) => rest));
    const runs = await s.findRuns({ sort: [['id', 1]] });
    expect(runs.map((r) => ({ params: r.params, tags: r.tags, metrics: r.metrics, status: r.status }))).toEqual(
      before.map((d) => ({ params: d.params, tags: d.tags, metrics: d.metrics, status: d.status })),
    );
    expect(await s.getRun(1)).toEqual(runs[0]);
    // A second open finds nothing to do.
    await s.close();
    await open(path);
    expect(docs()).toEqual(after);
  }, 60_000);
});
