/**
 * Hostile bundles, refused like hostile archives: wrong digests (plain, and
 * forged consistently at every level but one), a manifest naming files
 * outside the bundle or with `..`, files the manifest does not list or lists
 * but lacks, duplicated entries and sections, a version claimed twice, an
 * alias or deployment naming a version the bundle lacks, unknown critical
 * sections, hostile model archives inside a consistently signed bundle, and
 * fields the registry refuses. Generated: the bundle truncated at any
 * offset, and any one byte of it changed. After every refusal the registry
 * holds exactly what it held before — no record, no object, no name claim —
 * and no staging directory is left.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isMlmodelError, type MlmodelError } from '../../src/errors.js';
import { dir, file, header, tar } from '../archive/tar-writer.js';
import { column, embeddedRegistry, snapshot, tarFiles, type TestRegistry } from './stores.js';

// Staging directories go to os.tmpdir(): a private one shows what a refusal leaves there.
const scratch = mkdtempSync(join(tmpdir(), 'mlmodel-hostile-bundles-'));
const staging = join(scratch, 'tmp');
mkdirSync(staging);
process.env.TMPDIR = staging;
/** What unbundle staged and did not remove (the test's own registries live in the same tmp directory). */
const leftStaging = () => readdirSync(staging).filter((e) => e.startsWith('mlmodel-unbundle-'));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const savedModel = (n: number) => tar(file('saved_model.pb', `graph ${n}`), file('variables/variables.index', Buffer.alloc(700 + n, n)));

let source: TestRegistry;
let target: TestRegistry;
let good: Map<string, Buffer>;
let goodBytes: Buffer;
let goodManifest: string;

type Files = Array<[string, Buffer]>;
type Manifest = { format: string; format_version: number; files: Array<{ path: string; size: number; sha256: string }>; sections: Array<Record<string, unknown>> };

const manifestOf = (files: Files): Manifest => JSON.parse(files.find(([p]) => p === 'bundle.json')![1].toString()) as Manifest;
const put = (files: Files, path: string, body: Buffer): Files => files.map(([p, b]) => [p, p === path ? body : b]);
const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);

/** Signs again: the manifest's file digests (of files it lists), then bundle.sha256 — the forger's full effort. */
function resign(files: Files, opts: { digests?: boolean; manifestDigest?: boolean } = {}): Files {
  let out = files;
  if (opts.digests !== false) {
    const m = manifestOf(out);
    const bodies = new Map(out);
    m.files = m.files.map((f) => (bodies.has(f.path) ? { ...f, size: bodies.get(f.path)!.length, sha256: sha256(bodies.get(f.path)!) } : f));
    out = put(out, 'bundle.json', json(m));
  }
  if (opts.manifestDigest !== false) out = put(out, 'bundle.sha256', Buffer.from(`${sha256(new Map(out).get('bundle.json')!)}  bundle.json\n`));
  return out;
}

const editManifest = (files: Files, edit: (m: Manifest) => void): Files => {
  const m = manifestOf(files);
  edit(m);
  return resign(put(files, 'bundle.json', json(m)), { digests: false });
};
const editJson = (files: Files, path: string, edit: (v: Record<string, unknown>) => void): Files => {
  const v = JSON.parse(new Map(files).get(path)!.toString()) as Record<string, unknown>;
  edit(v);
  return resign(put(files, path, json(v)));
};
const pack = (files: Files, extra: Buffer[] = []) => tar(...files.map(([p, b]) => file(p, b)), ...extra);

let n = 0;
async function unbundle(bytes: Buffer, opts = ''): Promise<{ error?: MlmodelError; table?: Awaited<ReturnType<TestRegistry['reg']['run']>> }> {
  const path = join(scratch, `b${n++}.tar`);
  writeFileSync(path, bytes);
  try {
    return { table: await target.reg.run(`mlmodel unbundle path=${path} name=victim ${opts}`) };
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    return { error: e };
  }
}

beforeAll(async () => {
  source = await embeddedRegistry();
  target = await embeddedRegistry();
  for (const v of [1, 2, 3]) {
    const p = join(scratch, `m${v}.tar`);
    writeFileSync(p, savedModel(v));
    await source.reg.run(`mlmodel import name=m type=tf path=${p} description='v${v}'`);
  }
  await source.reg.run('mlmodel alias m@2 champion');
  const out = join(scratch, 'good.tar');
  goodManifest = String(column(await source.reg.run(`mlmodel bundle m to=${out} all=true`), 'manifest_sha256')[0]);
  good = await tarFiles(out);
  goodBytes = pack([...good]);
  // The target already holds something, so "nothing changed" means something.
  writeFileSync(join(scratch, 'own.tar'), savedModel(42));
  await target.reg.run(`mlmodel import name=own type=tf path=${join(scratch, 'own.tar')}`);
}, 60_000);

