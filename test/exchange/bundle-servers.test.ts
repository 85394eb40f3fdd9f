/**
 * Bundles between registries: export from the embedded registry, import into
 * FerretDB + MinIO, export again — the same manifest, the same bytes; and
 * back into another embedded registry through a connector. Every fact is
 * compared, not only the digests; a rerun is idempotent, a single-version
 * bundle and then the whole model add only what is missing, and a conflict
 * refuses the whole bundle and leaves nothing behind.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMlmodelError } from '../../src/errors.js';
import { dir, file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
import { column, embeddedRegistry, serverRegistry, snapshot, tarFiles, type TestRegistry } from './stores.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const savedModel = (weights: number) =>
  tar(dir('export/'), dir('export/1/'), file('export/1/saved_model.pb', Buffer.from(`graph ${weights}`)), file('export/1/variables/variables.data-00000-of-00001', Buffer.alloc(3000 + weights, weights)));

let work: string;
let source: TestRegistry;
let bundleA: string;
let bundleOne: string;
let manifestA: string;

/** What a person can see of a model: its versions with tags and aliases, and each version's summary minus registry-local ids. */
async function facts(t: TestRegistry, name: string): Promise<unknown> {
  const versions = await t.reg.run(`mlmodel versions ${name}`);
  const out: unknown[] = [versions.columns.map((c) => c.name), versions.rows.map((r) => r.map((c) => (c instanceof Date ? c.toISOString() : c)))];
  for (const v of column(versions, 'version')) {
    const s = await t.reg.run(`mlmodel summary ${name}@${String(v)}`);
    out.push(s.rows.filter((r) => !['id', 'serving', 'serving_name', 'state'].includes(String(r[0]))).map((r) => [r[0], r[1] instanceof Date ? r[1].toISOString() : r[1]]));
  }
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlmodel-bundles-'));
  source = await embeddedRegistry();
  const run = (q: string) => source.reg.run(q);
  for (const v of [1, 2, 3]) {
    await writeFile(join(work, `m${v}.tar`), savedModel(v));
    await run(`mlmodel import name=m type=tf category=classification algorithm=deep path=${join(work, `m${v}.tar`)} description='version ${v}' parameter='{"epochs": ${v}}' train_cnt=${v * 100}`);
  }
  // A gap (deleted version 2), tags, two aliases and a deployment: facts a bundle must carry.
  await run('mlmodel delete m@2');
  await run('mlmodel tag m@3 prod, reviewed');
  await run('mlmodel tag m@1 baseline');
  await run('mlmodel alias m@1 champion');
  await run('mlmodel alias m@3 newest');
  await run("mlmodel deploy m label='stable'");
  bundleA = join(work, 'a.tar');
  const made = await run(`mlmodel bundle m to=${bundleA} all=true`);
  expect(made.rows[0]!.slice(0, 4)).toEqual(['ok', 'm', '1,3', bundleA]);
  manifestA = String(column(made, 'manifest_sha256')[0]);
  const bytes = await readFile(bundleA);
  // The manifest's digest names the bundle: the command answers with no digest of the whole file.
  expect(made.columns.map((c) => c.name)).not.toContain('sha256');
  expect(column(made, 'size')[0]).toBe(bytes.length);
  bundleOne = join(work, 'one.tar');
  await run(`mlmodel bundle m@champion to=${bundleOne}`);
}, 120_000);

afterAll(async () => {
  await source?.close();
});

