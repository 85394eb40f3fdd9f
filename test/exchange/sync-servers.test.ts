/**
 * mlmodel sync between an embedded registry and a remote one — another
 * embedded registry, and FerretDB + MinIO — in both directions: the
 * versions missing travel with every fact (the same bundle manifest on both
 * sides afterwards), a rerun moves nothing and stores no object, a new
 * version alone travels next time, `where=` picks models on the sending
 * side, and a version held there with other bytes is a conflict row while
 * the rest of the model still travels and nothing there is overwritten.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { dir, file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
import { column, embeddedRegistry, serverRegistry, snapshot, type TestRegistry } from './stores.js';

const savedModel = (seed: number) => tar(dir('export/'), file('export/saved_model.pb', Buffer.from(`graph ${seed}`)), file('export/variables/variables.data', Buffer.alloc(2000 + seed, seed % 251)));

/** A registry of its own that reaches `remote` as the registry "central", through its config file. */
async function localWith(remote: TestRegistry): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'mlmodel-sync-'));
  const env = { HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' };
  const e = remote.env;
  const entry = e.MLMODEL_MONGODB_URL
    ? { mongodb_url: e.MLMODEL_MONGODB_URL, minio_url: e.MLMODEL_MINIO_URL, serving_base: e.MLMODEL_SERVING_BASE }
    : { home: e.MLMODEL_HOME };
  const { mkdir } = await import('node:fs/promises');
  await mkdir(env.MLMODEL_HOME, { recursive: true });
  // JSON is YAML.
  await writeFile(join(env.MLMODEL_HOME, 'config.yaml'), JSON.stringify({ registries: { Central: entry } }));
  const reg = await openRegistry({ config: loadConfig(env) });
  return { env, reg, close: () => reg.close() };
}