afterAll(async () => {
  await source?.close();
  await target?.close();
});

const files = (): Files => [...good];
const archive3 = 'versions/3/archive';
const flipped = (b: Buffer, at = b.length >> 1) => {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
};

/** The good bundle plus a section of a kind this mlmodel does not know (a later one's training runs). */
const withSection = (critical: boolean): Files =>
  editManifest([...files(), ['runs/r1.json', Buffer.from('{}')]], (m) => {
    m.files.push({ path: 'runs/r1.json', size: 2, sha256: sha256(Buffer.from('{}')) });
    m.sections.push({ type: 'runs', schema: 1, critical, files: ['runs/r1.json'] });
  });

type Case = [name: string, bytes: () => Buffer, code: string, reason?: string | RegExp];
const cases: Case[] = [
  ['an archive changed, manifest as it was', () => pack(put(files(), archive3, flipped(good.get(archive3)!))), 'CHECKSUM_MISMATCH'],
  ['an archive changed, manifest re-signed, its digest file stale', () => pack(resign(put(files(), archive3, flipped(good.get(archive3)!)), { manifestDigest: false })), 'CHECKSUM_MISMATCH'],
  ['an archive changed, everything re-signed but the version record', () => pack(resign(put(files(), archive3, flipped(good.get(archive3)!)))), 'CHECKSUM_MISMATCH'],
  ['a traversal archive inside a consistently signed bundle (after two good versions are stored)', () => {
    const evil = tar(file('saved_model.pb', 'ok'), file('../../etc/cron.d/evil', '* * * * * root id'));
    return pack(editJson(resign(put(files(), archive3, evil)), 'versions/3/record.json', (r) => Object.assign(r, { size: evil.length, sha256: sha256(evil) })));
  }, 'ARCHIVE_INVALID', 'parent-traversal'],
  ['a record whose format is not the archive\'s', () => pack(editJson(files(), 'versions/3/record.json', (r) => (r.format = 'h5'))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['options the registry refuses, on a version written after the newest', () => pack(editJson(files(), 'versions/1/record.json', (r) => (r.options = { $where: 'sleep(1)' }))), 'INVALID_ARGUMENT'],
  ['the manifest names ../evil', () => pack(editManifest(files(), (m) => m.files.push({ path: '../evil', size: 1, sha256: '0'.repeat(64) }))), 'ARCHIVE_INVALID', 'parent-traversal'],
  ['the manifest names /etc/passwd', () => pack(editManifest(files(), (m) => m.files.push({ path: '/etc/passwd', size: 1, sha256: '0'.repeat(64) }))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['a section names a file outside the manifest', () => pack(editManifest(files(), (m) => (m.sections[0]!.files = ['model.json', 'versions/9/archive']))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['a tar entry ../../evil', () => pack(files(), [file('../../evil', 'x')]), 'ARCHIVE_INVALID', 'parent-traversal'],
  ['an absolute tar entry', () => pack(files(), [file('/tmp/evil', 'x')]), 'ARCHIVE_INVALID', 'absolute-path'],
  ['a symbolic link entry', () => tar(header({ name: 'model.json', type: '2', linkname: '/etc/passwd' }), ...files().map(([p, b]) => file(p, b))), 'ARCHIVE_INVALID', 'link'],
  ['a file the manifest does not list', () => pack(files(), [file('extra.json', '{}')]), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['a file the manifest lists is missing', () => pack(files().filter(([p]) => p !== archive3)), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['a duplicated tar entry', () => pack(files(), [file('model.json', new Map(files()).get('model.json')!)]), 'ARCHIVE_INVALID', 'duplicate'],
  ['a duplicated manifest entry', () => pack(editManifest(files(), (m) => m.files.push({ ...m.files[0]! }))), 'ARCHIVE_INVALID', 'duplicate'],
  ['a version claimed twice', () => pack(editManifest(files(), (m) => (m.sections.find((s) => s.version === 3)!.version = 1))), 'ARCHIVE_INVALID', 'duplicate'],
  ['two sections claim one file', () => pack(editManifest(files(), (m) => (m.sections[1]!.files = ['serving.json', 'model.json']))), 'ARCHIVE_INVALID', 'duplicate'],
  ['a record naming another version than its section', () => pack(editJson(files(), 'versions/3/record.json', (r) => (r.version = 5))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['an alias at a version the bundle lacks', () => pack(editJson(files(), 'model.json', (m) => (m.aliases = [{ alias: 'x', version: 7 }]))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['a deployment of a version the bundle lacks', () => pack(editJson(files(), 'serving.json', (s) => (s.deployments = [{ serving_name: 'root_m', serving_version: 1, model_version: 9, label: null, state: 'STOPPED', deployed_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }]))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['an unknown critical section', () => pack(withSection(true)), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['format_version 2', () => pack(editManifest(files(), (m) => (m.format_version = 2))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['an unknown manifest field', () => pack(editManifest(files(), (m) => Object.assign(m, { __proto__x: 1 }))), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['a manifest that is not JSON', () => pack(resign(put(files(), 'bundle.json', Buffer.from('{"format": ')), { digests: false })), 'ARCHIVE_INVALID', 'manifest-mismatch'],
  ['no digest file', () => pack(files().filter(([p]) => p !== 'bundle.sha256')), 'ARCHIVE_INVALID', 'missing-required'],
  ['a directory entry where a file belongs', () => pack(files(), [dir('versions/3/archive/')]), 'ARCHIVE_INVALID'],
  ['random bytes', () => Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)), 'ARCHIVE_INVALID', 'not-tar'],
  ['an empty file', () => Buffer.alloc(0), 'ARCHIVE_INVALID'],
];

it.each(cases)('refuses %s and leaves nothing behind', async (_name, bytes, code, reason) => {
  const before = await snapshot(target);
  const { error } = await unbundle(bytes());
  expect(error?.code, error?.message).toBe(code);
  if (reason !== undefined) expect(error!.details.reason).toEqual(reason);
  expect(await snapshot(target)).toEqual(before);
  expect(leftStaging()).toEqual([]);
});

it('the good bundle, rebuilt by the test, imports; a skippable unknown section is reported, not carried', async () => {
  const { table, error } = await unbundle(pack(withSection(false)));
  expect(error).toBeUndefined();
  expect(table!.rows.map((r) => [r[0], r[2], r[5]])).toEqual([
    ['imported', 1, null],
    ['imported', 2, null],
    ['imported', 3, null],
    ['skipped', null, 'section runs (schema 1) is not known here: not carried over'],
  ]);
  const again = await target.reg.run(`mlmodel bundle victim to=${join(scratch, 'victim.tar')} all=true`);
  const m = (await tarFiles(join(scratch, 'victim.tar'))).get('model.json')!;
  expect(JSON.parse(m.toString())).toEqual({ ...JSON.parse(good.get('model.json')!.toString()), name: 'victim' });
  expect(column(again, 'versions')).toEqual(['1,2,3']);
  await target.reg.run('mlmodel delete victim');
  expect((await target.reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
});

it('a bundle cut short at any offset is refused and leaves nothing behind (fast-check)', async () => {
  const before = await snapshot(target);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: goodBytes.length - 1 }), async (cut) => {
      const { error } = await unbundle(goodBytes.subarray(0, cut));
      expect(error?.code).toBe('ARCHIVE_INVALID');
      expect(leftStaging()).toEqual([]);
    }),
    { numRuns: 40 },
  );
  expect(await snapshot(target)).toEqual(before);
}, 120_000);

it('any one byte changed: refused with nothing left, or the very same model (fast-check)', async () => {
  const before = await snapshot(target);
  let refused = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: goodBytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
      const bytes = Buffer.from(goodBytes);
      bytes[at] = bytes[at]! ^ xor;
      const { error, table } = await unbundle(bytes, `sha256=${goodManifest}`);
      if (error) {
        refused++;
        expect(['ARCHIVE_INVALID', 'CHECKSUM_MISMATCH']).toContain(error.code);
        expect(await snapshot(target)).toEqual(before);
      } else {
        // A byte no reader uses (padding after a header's fields): the same model, every digest as signed.
        accepted++;
        expect(column(table!, 'result')).toEqual(['imported', 'imported', 'imported']);
        const out = join(scratch, `ok${n++}.tar`);
        expect(column(await target.reg.run(`mlmodel bundle victim to=${out} all=true`), 'versions')).toEqual(['1,2,3']);
        const got = await tarFiles(out);
        for (const p of ['serving.json', 'versions/1/archive', 'versions/2/archive', 'versions/3/archive', 'versions/3/record.json']) expect(got.get(p)!.equals(good.get(p)!)).toBe(true);
        await target.reg.run('mlmodel delete victim');
      }
      expect(leftStaging()).toEqual([]);
    }),
    { numRuns: 60 },
  );
  expect(refused).toBeGreaterThan(0);
  process.stdout.write(`one-byte changes: ${refused} refused, ${accepted} accepted as the same model\n`);
}, 180_000);
