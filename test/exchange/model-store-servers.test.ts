/**
 * The model store (config model_store, FATE-Flow's enable_model_store): every
 * deploy pushes the deployed version as a bundle, after the deploy answered.
 * To a directory on the embedded stores and to a MinIO connector on FerretDB
 * + MinIO: pushed, and the bundle imports elsewhere with the digest reported.
 * To a store that is down: the deploy succeeds and serves all the same, the
 * push is retried PUSH_ATTEMPTS times and reported failed, without the
 * store's secret.
 */
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { PUSH_ATTEMPTS } from '../../src/exchange/model-store.js';
import { file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
import { column, embeddedRegistry, serverRegistry, type TestRegistry } from './stores.js';

type Row = Record<string, unknown>;

/** The push rows once none is pending (a hang bound, not a speed assertion). */
async function settledPushes(reg: Registry): Promise<Row[]> {
  const end = Date.now() + 60_000;
  for (;;) {
    const t = await reg.run('mlmodel remotes');
    const rows = t.rows.map((r: readonly unknown[]) => Object.fromEntries(t.columns.map((c, i) => [c.name, r[i]])));
    if (rows.length > 0 && rows.every((r) => r.state !== 'pending')) return rows;
    if (Date.now() > end) throw new Error(`pushes still pending: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deployWithStore(base: TestRegistry, store: Env): Promise<{ reg: Registry; rows: Row[]; deployed: readonly unknown[] }> {
  const work = await mkdtemp(join(tmpdir(), 'mlmodel-store-'));
  await writeFile(join(work, 'm.tar'), tar(file('saved_model.pb', 'graph'), file('variables/variables.index', Buffer.alloc(2000, 3))));
  const reg = await openRegistry({ config: loadConfig({ ...base.env, ...store }) });
  await reg.run(`mlmodel import name=m type=tf path=${join(work, 'm.tar')}`);
  await reg.run('mlmodel alias m@1 champion');
  const deployed = (await reg.run("mlmodel deploy m label='stable'")).rows[0]!;
  return { reg, rows: await settledPushes(reg), deployed };
}

function storeSuite(open: () => Promise<TestRegistry>, storeFor: (t: TestRegistry, dir: string) => Env) {
  it('pushes each deployed version as a bundle that imports elsewhere', async () => {
    const base = await open();
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-pushed-'));
    const { reg, rows, deployed } = await deployWithStore(base, storeFor(base, dir));
    try {
      expect(deployed).toEqual(['on', 1, 'root_m']);
      expect(rows.map((r) => [r.name, r.user, r.version, r.state, r.attempts, r.error])).toEqual([['m', 'root', 1, 'pushed', 1, null]]);
      const other = await embeddedRegistry();
      try {
        const location = String(rows[0]!.location);
        // The pushed bundle is read back through the same location syntax.
        const otherReg = await openRegistry({ config: loadConfig({ ...other.env, MLMODEL_CONNECTOR_MIN_AI: base.env.MLMODEL_CONNECTOR_MIN_AI }) });
        try {
          const imported = await otherReg.run(`mlmodel unbundle path=${location} sha256=${String(rows[0]!.manifest_sha256)}`);
          expect(column(imported, 'result')).toEqual(['imported']);
          expect(column(await otherReg.run('mlmodel versions m'), 'aliases')).toEqual(['champion']);
        } finally {
          await otherReg.close();
        }
      } finally {
        await other.close();
      }
      // A second deploy of the version pushes it again, replacing the first push: its serving history has grown by one.
      await reg.run('mlmodel deploy m');
      const again = await settledPushes(reg);
      expect(again.map((r) => [r.version, r.state, r.location])).toEqual([[1, 'pushed', rows[0]!.location]]);
      expect(again[0]!.manifest_sha256).not.toBe(rows[0]!.manifest_sha256);
    } finally {
      await reg.close();
      await base.close();
    }
  }, 120_000);
}

describe('model store on the embedded stores', () => {
  storeSuite(embeddedRegistry, (_t, dir) => ({ MLMODEL_MODEL_STORE: dir }));

  it('a store that is down never fails the deploy; the push is retried and reported failed', async () => {
    const base = await embeddedRegistry();
    const secret = 'Sup3rSecretKey0123';
    const store = { MLMODEL_CONNECTOR_DEAD: `http://pushkey:${secret}@127.0.0.1:1/bucket`, MLMODEL_MODEL_STORE: 'OBJECTSTORAGE.DEAD:pushes' };
    const { reg, rows, deployed } = await deployWithStore(base, store);
    try {
      expect(deployed).toEqual(['on', 1, 'root_m']);
      expect((await reg.run('serving status m')).rows.map((r) => r[1])).toEqual(['AVAILABLE']);
      expect(rows.map((r) => [r.state, r.attempts, r.location])).toEqual([['failed', PUSH_ATTEMPTS, 'OBJECTSTORAGE.DEAD:pushes/root/m/1.tar']]);
      expect(String(rows[0]!.error)).toMatch(/^STORE_UNAVAILABLE: /);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect((await reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
    } finally {
      await reg.close();
      await base.close();
    }
  }, 120_000);

  it('a model store that is not a location is refused when the configuration loads', async () => {
    for (const bad of ['relative/dir', 'OBJECTSTORAGE.X:../up', 'OBJECTSTORAGE.X:/abs', '/a/../b', 'http://host/x']) {
      expect(() => loadConfig({ HOME: '/tmp', MLMODEL_HOME: '/tmp/x', MLMODEL_MODEL_STORE: bad })).toThrow(/MLMODEL_MODEL_STORE: expected/);
    }
    await stat('/tmp');
  });
});

describeWithServer('mongodb', 'model store on FerretDB', (mongoUrl) => {
  describeWithServer('minio', '+ MinIO, pushing to a MinIO connector', (minioUrl) => {
    storeSuite(() => serverRegistry(mongoUrl, minioUrl), () => ({ MLMODEL_MODEL_STORE: 'OBJECTSTORAGE.MIN_AI:pushes' }));
  });
});
