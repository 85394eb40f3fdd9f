/** Tab after `path=OBJECTSTORAGE.X:` on a real MinIO connector (the test servers): keys level by level, and a bucket that does not exist. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { completeWithLookups, type Catalog } from '../../console/repl/complete.js';
import { registryBackend } from '../../console/repl/session.js';
import { loadConfig } from '../../src/config/index.js';
import { parseS3Url } from '../../src/config/location.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { describeWithServer } from '../servers/servers.js';

describeWithServer('minio', 'completing MinIO keys', (url) => {
  const base = url.replace(/\/+$/, '');
  const id = randomBytes(3).toString('hex');
  let root: string;
  let registry: Registry;
  let catalog: Catalog;

  beforeAll(async () => {
    const bucket = `${base}/mlmodel-complete-${id}`;
    const store = new MinioObjectStore({ location: parseS3Url(bucket, 'test') });
    await store.init();
    for (const key of ['USERS/root/model.tar', 'USERS/root/mnist_v1.tar', 'USERS/root/archive/old.tar', 'USERS/other/x.tar', 'top.tar']) {
      await store.put(key, Readable.from([Buffer.from(key)]));
    }
    root = await mkdtemp(join(tmpdir(), 'mlmodel-complete-minio-'));
    registry = await openRegistry({
      config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONNECTOR_LAKE: bucket, MLMODEL_CONNECTOR_GONE: `${base}/mlmodel-never-made-${id}` }),
    });
    catalog = await registryBackend(registry).catalog();
  });
  afterAll(async () => {
    await registry?.close();
    await rm(root, { recursive: true, force: true });
  });

  // A patient wait: the suite shares the machine with others (the timeout itself: test/console/repl/complete-lookups.test.ts).
  const tab = async (text: string) => completeWithLookups(text, text.length, catalog, 30_000);
  const imp = 'mlmodel import name=x type=tf path=';

  it('walks the keys level by level, objects and levels in key order', async () => {
    expect((await tab(`${imp}OBJECTSTORAGE.LAKE:`))!.shown).toEqual(['OBJECTSTORAGE.LAKE:top.tar', 'OBJECTSTORAGE.LAKE:USERS/'].sort());
    expect((await tab(`${imp}OBJECTSTORAGE.LAKE:U`))!.text).toBe(`${imp}OBJECTSTORAGE.LAKE:USERS/`);
    expect((await tab(`${imp}OBJECTSTORAGE.LAKE:USERS/root/`))!.shown).toEqual([
      'OBJECTSTORAGE.LAKE:USERS/root/archive/',
      'OBJECTSTORAGE.LAKE:USERS/root/mnist_v1.tar',
      'OBJECTSTORAGE.LAKE:USERS/root/model.tar',
    ]);
    expect((await tab(`${imp}OBJECTSTORAGE.LAKE:USERS/root/mo`))!.text).toBe(`${imp}OBJECTSTORAGE.LAKE:USERS/root/model.tar `);
  });

  it('leaves the word alone when the bucket does not exist', async () => {
    const text = `${imp}OBJECTSTORAGE.GONE:`;
    expect(await tab(text)).toEqual({ text, cursor: text.length, shown: [] });
  });
});
