import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeConfig,
  getConnector,
  loadConfig,
  parseMongoUrl,
  parseS3Url,
  redact,
  redactError,
  Secret,
  type Config,
} from '../../src/config/index.js';
import { isMlmodelError, MlmodelError } from '../../src/errors.js';
import { metadataStoreFor, objectStoreAt, objectStoreFor } from '../../src/store/open.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-config-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh fake user home with an optional config file in its ~/.mlmodel. */
function home(configYaml?: string): string {
  const h = join(root, `home-${++n}`);
  mkdirSync(join(h, '.mlmodel'), { recursive: true });
  if (configYaml !== undefined) writeFileSync(join(h, '.mlmodel', 'config.yaml'), configYaml);
  return h;
}

function fails(fn: () => unknown, code: string, match?: RegExp): MlmodelError {
  try {
    fn();
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    expect(e.code).toBe(code);
    if (match) expect(e.message).toMatch(match);
    return e;
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('defaults to the embedded stores under ~/.mlmodel', async () => {
    const h = home();
    const c = loadConfig({ HOME: h, USER: 'ann' });
    expect(c.home).toBe(join(h, '.mlmodel'));
    expect(c.configFile).toBeNull();
    expect(c.user).toBe('ann');
    expect(c.metadata).toEqual({ kind: 'sqlite', path: join(h, '.mlmodel', 'mlmodel.db') });
    expect(c.objects).toEqual({ kind: 'directory', path: join(h, '.mlmodel', 'objects') });
    expect(c.servingBase).toEqual({ kind: 'file', path: join(h, '.mlmodel', 'serving') });
    expect(c.historyFile).toBe(join(h, '.mlmodel', 'history'));
    expect(c.connectors).toEqual({});
    expect(c.origin).toMatchObject({ home: 'default', metadata: 'default', objects: 'default', servingBase: 'default' });
    expect((await metadataStoreFor(c)).kind).toBe('sqlite');
    expect((await objectStoreFor(c)).kind).toBe('directory');
  });

  it('reads the home from MLMODEL_HOME, and --home over it', () => {
    const h = home();
    expect(loadConfig({ HOME: h, MLMODEL_HOME: join(root, 'elsewhere') }).home).toBe(join(root, 'elsewhere'));
    const c = loadConfig({ HOME: h, MLMODEL_HOME: join(root, 'elsewhere') }, { home: '~/flag-home' });
    expect(c.home).toBe(join(h, 'flag-home'));
    expect(c.origin.home).toBe('option');
    expect(loadConfig({ HOME: h }, { home: 'rel', cwd: '/srv' }).home).toBe('/srv/rel');
  });

  it('reads <home>/config.yaml; env wins over it, flags over both', () => {
    const h = home(
      [
        'user: filed',
        'mongodb_url: mongodb://db.example:27017/fromfile',
        'minio_url: http://AKFILE:filesecret@minio.example:9000/filebucket',
        'serving_base: file:///srv/models',
        'connectors:',
        '  lake: http://AKL:lakesecret@s3.example:9000/lake/raw',
        '  archive:',
        '    endpoint: https://s3.example.com',
        '    bucket: archive',
        '    prefix: models/',
        '    access_key: AKA',
        '    secret_key: archivesecret',
        '    region: eu-west-1',
        '  local: file:///data/exports',
      ].join('\n'),
    );
    const file = loadConfig({ HOME: h });
    expect(file.configFile).toBe(join(h, '.mlmodel', 'config.yaml'));
    expect(file.user).toBe('filed');
    expect(file.metadata).toMatchObject({ kind: 'mongodb', database: 'fromfile' });
    expect(file.objects.kind === 'minio' && file.objects.location).toMatchObject({
      endpoint: 'http://minio.example:9000',
      bucket: 'filebucket',
      accessKey: 'AKFILE',
    });
    expect(file.servingBase).toEqual({ kind: 'file', path: '/srv/models' });
    expect(Object.keys(file.connectors).sort()).toEqual(['ARCHIVE', 'LAKE', 'LOCAL']);
    expect(getConnector(file, 'archive')).toMatchObject({
      endpoint: 'https://s3.example.com',
      useSSL: true,
      port: 443,
      bucket: 'archive',
      prefix: 'models/',
      accessKey: 'AKA',
      region: 'eu-west-1',
    });
    expect((getConnector(file, 'Archive') as { secretKey: Secret }).secretKey.reveal()).toBe('archivesecret');
    expect(getConnector(file, 'lake')).toMatchObject({ bucket: 'lake', prefix: 'raw/' });
    expect(getConnector(file, 'LOCAL')).toEqual({ kind: 'file', path: '/data/exports' });

    const env = loadConfig({
      HOME: h,
      MLMODEL_USER: 'envuser',
      MLMODEL_MONGODB_URL: 'mongodb://envdb:27017/fromenv',
      MLMODEL_SERVING_BASE: 'http://AKS:servesecret@minio:9000/serving/tf',
      MLMODEL_CONNECTOR_LAKE: 'http://AKE:envlake@other:9000/envlake',
    });
    expect(env.user).toBe('envuser');
    expect(env.metadata).toMatchObject({ kind: 'mongodb', database: 'fromenv' });
    expect(env.servingBase).toMatchObject({ kind: 's3', bucket: 'serving', prefix: 'tf/' });
    expect(getConnector(env, 'lake')).toMatchObject({ bucket: 'envlake', accessKey: 'AKE' });
    expect(env.origin.connectors).toEqual({ ARCHIVE: 'file', LAKE: 'env', LOCAL: 'file' });
    expect(env.objects.kind).toBe('minio'); // still from the file

    const flags = loadConfig(
      { HOME: h, MLMODEL_USER: 'envuser', MLMODEL_MONGODB_URL: 'mongodb://envdb:27017/fromenv' },
      { user: 'flaguser', mongodbUrl: 'mongodb://flagdb/flag' },
    );
    expect(flags.user).toBe('flaguser');
    expect(flags.metadata).toMatchObject({ database: 'flag' });
    expect(flags.origin).toMatchObject({ user: 'option', metadata: 'option', objects: 'file' });
  });

  it('takes the config file from MLMODEL_CONFIG or --config, which must exist', () => {
    const h = home('user: inhome');
    const other = join(root, `other-${++n}.yaml`);
    writeFileSync(other, 'user: named\n');
    expect(loadConfig({ HOME: h, MLMODEL_CONFIG: other }).user).toBe('named');
    expect(loadConfig({ HOME: h }, { config: other }).configFile).toBe(other);
    fails(() => loadConfig({ HOME: h, MLMODEL_CONFIG: join(root, 'missing.yaml') }), 'CONFIG_INVALID', /not found/);
  });

  it('refuses unknown settings, bad URLs and bad names with CONFIG_INVALID', () => {
    fails(() => loadConfig({ HOME: home('mongo_url: x') }), 'CONFIG_INVALID', /unknown setting "mongo_url".*mongodb_url/);
    fails(() => loadConfig({ HOME: home('mongodb_ulr: x') }), 'CONFIG_INVALID', /unknown setting "mongodb_ulr"; did you mean mongodb_url\?/);
    fails(() => loadConfig({ HOME: home('http:\n  local_root: [/tmp]') }), 'CONFIG_INVALID', /unknown key "local_root"; did you mean local_roots\?/);
    fails(() => loadConfig({ HOME: home('user: [a]') }), 'CONFIG_INVALID', /user must be a string/);
    fails(() => loadConfig({ HOME: home(': : :') }), 'CONFIG_INVALID');
    fails(() => loadConfig({ HOME: home(), MLMODEL_MONGODB_URL: 'postgres://x' }), 'CONFIG_INVALID', /MLMODEL_MONGODB_URL/);
    fails(() => loadConfig({ HOME: home(), MLMODEL_MINIO_URL: 'ftp://x/y' }), 'CONFIG_INVALID', /MLMODEL_MINIO_URL/);
    fails(() => loadConfig({ HOME: home(), MLMODEL_MINIO_URL: 'http://h:9000/Bad_Bucket' }), 'CONFIG_INVALID', /bucket/);
    fails(() => loadConfig({ HOME: home(), MLMODEL_CONNECTOR_X: 'http://h:9000' }), 'CONFIG_INVALID', /bucket/);
    fails(() => loadConfig({ HOME: home(), 'MLMODEL_CONNECTOR_A.B': 'http://h:9000/b' }), 'CONFIG_INVALID', /connector name/);
    fails(() => loadConfig({ HOME: home(), MLMODEL_SERVING_BASE: 'relative/path' }), 'CONFIG_INVALID');
    fails(() => loadConfig({ HOME: home(), MLMODEL_USER: 'has space' }), 'CONFIG_INVALID');
    fails(() => loadConfig({ HOME: home('connectors:\n  x:\n    endpoint: http://h\n    bucket: bkt\n    secret: s') }), 'CONFIG_INVALID', /unknown key "secret"/);
  });

  it('the MinIO URL defaults its bucket to mlmodel and reads region', () => {
    const c = loadConfig({ HOME: home(), MLMODEL_MINIO_URL: 'https://AK:S%2Fx@minio.example?region=us-east-2' });
    expect(c.objects.kind === 'minio' && c.objects.location).toMatchObject({
      bucket: 'mlmodel',
      prefix: '',
      port: 443,
      useSSL: true,
      region: 'us-east-2',
    });
    expect(c.objects.kind === 'minio' && c.objects.location.secretKey.reveal()).toBe('S/x');
  });

  it('names the configured connectors when one is unknown', async () => {
    const c = loadConfig({ HOME: home(), MLMODEL_CONNECTOR_LAKE: 'http://a:b@h:9000/lake' });
    const e = fails(() => getConnector(c, 'sea'), 'CONNECTOR_UNKNOWN', /unknown connector "sea"; configured: LAKE/);
    expect(e.details).toMatchObject({ known: ['LAKE'] });
    fails(() => getConnector(loadConfig({ HOME: home() }), 'x'), 'CONNECTOR_UNKNOWN', /none is configured/);
    expect((await objectStoreAt(getConnector(c, 'lake'), c)).kind).toBe('minio');
  });

  it('parses MongoDB URLs with several hosts and options', () => {
    expect(parseMongoUrl('mongodb://u:p%40ss@h1:27017,h2:27017,h3/reg?replicaSet=rs0&w=majority', 'x')).toEqual({
      database: 'reg',
      password: 'p@ss',
    });
    expect(parseMongoUrl('mongodb+srv://cluster.example/', 'x').database).toBe('mlmodel');
    expect(parseMongoUrl('mongodb://h', 'x')).toEqual({ database: 'mlmodel', password: null });
  });
});

