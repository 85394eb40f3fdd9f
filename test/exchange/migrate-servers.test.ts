/**
 * migrate, on both store pairs: an admin moves alice's served model to bob —
 * versions, tags, aliases, serving — while a watcher reads models.config over
 * and over and checks that every version it lists has its directory. Only
 * admins may migrate; a name the new owner already has refuses and changes
 * nothing; fsck finds nothing afterwards.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openServingTarget } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
import { column, embeddedRegistry, serverRegistry, snapshot, type TestRegistry } from './stores.js';

/** Every (serving name, version) models.config lists. */
function listed(config: string | null): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const block of (config ?? '').split('  config {').slice(1)) {
    const name = /name: '([^']*)'/.exec(block)![1]!;
    for (const m of block.matchAll(/versions: (\d+)/g)) out.push([name, Number(m[1])]);
  }
  return out;
}

function migrateSuite(open: () => Promise<TestRegistry>) {
  let t: TestRegistry;
  let work: string;
  const as = (user: string, q: string, admin = false) => t.reg.run(q, { user, admin });
  const fails = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

  beforeAll(async () => {
    t = await open();
    work = await mkdtemp(join(tmpdir(), 'mlmodel-migrate-'));
    for (const v of [1, 2]) {
      await writeFile(join(work, `m${v}.tar`), tar(file('saved_model.pb', `graph ${v}`), file('variables/variables.index', Buffer.alloc(900, v))));
      await as('alice', `mlmodel import name=m type=tf path=${join(work, `m${v}.tar`)} description='v${v}'`);
    }
    await as('alice', 'mlmodel tag m@1 baseline');
    await as('alice', 'mlmodel alias m@1 champion');
    await as('alice', "mlmodel deploy m label='stable'");
    await as('alice', "mlmodel deploy m@1 label='old'");
    await as('bob', `mlmodel import name=taken type=tf path=${join(work, 'm1.tar')}`);
    await as('alice', `mlmodel import name=taken type=tf path=${join(work, 'm2.tar')}`);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('moves versions, tags, aliases and serving, and models.config never lists a missing directory', async () => {
    const before = await as('alice', 'mlmodel versions m');
    const serving = await openServingTarget(loadConfig(t.env));
    expect(listed(await serving.readConfig())).toEqual([['alice_m', 1], ['alice_m', 2]]);
    let done = false;
    let reads = 0;
    const missing: string[] = [];
    const watcher = (async () => {
      while (!done) {
        for (const [name, v] of listed(await serving.readConfig())) if (!(await serving.hasVersion(name, v))) missing.push(`${name}/${v}`);
        reads++;
      }
    })();
    const moved = await as('carol', 'mlmodel migrate alice/m to=bob', true).finally(() => (done = true));
    await watcher;
    expect(missing).toEqual([]);
    expect(reads).toBeGreaterThan(2);
    expect(moved.rows.filter((r) => r[2] === 'm').map((r) => r[1])).toEqual(['bob']);

    const after = await as('bob', 'mlmodel versions m');
    // The same versions, archives, tags and aliases; the owner and the modified time are what changed.
    const same = (tbl: typeof before) => tbl.rows.map((r) => r.filter((_, i) => !['user', 'created'].includes(tbl.columns[i]!.name)));
    expect(same(after)).toEqual(same(before));
    expect(column(after, 'user')).toEqual(['bob', 'bob']);
    expect(column(after, 'aliases')).toEqual(['champion', '']);
    expect(isMlmodelError(await fails(as('alice', 'mlmodel summary alice/m')), 'MODEL_NOT_FOUND')).toBe(true);
    // Serving moved: the new name's versions, complete, and only they are listed.
    const config = await serving.readConfig();
    expect(listed(config)).toEqual([['bob_m', 3], ['bob_m', 4]]);
    expect(config).toContain("key: 'stable'");
    expect(config).toContain("key: 'old'");
    for (const v of [3, 4]) expect(await serving.hasVersion('bob_m', v)).toBe(true);
    const status = await as('bob', 'serving status m');
    expect(status.rows.map((r) => [r[0], r[1], r[2]])).toEqual([[1, 'STOPPED', 'stable'], [2, 'STOPPED', 'old'], [3, 'AVAILABLE', 'stable'], [4, 'AVAILABLE', 'old']]);
    expect(column(await as('bob', 'mlmodel summary m serving,serving_name'), 'value')).toEqual(['on', 'bob_m']);
    // Alice may now use the name again; bob's model works as his: stop, delete of a version.
    await as('alice', `mlmodel import name=m type=tf path=${join(work, 'm1.tar')}`);
    await as('bob', 'mlmodel stop m');
    expect(listed(await serving.readConfig())).toEqual([]);
    expect((await t.reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
  }, 60_000);

  it('is for admins only, refuses a name the new owner has, and then changes nothing', async () => {
    const before = await snapshot(t);
    for (const [user, q] of [['bob', 'mlmodel migrate bob/m to=alice'], ['alice', 'mlmodel migrate alice/taken to=dave']] as const) {
      const e = await fails(as(user, q));
      expect(isMlmodelError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toContain('only an admin');
    }
    const clash = await fails(as('carol', 'mlmodel migrate alice/taken to=bob', true));
    expect(isMlmodelError(clash, 'CONFLICT')).toBe(true);
    expect((clash as Error).message).toContain('bob already has a model called taken');
    expect(isMlmodelError(await fails(as('carol', 'mlmodel migrate alice/taken to=../x', true)), 'INVALID_ARGUMENT')).toBe(true);
    expect(await snapshot(t)).toEqual(before);
    // With as=, under another name: the records keep their uids, so nothing is copied.
    await as('carol', 'mlmodel migrate alice/taken to=bob as=from_alice', true);
    expect(column(await as('bob', 'mlmodel versions from_alice'), 'user')).toEqual(['bob']);
    const after = await snapshot(t);
    expect(after.objects).toEqual(before.objects);
    expect((await t.reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
  }, 60_000);
}

describe('migrate on the embedded stores', () => {
  migrateSuite(embeddedRegistry);
});

describeWithServer('mongodb', 'migrate on FerretDB', (mongoUrl) => {
  describeWithServer('minio', '+ MinIO', (minioUrl) => {
    migrateSuite(() => serverRegistry(mongoUrl, minioUrl));
  });
});
