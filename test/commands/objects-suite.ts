/**
 * The `mlmodel objects` suite for one connector kind: checked against a plain
 * reference of S3's delimiter listing over generated key sets, through the
 * registry's one run path. objects.test.ts runs it on a local directory (the
 * embedded default), test/integration/objects-minio.test.ts on real MinIO.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { quote } from '../../grammar/printer.js';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError, type MlmodelError } from '../../src/errors.js';
import { compareKeys, type ObjectStore } from '../../src/store/objects.js';
import { file, tar } from '../archive/tar-writer.js';

export interface Bucket {
  /** What MLMODEL_CONNECTOR_<NAME> is set to. */
  readonly url: string;
  /** The same place, written to directly. */
  readonly store: ObjectStore;
  /** A connector of the same kind whose bucket (directory) does not exist. */
  readonly missing: string;
}

export async function failure(p: Promise<unknown>): Promise<MlmodelError> {
  try {
    await p;
  } catch (e) {
    if (isMlmodelError(e)) return e;
    throw e;
  }
  throw new Error('expected the query to fail');
}

/** S3's delimiter listing, written plainly: what `objects` must answer. */
function reference(keys: ReadonlyMap<string, number>, prefix: string, recursive: boolean): Array<[string, string, number | null]> {
  const out = new Map<string, [string, string, number | null]>();
  for (const [k, size] of keys) {
    if (!k.startsWith(prefix)) continue;
    const slash = k.indexOf('/', prefix.length);
    if (recursive || slash < 0) out.set(k, [k, 'object', size]);
    else out.set(k.slice(0, slash + 1), [k.slice(0, slash + 1), 'prefix', null]);
  }
  return [...out.values()].sort((a, b) => compareKeys(a[0], b[0]));
}

const SEGMENTS = ['a', 'b', 'a-b', 'a.b', 'ab', 'B', 'ü', '한', 'x y', 'model.tar'];

/** Key sets a directory can hold too: no key is another key's directory. */
const keySets = fc
  .uniqueArray(fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }).map((s) => s.join('/')), { minLength: 1, maxLength: 12 })
  .filter((keys) => !keys.some((k) => keys.some((o) => o.startsWith(`${k}/`))));

