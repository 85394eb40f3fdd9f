import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError, type MlmodelError } from '../../src/errors.js';
import { parsePathOption } from '../../src/executor/location.js';
import { checkModelName } from '../../src/executor/names.js';
import { DirectoryObjectStore } from '../../src/store/directory.js';
import { DirectoryServingTarget } from '../../src/serving/target.js';
import { file, tar } from '../archive/tar-writer.js';
import { Readable } from 'node:stream';

/** Issue 9.3: paths, connector keys, model names and serving names. */
async function failure(p: Promise<unknown>): Promise<MlmodelError> {
  try {
    await p;
  } catch (e) {
    if (isMlmodelError(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const REFUSED_PATHS: Array<[string, RegExp]> = [
  ['//proc/self/root/etc/passwd', /may not start with '\/\/'/],
  ['//etc/passwd', /may not start with '\/\/'/],
  ['file:///etc/passwd', /URLs are not accepted/],
  ['FILE:///etc/passwd', /URLs are not accepted|may not start/],
  ['http://169.254.169.254/latest/meta-data', /URLs are not accepted/],
  ['s3://bucket/key', /URLs are not accepted/],
  ['etc/passwd', /must be absolute/],
  ['./model.tar', /segments are not allowed|must be absolute/],
  ['/srv/in/../../etc/passwd', /segments are not allowed/],
  ['/srv/in/./x.tar', /segments are not allowed/],
  ['/srv/in/%2e%2e/%2e%2e/etc/passwd', /segments are not allowed/],
  ['/srv/in/%2e%2e%2f%2e%2e%2fetc/passwd', /segments are not allowed/],
  ['/srv/in/%252e%252e%252f%252e%252e%252fetc/passwd', /segments are not allowed/],
  ['/srv/in/%25252e%25252e%25252fetc', /segments are not allowed/],
  ['/srv/in/..%2f..%2fetc/passwd', /segments are not allowed/],
  ['/srv/in\\..\\..\\etc\\passwd', /backslashes/],
  ['/srv/in/%5c..%5cetc', /backslashes/],
  ['C:/Windows/system32', /drive letters/],
  ['c:\\boot.ini', /backslashes|drive letters/],
  ['/srv/in/x.tar\u0000.png', /NUL or control/],
  ['/srv/in/x.tar%00.png', /NUL or control/],
  ['/srv/in/x\n.tar', /NUL or control/],
  ['/srv//in/x.tar', /not a normal path/],
  ['', /empty/],
  // connector keys
  ['OBJECTSTORAGE.IN:../secret.tar', /segments are not allowed/],
  ['OBJECTSTORAGE.IN:a/../../secret.tar', /segments are not allowed/],
  ['OBJECTSTORAGE.IN:%2e%2e%2fsecret.tar', /segments are not allowed/],
  ['OBJECTSTORAGE.IN:%252e%252e%252fsecret.tar', /segments are not allowed/],
  ['OBJECTSTORAGE.IN:/etc/passwd', /relative to its bucket/],
  ['OBJECTSTORAGE.IN:a//b.tar', /empty path segments/],
  ['OBJECTSTORAGE.IN:model.tar#fragment', /'#' and ';'/],
  ['OBJECTSTORAGE.IN:model.tar;rm -rf', /'#' and ';'/],
  ['OBJECTSTORAGE.IN:a\\..\\b', /backslashes/],
  ['OBJECTSTORAGE.IN:C:/x', /drive letters/],
  ['OBJECTSTORAGE.IN:a%00b', /NUL or control/],
  ['OBJECTSTORAGE.IN:', /key after the connector name is missing/],
];

describe('path= and connector keys', () => {
  for (const [text, why] of REFUSED_PATHS) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      let error: unknown;
      try {
        parsePathOption(text);
      } catch (e) {
        error = e;
      }
      expect(isMlmodelError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(why);
      expect((error as Error).message).toMatch(/^path ".*" is refused: /s);
    });
  }

  it('accepts plain absolute paths and relative keys', () => {
    expect(parsePathOption('/etc/passwd')).toEqual({ kind: 'file', path: '/etc/passwd' });
    expect(parsePathOption('FILE:/srv/in/m.tar')).toEqual({ kind: 'file', path: '/srv/in/m.tar' });
    expect(parsePathOption('OBJECTSTORAGE.min_ai:USERS/root/m.tar')).toEqual({ kind: 'connector', connector: 'MIN_AI', key: 'USERS/root/m.tar' });
    expect(parsePathOption('/srv/in/100%25.tar')).toEqual({ kind: 'file', path: '/srv/in/100%25.tar' });
  });

  it('the object stores refuse traversal keys themselves (second line)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-keys-'));
    const store = new DirectoryObjectStore({ root: join(dir, 'objects') });
    await store.init();
    try {
      for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', 'a/./b', '', 'a\u0000b']) {
        const e = await failure(store.put(key, Readable.from([Buffer.from('x')])));
        expect(e.code, key).toBe('OBJECT_KEY_INVALID');
        expect((await failure(store.get(key))).code, key).toBe('OBJECT_KEY_INVALID');
      }
      expect(await readdir(dir)).toEqual(['objects']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('local paths through the engine: CLI (no roots) and HTTP (local roots)', () => {
  let root: string;
  let inbox: string;
  let cli: Registry;
  let http: Registry;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mlmodel-paths-'));
    inbox = join(root, 'inbox');
    await mkdir(inbox);
    await mkdir(join(root, 'outside'));
    await writeFile(join(inbox, 'm.tar'), tar(file('model.pkl', 'x')));
    await writeFile(join(root, 'outside', 'm.tar'), tar(file('model.pkl', 'x')));
    await symlink(join(root, 'outside'), join(inbox, 'escape'));
    await symlink('/etc', join(inbox, 'etc'));
    const config = loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' });
    cli = await openRegistry({ config });
    http = await openRegistry({ config, localRoots: [inbox] });
  });
  afterAll(async () => {
    await cli?.close();
    await http?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('path=/etc/passwd: the CLI reads it and refuses it as not a tar; over HTTP it is outside the local roots', async () => {
    const viaCli = await failure(cli.run('mlmodel import name=p type=sklearn path=/etc/passwd'));
    expect(viaCli.code).toBe('ARCHIVE_INVALID');
    expect(viaCli.details['reason']).toBe('not-tar');
    const viaHttp = await failure(http.run('mlmodel import name=p type=sklearn path=/etc/passwd'));
    expect(viaHttp.code).toBe('INVALID_ARGUMENT');
    expect(viaHttp.message).toMatch(/local paths must be inside/);
    expect((await cli.run('mlmodel list')).rows).toEqual([]);
  });

  it('local roots hold against symlinks, /proc and exports and pulls', async () => {
    for (const path of [
      join(root, 'outside', 'm.tar'),
      join(inbox, 'escape', 'm.tar'),
      join(inbox, 'etc', 'passwd'),
      '/proc/self/root/etc/passwd',
      '/proc/self/cwd/package.json',
    ]) {
      const e = await failure(http.run(`mlmodel import name=p type=sklearn path=${path}`));
      expect(e.message, path).toMatch(/local paths must be inside/);
    }
    expect((await http.run(`mlmodel import name=p type=sklearn path=${join(inbox, 'm.tar')}`)).rows[0]![0]).toBe('ok');
    for (const q of [
      'mlmodel export name=p path=/etc/passwd overwrite=true',
      `mlmodel export name=p path=${join(inbox, 'escape', 'copy.tar')}`,
      'mlmodel pull p to=/etc',
      `mlmodel pull p to=${join(inbox, 'escape', 'pulled')}`,
    ]) {
      const e = await failure(http.run(q));
      expect(e.message, q).toMatch(/local paths must be inside/);
    }
    expect(await readdir(join(root, 'outside'))).toEqual(['m.tar']);
    expect((await http.run(`mlmodel export name=p path=${join(inbox, 'copy.tar')}`)).rows[0]![0]).toBe('ok');
    await cli.run('mlmodel delete p');
  });
});

describe('model names and serving names', () => {
  const BAD = [
    '', '.', '..', '../x', 'a/b', '/abs', 'a\\b', '..\\x', '.hidden', '-rf', 'a..b', 'x'.repeat(129), 'a b', 'a\u0000b', 'a\nb',
    'a\u001b[2Jb', '%2e%2e', 'a%2fb', 'a@1', 'a:b', 'C:', 'a|b', "a'b", 'a*', '\u202eexe.pkl',
  ];
  for (const name of BAD) {
    it(`refuses the model name ${JSON.stringify(name)}`, () => {
      let error: unknown;
      try {
        checkModelName(name);
      } catch (e) {
        error = e;
      }
      expect(isMlmodelError(error, 'INVALID_ARGUMENT'), `${JSON.stringify(name)}: ${String(error)}`).toBe(true);
    });
  }

  it('accepts names in any script, with _ . -', () => {
    for (const name of ['mnist_v1', 'model.v2-rc', '모델', 'модель', 'café', '_x', '9lives', 'x'.repeat(128)]) expect(checkModelName(name)).toBe(name.normalize('NFC'));
  });

  it('the directory serving target refuses serving names and versions that would leave the base', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-serving-'));
    const target = new DirectoryServingTarget(join(dir, 'base'));
    try {
      for (const [name, version] of [
        ['../escape', 1],
        ['..', 1],
        ['a/b', 1],
        ['.', 1],
        ['ok', -1],
        ['ok', 0],
        ['ok', 1.5],
        ['ok', Number.NaN],
      ] as Array<[string, number]>) {
        const e = await failure(target.writeVersion(name, version, Readable.from([tar(file('saved_model.pb', 'x'))]), [], ''));
        expect(e.code, `${name}/${version}`).toBe('INVALID_ARGUMENT');
      }
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the engine refuses a user name that could not be a path segment (library callers pass it straight in)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlmodel-users-'));
    const reg = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' }) });
    try {
      await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'x')));
      for (const user of ['../../escape', 'a/b', '..\\x', '', 'a\u0000']) {
        const e = await failure(reg.run(`mlmodel import name=m type=tf path=${join(root, 'm.tar')}`, { user }));
        expect(e.code, user).toBe('INVALID_ARGUMENT');
      }
      expect((await reg.run('mlmodel list')).rows).toEqual([]);
      // A user name with dots is one segment: its serving directory stays inside the base.
      await reg.run(`mlmodel import name=m type=tf path=${join(root, 'm.tar')}`, { user: '..' });
      expect((await reg.run('mlmodel deploy m', { user: '..' })).rows).toEqual([['on', 1, '.._m']]);
      expect(await readdir(join(root, 'home', 'serving'))).toEqual(['.._m', 'models.config']);
    } finally {
      await reg.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
