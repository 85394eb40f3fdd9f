/**
 * The `registries:` setting sync reaches remotes through: an embedded remote
 * by its home, a server one by its MongoDB and MinIO URLs, each refused with
 * a clear CONFIG_INVALID when incomplete or misspelt, and its passwords
 * hidden like the registry's own.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, redact } from '../../src/config/index.js';
import { isMlmodelError } from '../../src/errors.js';
import { remoteRegistryConfig } from '../../src/exchange/remote-registry.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-remote-config-'));
let n = 0;
function withFile(registries: unknown) {
  const file = join(root, `c${n++}.yaml`);
  writeFileSync(file, JSON.stringify({ registries }));
  return loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: file });
}
const refused = (registries: unknown, re: RegExp) => {
  let err: unknown = null;
  try {
    withFile(registries);
  } catch (e) {
    err = e;
  }
  expect(isMlmodelError(err, 'CONFIG_INVALID') && re.test(err.message), String(err)).toBe(true);
};

describe('registries:', () => {
  it('reads an embedded remote by its home and a server one by its URLs, names in any case', () => {
    const c = withFile({
      Central: { home: '/srv/central' },
      hub: { mongodb_url: 'mongodb://u:p4ss@db:27017/reg', minio_url: 'http://KEY:s3cret@minio:9000/bucket', serving_base: '/srv/serving' },
    });
    expect(c.registries.central).toEqual({
      metadata: { kind: 'sqlite', path: '/srv/central/mlmodel.db' },
      objects: { kind: 'directory', path: '/srv/central/objects' },
      servingBase: { kind: 'file', path: '/srv/central/serving' },
      display: 'embedded /srv/central',
    });
    const hub = remoteRegistryConfig(c, 'HUB');
    expect([hub.metadata.kind, hub.objects.kind, hub.metadata.kind === 'mongodb' && hub.metadata.database]).toEqual(['mongodb', 'minio', 'reg']);
    expect(hub.display).not.toMatch(/p4ss|s3cret/);
    expect(redact('failed: p4ss and s3cret', c.secrets)).not.toMatch(/p4ss|s3cret/);
  });

  it('takes MLMODEL_REGISTRY_<NAME> as the home of an embedded remote', () => {
    const c = loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_REGISTRY_BACKUP: '/data/backup' });
    expect(remoteRegistryConfig(c, 'backup').objects).toEqual({ kind: 'directory', path: '/data/backup/objects' });
  });

  it('refuses incomplete, misspelt and unsafe entries', () => {
    refused({ c: { home: 'relative/dir' } }, /registries\.c\.home must be an absolute directory/);
    refused({ c: { mongodb_url: 'mongodb://db/x' } }, /mongodb_url and minio_url go together/);
    refused({ c: { mongodb_url: 'mongodb://db/x', minio_url: 'http://k:s@m:9000/bucket' } }, /serving_base is required without home/);
    refused({ c: {} }, /give home .* or mongodb_url and minio_url/);
    refused({ c: { home: '/x', hom: '/y' } }, /unknown key "hom"; valid keys: home, mongodb_url, minio_url, serving_base/);
    refused({ c: { home: 5 } }, /registries\.c\.home must be a non-empty string/);
    refused({ 'bad name': { home: '/x' } }, /registry name .* must be letters, digits/);
    refused({ c: '/srv/x' }, /expected a mapping with home/);
    refused(['x'], /registries must be a mapping/);
  });

  it('never shows a remote password in an error about its URLs', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{6,20}$/), (pw) => {
        let msg = '';
        try {
          withFile({ c: { mongodb_url: `mongodb://u:${pw}@db/bad.name`, minio_url: 'http://k:s@m:9000/bucket', home: '/x' } });
        } catch (e) {
          msg = String((e as Error).message);
        }
        expect(msg).toMatch(/registries\.c\.mongodb_url/);
        expect(msg).not.toContain(pw);
      }),
      { numRuns: 25 },
    );
  });

  it('names the configured registries when sync asks for another', () => {
    const c = withFile({ central: { home: '/srv/central' } });
    expect(() => remoteRegistryConfig(c, 'elsewhere')).toThrow(/no registry called "elsewhere" is configured; configured: central/);
    expect(() => remoteRegistryConfig(loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'h2') }), 'x')).toThrow(/none is \(add registries:/);
  });
});