describe('secrets never print', () => {
  const env = {
    HOME: '',
    MLMODEL_MONGODB_URL: 'mongodb://reg:mongopw-123@db:27017/reg',
    MLMODEL_MINIO_URL: 'http://AKIAMINIO:miniosecret-456@minio:9000/mlmodel',
    MLMODEL_SERVING_BASE: 'http://AKSERVE:servesecret-789@minio:9000/serving/tf',
    MLMODEL_CONNECTOR_LAKE: 'http://AKLAKE:lakesecret-000@s3:9000/lake',
  };
  const secrets = ['mongopw-123', 'miniosecret-456', 'servesecret-789', 'lakesecret-000'];
  let config: Config;
  // Every case below reads this config: made here, not in the first case, so each runs alone too.
  beforeAll(() => {
    config = loadConfig({ ...env, HOME: home() });
  });

  it('not in the config object however it is printed', () => {
    const printed = [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.secrets),
      `${(config.objects as { location: { secretKey: Secret } }).location.secretKey}`,
      JSON.stringify(describeConfig(config)),
    ].join('\n');
    for (const s of secrets) expect(printed).not.toContain(s);
    expect(config.secrets).toHaveLength(4);
    expect(describeConfig(config)).toMatchObject({
      metadata: 'mongodb mongodb://reg:***@db:27017/reg',
      objects: 'minio http://AKIAMINIO@minio:9000/mlmodel/',
      serving_base: 'http://AKSERVE@minio:9000/serving/tf/',
      connectors: { LAKE: 'http://AKLAKE@s3:9000/lake/' },
    });
  });

  it('not in error messages about URLs', () => {
    const e = fails(() => loadConfig({ HOME: home(), MLMODEL_MINIO_URL: 'ftp://AK:topsecret-1@h/b' }), 'CONFIG_INVALID');
    expect(e.message).not.toContain('topsecret-1');
    expect(e.message).toContain('ftp:***@h/b');
    const e2 = fails(() => parseS3Url('http://AK:topsecret-2@h:9000/B', 'X'), 'CONFIG_INVALID');
    expect(JSON.stringify(e2)).not.toContain('topsecret-2');
  });

  it('redact() hides URL passwords, signing parameters and known secrets', () => {
    expect(redact('connect mongodb://u:pw@h:1/db and http://AK:SK@h:9000/b failed')).toBe(
      'connect mongodb://u:***@h:1/db and http://AK:***@h:9000/b failed',
    );
    expect(
      redact('GET http://h:9000/b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK%2F2024&X-Amz-Signature=abcdef&x=1'),
    ).toBe('GET http://h:9000/b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=***&X-Amz-Signature=***&x=1');
    expect(redact('the key was hunter22 ok', [new Secret('hunter22')])).toBe('the key was *** ok');
    expect(redact('keep short ab', ['ab'])).toBe('keep short ab');
    const err = redactError(new Error('auth failed for miniosecret-456', { cause: new Error('url http://a:miniosecret-456@h') }), config.secrets);
    expect(err.message).toBe('auth failed for ***');
    expect(String((err.cause as Error).message)).toBe('url http://a:***@h');
  });
});