export function browseSuite(open: () => Promise<Bucket>): void {
  let bucket: Bucket;
  let reg: Registry;
  let root: string;
  let run = 0;

  beforeAll(async () => {
    bucket = await open();
    root = await mkdtemp(join(tmpdir(), 'mlmodel-objects-'));
    reg = await openRegistry({
      config: loadConfig({
        HOME: root,
        MLMODEL_HOME: join(root, 'home'),
        MLMODEL_USER: 'root',
        MLMODEL_CONNECTOR_DATA: bucket.url,
        MLMODEL_CONNECTOR_GONE: bucket.missing,
      }),
    });
  });
  afterAll(async () => {
    await reg?.close();
    await rm(root, { recursive: true, force: true });
  });

  const put = (key: string, bytes: Buffer | string) => bucket.store.put(key, Readable.from([Buffer.from(bytes)]));
  const rowsOf = async (text: string) => (await reg.run(text)).rows.map((r) => [...r]);

  it('lists one level as the delimiter listing does, and everything with recursive=true, for generated keys and prefixes', async () => {
    await fc.assert(
      fc.asyncProperty(keySets, fc.nat(), fc.nat({ max: 6 }), async (keys, pick, cut) => {
        const base = `p${++run}/`;
        const sizes = new Map<string, number>();
        for (const [i, k] of keys.entries()) {
          await put(base + k, 'x'.repeat(i));
          sizes.set(base + k, i);
        }
        // A prefix that ends anywhere in one of the keys: inside a segment, on a '/', or none at all.
        const some = keys[pick % keys.length]!;
        const prefix = base + some.slice(0, Math.max(0, some.length - cut));
        for (const recursive of [false, true]) {
          const rows = await rowsOf(`mlmodel objects path=${quote(`OBJECTSTORAGE.data:${prefix}`)} recursive=${recursive}`);
          expect(rows.map((r) => r.slice(0, 3))).toEqual(reference(sizes, prefix, recursive));
          for (const r of rows) {
            // S3 gives a listing's times in milliseconds and a HEAD's in whole seconds: the same second.
            if (r[1] === 'object') expect(Math.floor((r[3] as Date).getTime() / 1000)).toBe(Math.floor((await bucket.store.stat(String(r[0])))!.modified.getTime() / 1000));
            else expect(r[3]).toBeNull();
          }
        }
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('lists the whole bucket from an empty prefix, and its rows go through where, sort and head', async () => {
    const base = `q${++run}/`;
    await put(`${base}small.tar`, 'ab');
    await put(`${base}big.tar`, 'abcdefgh');
    await put(`${base}mid.tar`, 'abcd');
    await put(`${base}deeper/x.tar`, 'abcdefghijkl');
    const top = await rowsOf('mlmodel objects path=OBJECTSTORAGE.DATA:');
    expect(top).toContainEqual([base, 'prefix', null, null]);
    expect(top.every((r) => r[1] === 'prefix' || !String(r[0]).includes('/'))).toBe(true);
    const big = await rowsOf(`mlmodel objects path=OBJECTSTORAGE.DATA:${base} | where kind = object and size > 2 | sort -size | head 2 | fields key, size`);
    expect(big).toEqual([
      [`${base}big.tar`, 8],
      [`${base}mid.tar`, 4],
    ]);
    const all = await rowsOf(`mlmodel objects path=OBJECTSTORAGE.DATA:${base} recursive=true | sort -size | head 1 | fields key`);
    expect(all).toEqual([[`${base}deeper/x.tar`]]);
  });

  it('shows keys that import reads as they are shown', async () => {
    const base = `r${++run}/`;
    await put(`${base}USERS/root/model.tar`, tar(file('saved_model.pb', 'graph')));
    const [row] = await rowsOf(`mlmodel objects path=OBJECTSTORAGE.DATA:${base}USERS/root/ | where kind = object`);
    const imported = await reg.run(`mlmodel import name=browsed${run} type=tf path=OBJECTSTORAGE.DATA:${String(row![0])}`);
    expect(imported.rows[0]![0]).toBe('ok');
  });

  it('says plainly that a bucket does not exist, and that an existing empty prefix is empty', async () => {
    const e = await failure(reg.run('mlmodel objects path=OBJECTSTORAGE.GONE:'));
    expect(e.code).toBe('BUCKET_NOT_FOUND');
    expect(e.message).toMatch(/^connector GONE: .*does not exist/);
    // A MinIO connector's secret stays out of what is said about it.
    const secret = /:\/\/[^:/]+:([^@]+)@/.exec(bucket.missing)?.[1];
    if (secret !== undefined) expect(JSON.stringify(e)).not.toContain(decodeURIComponent(secret));
    expect((await failure(reg.run('mlmodel objects path=OBJECTSTORAGE.GONE:a/ recursive=true'))).code).toBe('BUCKET_NOT_FOUND');
    expect(await rowsOf(`mlmodel objects path=OBJECTSTORAGE.DATA:nothing-here-${run}/`)).toEqual([]);
    // An import from that connector says the same, not that the object is missing; one from an existing bucket does.
    const imp = await failure(reg.run('mlmodel import name=fromgone type=tf path=OBJECTSTORAGE.GONE:USERS/root/model.tar'));
    expect([imp.code, imp.message]).toEqual(['BUCKET_NOT_FOUND', expect.stringMatching(/^connector GONE: .*does not exist/)]);
    expect((await failure(reg.run(`mlmodel import name=fromdata type=tf path=OBJECTSTORAGE.DATA:nothing-here-${run}/m.tar`))).code).toBe('OBJECT_NOT_FOUND');
  });

  it('answers a name that is no configured connector with the nearest one', async () => {
    const e = await failure(reg.run('mlmodel objects path=OBJECTSTORAGE.DTAA:'));
    expect(e.code).toBe('CONNECTOR_UNKNOWN');
    expect(e.message).toContain('did you mean DATA?');
    expect(e.details).toMatchObject({ suggestion: 'DATA', known: ['DATA', 'GONE'] });
    const far = await failure(reg.run('mlmodel objects path=OBJECTSTORAGE.ELSEWHERE:'));
    expect(far.message).not.toContain('did you mean');
  });

  it('refuses hostile prefixes before asking the store', async () => {
    for (const path of [
      'OBJECTSTORAGE.DATA:../x',
      'OBJECTSTORAGE.DATA:a/../../b',
      'OBJECTSTORAGE.DATA:a/./b',
      'OBJECTSTORAGE.DATA:/etc/',
      'OBJECTSTORAGE.DATA:a//b',
      'OBJECTSTORAGE.DATA:a\0b',
      'OBJECTSTORAGE.DATA:a\nb',
      'OBJECTSTORAGE.DATA:%2e%2e/x',
      'OBJECTSTORAGE.DATA:%252e%252e%252fx',
      'OBJECTSTORAGE.DATA:a\\b',
      'OBJECTSTORAGE.DATA:a#b',
      'OBJECTSTORAGE.DATA:a;b',
      'OBJECTSTORAGE.:x',
      'relative/dir/',
      '/tmp/../etc/',
      '/tmp//x',
      'http://host/bucket/',
    ]) {
      const e = await failure(reg.run(`mlmodel objects path=${quote(path)}`));
      expect(e.code, path).toBe('INVALID_ARGUMENT');
    }
  });
}