it('a bundle holds the manifest first, its digest, and exactly the files it lists', async () => {
  const files = await tarFiles(bundleA);
  expect([...files.keys()]).toEqual(['bundle.json', 'bundle.sha256', 'model.json', 'serving.json', 'versions/1/record.json', 'versions/1/archive', 'versions/3/record.json', 'versions/3/archive']);
  const manifest = JSON.parse(files.get('bundle.json')!.toString()) as { format: string; format_version: number; files: Array<{ path: string; sha256: string; size: number }>; sections: Array<{ type: string }> };
  expect(sha256(files.get('bundle.json')!)).toBe(manifestA);
  expect(files.get('bundle.sha256')!.toString()).toBe(`${manifestA}  bundle.json\n`);
  expect([manifest.format, manifest.format_version]).toEqual(['mlmodel-bundle', 1]);
  for (const f of manifest.files) expect([f.path, sha256(files.get(f.path)!), files.get(f.path)!.length]).toEqual([f.path, f.sha256, f.size]);
  expect(manifest.sections.map((s) => s.type)).toEqual(['model', 'serving', 'version', 'version']);
  expect(files.get('versions/3/archive')!.equals(savedModel(3))).toBe(true);
  const model = JSON.parse(files.get('model.json')!.toString()) as { aliases: unknown };
  expect(model.aliases).toEqual([{ alias: 'champion', version: 1 }, { alias: 'newest', version: 3 }]);
  const serving = JSON.parse(files.get('serving.json')!.toString()) as { deployments: Array<Record<string, unknown>> };
  expect(serving.deployments.map((d) => [d.serving_name, d.serving_version, d.model_version, d.label, d.state])).toEqual([['root_m', 1, 3, 'stable', 'AVAILABLE']]);
  // A bundle is deterministic: made again, byte for byte the same.
  const again = join(work, 'again.tar');
  await source.reg.run(`mlmodel bundle m to=${again} all=true`);
  expect((await readFile(again)).equals(await readFile(bundleA))).toBe(true);
});

/** The round trip on one target registry, and the rules that hold on it. */
function roundTrip(open: () => Promise<TestRegistry>, connectorKey: (t: TestRegistry) => string) {
  let target: TestRegistry;
  beforeAll(async () => {
    target = await open();
  }, 60_000);
  afterAll(async () => {
    await target?.close();
  });

  it('imports every fact, and a second export gives the same manifest and the same bytes', async () => {
    const imported = await target.reg.run(`mlmodel unbundle path=${bundleA} sha256=${manifestA}`);
    expect(imported.rows.map((r) => r.slice(0, 3))).toEqual([['imported', 'm', 1], ['imported', 'm', 3]]);
    expect(await facts(target, 'm')).toEqual(await facts(source, 'm'));
    expect((await target.reg.run('mlmodel list')).rows.map((r) => r[2])).toEqual(['m']);
    // Imported as history: the model is not served here.
    expect(column(await target.reg.run('mlmodel summary m serving'), 'value')).toEqual(['off']);

    const key = connectorKey(target);
    const again = await target.reg.run(`mlmodel bundle m to=${key} all=true`);
    expect(column(again, 'manifest_sha256')).toEqual([manifestA]);
    const back = join(work, `back-${Math.random().toString(36).slice(2)}.tar`);
    await target.reg.run(`mlmodel bundle m to=${back} all=true`);
    expect((await readFile(back)).equals(await readFile(bundleA))).toBe(true);
    // The archives are the same bytes, and unpack to the same files.
    const pulled = join(work, `pulled-${Math.random().toString(36).slice(2)}`);
    const rows = (await target.reg.run(`mlmodel pull m@newest to=${pulled}`)).rows.map((r) => [String(r[0]).slice(pulled.length), r[1], r[2]]);
    const orig = join(work, `orig-${Math.random().toString(36).slice(2)}`);
    expect(rows).toEqual((await source.reg.run(`mlmodel pull m@newest to=${orig}`)).rows.map((r) => [String(r[0]).slice(orig.length), r[1], r[2]]));
    expect(await target.reg.run('mlmodel fsck grace=0').then((t) => t.rows)).toEqual([]);
  });

  it('a second unbundle changes nothing', async () => {
    const before = await snapshot(target);
    const again = await target.reg.run(`mlmodel unbundle path=${bundleA}`);
    expect(again.rows.map((r) => [r[0], r[2], r[5]])).toEqual([['present', 1, 'already here with the same sha256'], ['present', 3, 'already here with the same sha256']]);
    expect(await snapshot(target)).toEqual(before);
  });

  it('one version, then the whole model: only the missing version travels, and the result is the same model', async () => {
    const one = await target.reg.run(`mlmodel unbundle path=${bundleOne} name=inc`);
    expect(one.rows.map((r) => r.slice(0, 3))).toEqual([['imported', 'inc', 1]]);
    expect(column(await target.reg.run('mlmodel versions inc'), 'aliases')).toEqual(['champion']);
    const rest = await target.reg.run(`mlmodel unbundle path=${bundleA} name=inc`);
    expect(rest.rows.map((r) => r.slice(0, 3))).toEqual([['present', 'inc', 1], ['imported', 'inc', 3]]);
    const whole = await target.reg.run(`mlmodel bundle inc to=${join(work, `inc-${Math.random().toString(36).slice(2)}.tar`)} all=true`);
    const files = await tarFiles(String(column(whole, 'location')[0]));
    const original = await tarFiles(bundleA);
    // The same model under another name: every file but model.json is the same.
    for (const [path, body] of original) if (!['model.json', 'bundle.json', 'bundle.sha256'].includes(path)) expect([path, files.get(path)?.equals(body)]).toEqual([path, true]);
    expect(JSON.parse(files.get('model.json')!.toString())).toEqual({ ...JSON.parse(original.get('model.json')!.toString()), name: 'inc' });
  });

  it('a conflicting version refuses the whole bundle and leaves nothing behind', async () => {
    await writeFile(join(work, 'other.tar'), savedModel(9));
    await target.reg.run(`mlmodel import name=clash type=tf path=${join(work, 'other.tar')}`);
    const before = await snapshot(target);
    const e = await target.reg.run(`mlmodel unbundle path=${bundleA} name=clash`).then(
      () => null,
      (x: unknown) => x,
    );
    expect(isMlmodelError(e, 'CONFLICT')).toBe(true);
    expect((e as Error).message).toContain('clash@1 is here with sha256');
    expect(await snapshot(target)).toEqual(before);
    // A wrong expected manifest digest, and a model of another type, are refused the same way.
    const wrong = await target.reg.run(`mlmodel unbundle path=${bundleA} name=fresh sha256=${'0'.repeat(64)}`).then(() => null, (x: unknown) => x);
    expect(isMlmodelError(wrong, 'CHECKSUM_MISMATCH')).toBe(true);
    await writeFile(join(work, 'onnx.tar'), tar(file('model.onnx', 'onnx')));
    await target.reg.run(`mlmodel import name=typed type=onnx path=${join(work, 'onnx.tar')}`);
    const before2 = await snapshot(target);
    const typed = await target.reg.run(`mlmodel unbundle path=${bundleA} name=typed`).then(() => null, (x: unknown) => x);
    expect(isMlmodelError(typed, 'CONFLICT')).toBe(true);
    expect(await snapshot(target)).toEqual(before2);
    expect(await target.reg.run('mlmodel fsck grace=0').then((t) => t.rows)).toEqual([]);
  });
}

