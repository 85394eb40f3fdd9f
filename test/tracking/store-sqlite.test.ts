/** The tracking conformance suite on the embedded SQLite store, in a file of its own per store as the registry's is. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
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