function syncSuite(makeRemote: () => Promise<TestRegistry>): void {
  let work: string;
  let remote: TestRegistry;
  let local: TestRegistry;
  let n = 0;
  const archive = async (seed: number) => {
    const p = join(work, `a${seed}-${n++}.tar`);
    await writeFile(p, savedModel(seed));
    return p;
  };
  const rows = (t: { columns: readonly { name: string }[]; rows: readonly (readonly unknown[])[] }) => t.rows.map((r) => [column(t, 'result')[t.rows.indexOf(r)], r[1], r[2]]);
  /** The manifest digest of a bundle of every version: equal on both sides when every fact travelled. */
  const manifest = async (t: TestRegistry, name: string) => String(column(await t.reg.run(`mlmodel bundle ${name} to=${join(work, `b-${n++}.tar`)} all=true`), 'manifest_sha256')[0]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mlmodel-sync-work-'));
    remote = await makeRemote();
    local = await localWith(remote);
  }, 60_000);
  afterAll(async () => {
    await local?.close();
    await remote?.close();
  });

  it('pushes every version with its facts, then moves nothing on a rerun, then only the new version', async () => {
    const run = (q: string) => local.reg.run(q);
    for (const v of [1, 2, 3]) await run(`mlmodel import name=m type=tf category=classification path=${await archive(v)} description='v${v}' parameter='{"epochs": ${v}}'`);
    await run('mlmodel delete m@2');
    await run('mlmodel tag m@3 prod');
    await run('mlmodel alias m@1 champion');
    const first = await run('mlmodel sync m to=central');
    expect(rows(first)).toEqual([
      ['copied', 'm', 1],
      ['copied', 'm', 3],
    ]);
    expect(await manifest(remote, 'm')).toBe(await manifest(local, 'm'));
    expect(column(await remote.reg.run('mlmodel versions m'), 'aliases')).toEqual(['champion', '']);

    const before = await snapshot(remote);
    const again = await run('mlmodel sync m to=CENTRAL');
    expect(rows(again)).toEqual([
      ['present', 'm', 1],
      ['present', 'm', 3],
    ]);
    const after = await snapshot(remote);
    expect(after.objects).toEqual(before.objects);
    expect(after.records).toEqual(before.records);

    await run(`mlmodel import name=m type=tf path=${await archive(4)}`);
    expect(rows(await run('mlmodel sync m to=central'))).toEqual([
      ['present', 'm', 1],
      ['present', 'm', 3],
      ['copied', 'm', 4],
    ]);
    expect(column(await remote.reg.run('mlmodel versions m'), 'latest')).toEqual([false, false, true]);
    expect(await manifest(remote, 'm')).toBe(await manifest(local, 'm'));
    // One version by name.
    await run(`mlmodel import name=one type=tf path=${await archive(5)}`);
    await run(`mlmodel import name=one type=tf path=${await archive(6)}`);
    expect(rows(await run('mlmodel sync one@2 to=central'))).toEqual([['copied', 'one', 2]]);
    expect(column(await remote.reg.run('mlmodel versions one'), 'version')).toEqual([2]);
    expect(rows(await run('mlmodel sync one to=central'))).toEqual([
      ['copied', 'one', 1],
      ['present', 'one', 2],
    ]);
  }, 120_000);

  it('pulls the models matching where= on the remote, and only those', async () => {
    const r = (q: string) => remote.reg.run(q);
    await r(`mlmodel import name=w_a type=tf category=vision path=${await archive(11)}`);
    await r(`mlmodel import name=w_b type=tf category=vision path=${await archive(12)}`);
    await r(`mlmodel import name=w_b type=tf category=vision path=${await archive(13)}`);
    await r(`mlmodel import name=w_c type=tf category=text path=${await archive(14)}`);
    const pulled = await local.reg.run(`mlmodel sync from=central where="category = vision and name like 'w%'"`);
    expect(rows(pulled)).toEqual([
      ['copied', 'w_a', 1],
      ['copied', 'w_b', 1],
      ['copied', 'w_b', 2],
    ]);
    expect(column(await local.reg.run("mlmodel list | where name like 'w%' | sort name"), 'name')).toEqual(['w_a', 'w_b']);
    expect(await manifest(local, 'w_b')).toBe(await manifest(remote, 'w_b'));
    expect(rows(await local.reg.run(`mlmodel sync from=central where="category = vision"`)).map((x) => x[0])).toEqual(['present', 'present', 'present']);
  }, 120_000);

  it('reports a version held there with other bytes as a conflict, and moves the rest without overwriting it', async () => {
    await local.reg.run(`mlmodel import name=c type=tf path=${await archive(21)}`);
    await local.reg.run(`mlmodel import name=c type=tf path=${await archive(22)}`);
    await local.reg.run('mlmodel alias c@1 best');
    await remote.reg.run(`mlmodel import name=c type=tf path=${await archive(99)}`);
    await remote.reg.run('mlmodel alias c@1 best');
    const theirs = column(await remote.reg.run('mlmodel versions c'), 'sha256');
    const out = await local.reg.run('mlmodel sync c to=central');
    expect(rows(out)).toEqual([
      ['conflict', 'c', 1],
      ['copied', 'c', 2],
    ]);
    expect(String(column(out, 'note')[0])).toMatch(/c@1 is on the receiving side with sha256 [0-9a-f]{64}, the sending side's has [0-9a-f]{64}/);
    const after = await remote.reg.run('mlmodel versions c');
    expect(column(after, 'sha256')[0]).toEqual(theirs[0]);
    expect(column(after, 'version')).toEqual([1, 2]);
    // An alias pointing elsewhere there: a conflict row of its own, left as it is.
    await local.reg.run('mlmodel alias c@2 best');
    const aliased = await local.reg.run('mlmodel sync c to=central');
    expect(rows(aliased)).toEqual([
      ['conflict', 'c', 1],
      ['present', 'c', 2],
      ['conflict', 'c', null],
    ]);
    expect(String(column(aliased, 'note')[2])).toMatch(/alias best points at c@1 on the receiving side, the sending side's at @2/);
    expect(column(await remote.reg.run('mlmodel versions c'), 'aliases')).toEqual(['best', '']);
    // A model of another type there: every version is a conflict.
    await local.reg.run(`mlmodel import name=t type=tf path=${await archive(31)}`);
    await local.reg.run(`mlmodel import name=t type=tf path=${await archive(32)}`);
    const pickle = join(work, 'pickle.tar');
    await writeFile(pickle, tar(file('model.pkl', Buffer.from('not really a pickle'))));
    await remote.reg.run(`mlmodel import name=t type=sklearn path=${pickle}`);
    const typed = await local.reg.run('mlmodel sync t to=central');
    expect(rows(typed)).toEqual([
      ['conflict', 't', 1],
      ['conflict', 't', 2],
    ]);
    expect(String(column(typed, 'note')[0])).toMatch(/t is a sklearn model on the receiving side; the sending side holds a tf model/);
    expect(column(await remote.reg.run('mlmodel versions t'), 'version')).toEqual([1]);
  }, 120_000);

  it('carries tags and aliases to versions both sides hold, in either direction; an alias pointing elsewhere is a conflict, never moved', async () => {
    const run = (q: string) => local.reg.run(q);
    for (const v of [1, 2]) await run(`mlmodel import name=labels type=tf path=${await archive(40 + v)}`);
    expect(rows(await run('mlmodel sync labels to=central'))).toEqual([
      ['copied', 'labels', 1],
      ['copied', 'labels', 2],
    ]);
    // Each side gains labels the other lacks; one alias points at different versions on the two sides.
    await run('mlmodel tag labels@1 reviewed, prod');
    await run('mlmodel alias labels@2 champion');
    await run('mlmodel alias labels@1 stable');
    await remote.reg.run('mlmodel tag labels@1 audited');
    await remote.reg.run('mlmodel alias labels@2 stable');
    await remote.reg.run('mlmodel alias labels@1 canary');
    const before = await snapshot(remote);

    const pushed = await run('mlmodel sync labels to=central');
    expect(pushed.rows.map((r) => [r[0], r[2], r[5]])).toEqual([
      ['updated', 1, 'carried over: tags reviewed, prod'],
      ['updated', 2, 'carried over: alias champion'],
      ['conflict', null, expect.stringMatching(/^alias stable points at labels@2 on the receiving side, the sending side's at @1/)],
    ]);
    const tagsOf = async (t: TestRegistry) => column(await t.reg.run('mlmodel versions labels'), 'tags').map(String);
    const aliasesOf = async (t: TestRegistry) => column(await t.reg.run('mlmodel versions labels'), 'aliases').map(String);
    // versions lists the oldest first.
    expect(await tagsOf(remote)).toEqual(['audited,reviewed,prod', '']);
    expect(await aliasesOf(remote)).toEqual(['canary', 'champion,stable']);
    // No object was stored or removed: labels are records only.
    expect((await snapshot(remote)).objects).toEqual(before.objects);

    const pulled = await run('mlmodel sync labels from=central');
    expect(pulled.rows.map((r) => [r[0], r[2], r[5]])).toEqual([
      ['updated', 1, 'carried over: tags audited; alias canary'],
      ['present', 2, 'already there with the same sha256'],
      ['conflict', null, expect.stringMatching(/^alias stable points at labels@1 on the receiving side, the sending side's at @2/)],
    ]);
    expect(await tagsOf(local)).toEqual(['reviewed,prod,audited', '']);
    expect(await aliasesOf(local)).toEqual(['canary,stable', 'champion']);
    // In sync now: a rerun changes nothing either way.
    expect((await run('mlmodel sync labels to=central')).rows.map((r) => r[0])).toEqual(['present', 'present', 'conflict']);
    expect((await run('mlmodel sync labels from=central')).rows.map((r) => r[0])).toEqual(['present', 'present', 'conflict']);
  }, 120_000);

  it('refuses bad arguments with a clear error', async () => {
    const fails = async (q: string, re: RegExp) => {
      const e: unknown = await local.reg.run(q).then(
        () => null,
        (x: unknown) => x,
      );
      expect(isMlmodelError(e, 'INVALID_ARGUMENT') && re.test(e.message)).toBe(true);
    };
    await fails('mlmodel sync m', /to=REMOTE .* or from=REMOTE/);
    await fails('mlmodel sync m to=central from=central', /one of them/);
    await fails('mlmodel sync to=central', /name the models/);
    await fails('mlmodel sync m to=central where="type = tf"', /not both/);
    await fails('mlmodel sync m to=elsewhere', /no registry called "elsewhere".*configured: central/);
    await fails('mlmodel sync to=central where="type = = tf"', /not a list condition/);
    await fails('mlmodel sync to=central where="type = tf | head 1"', /one condition/);
    await fails('mlmodel sync bob/m to=central', /your own models/);
  });
}

describe('sync: embedded ↔ embedded', () => {
  syncSuite(embeddedRegistry);
});

describeWithServer('mongodb', 'sync: embedded ↔ FerretDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    syncSuite(() => serverRegistry(mongoUrl, minioUrl));
  });
});