describe('embedded → embedded', () => {
  roundTrip(embeddedRegistry, (t) => `OBJECTSTORAGE.MIN_AI:bundles/m-${t.env.MLMODEL_HOME!.length}.tar`);
});

describeWithServer('mongodb', 'embedded → FerretDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'and back', (minioUrl) => {
    roundTrip(() => serverRegistry(mongoUrl, minioUrl), () => 'OBJECTSTORAGE.MIN_AI:bundles/m.tar');

    it('from MinIO through a connector into another embedded registry', async () => {
      const server = await serverRegistry(mongoUrl, minioUrl);
      const back = await embeddedRegistry();
      try {
        await server.reg.run(`mlmodel unbundle path=${bundleA}`);
        const made = await server.reg.run('mlmodel bundle m to=OBJECTSTORAGE.MIN_AI:out/m.tar all=true');
        expect(column(made, 'manifest_sha256')).toEqual([manifestA]);
        // The embedded registry reads it from the same bucket through its own connector.
        const sameBucket = { ...back.env, MLMODEL_CONNECTOR_MIN_AI: server.env.MLMODEL_CONNECTOR_MIN_AI };
        const { openRegistry } = await import('../../src/engine/registry.js');
        const { loadConfig } = await import('../../src/config/index.js');
        const reg = await openRegistry({ config: loadConfig(sameBucket) });
        try {
          const imported = await reg.run('mlmodel unbundle path=OBJECTSTORAGE.MIN_AI:out/m.tar');
          expect(column(imported, 'result')).toEqual(['imported', 'imported']);
          expect(await facts({ env: sameBucket, reg, close: async () => undefined }, 'm')).toEqual(await facts(source, 'm'));
        } finally {
          await reg.close();
        }
      } finally {
        await server.close();
        await back.close();
      }
    }, 60_000);
  });
});
