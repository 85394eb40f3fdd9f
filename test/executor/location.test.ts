import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLocalRoots, parsePathOption } from '../../src/executor/location.js';

describe('parsePathOption', () => {
  it('reads connector keys and absolute local paths', () => {
    expect(parsePathOption('OBJECTSTORAGE.MIN_AI:USERS/root/clothes/model.tar')).toEqual({
      kind: 'connector',
      connector: 'MIN_AI',
      key: 'USERS/root/clothes/model.tar',
    });
    expect(parsePathOption('objectstorage.min_ai:a.tar')).toMatchObject({ connector: 'MIN_AI' });
    expect(parsePathOption('/data/models/m.tar')).toEqual({ kind: 'file', path: '/data/models/m.tar' });
    expect(parsePathOption('FILE:/data/m.tar.gz')).toEqual({ kind: 'file', path: '/data/m.tar.gz' });
  });

  it.each([
    ['OBJECTSTORAGE.X:../secret', "'.' and '..' segments"],
    ['OBJECTSTORAGE.X:a/%2e%2e%2fb', "'.' and '..' segments"],
    ['OBJECTSTORAGE.X:a/%252e%252e%252fb', "'.' and '..' segments"],
    ['OBJECTSTORAGE.X:/abs', 'drop the leading /'],
    ['OBJECTSTORAGE.X:a#b', "'#' and ';'"],
    ['OBJECTSTORAGE.X:a;b', "'#' and ';'"],
    ['OBJECTSTORAGE.X:a\\..\\b', 'backslashes'],
    ['OBJECTSTORAGE.X:a//b', 'empty path segments'],
    ['OBJECTSTORAGE.X:a\u0000b', 'NUL'],
    ['relative/m.tar', 'must be absolute'],
    ['//proc/self/root/etc/passwd', "may not start with '//'"],
    ['/data/../etc/passwd', "'.' and '..' segments"],
    ['/data/./m.tar', "'.' and '..' segments"],
    ['file:///etc/passwd', 'URLs are not accepted'],
    ['C:/models/m.tar', 'drive letters'],
    ['/data//m.tar', 'not a normal path'],
    ['', 'empty'],
    ['OBJECTSTORAGE.{CONNECTOR_NAME}:{KEY}', '"{CONNECTOR_NAME}" is not a connector name'],
    ['OBJECTSTORAGE.MIN_AI/USERS/m.tar', 'with a : between the connector name and the key'],
    ['USERS/root/model.tar', 'write OBJECTSTORAGE.<CONNECTOR>:USERS/root/model.tar'],
  ])('refuses %j', (text, why) => {
    expect(() => parsePathOption(text)).toThrow(why);
  });
});

describe('checkLocalRoots', () => {
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-roots-'));
  it('lets paths inside a root through, names the roots otherwise, and says when there are none', async () => {
    await expect(checkLocalRoots(join(root, 'm.tar'), [root], 'x')).resolves.toBeUndefined();
    await expect(checkLocalRoots(join(root, 'm.tar'), null, 'x')).resolves.toBeUndefined();
    await expect(checkLocalRoots('/etc/passwd', [root], 'x')).rejects.toThrow(`local paths must be inside ${root}`);
    await expect(checkLocalRoots('/etc/passwd', [], 'x')).rejects.toThrow('no local roots are configured (http.local_roots)');
  });
});
