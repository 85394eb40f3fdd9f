/** The object-store conformance suite on the local directory store. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryObjectStore } from '../../src/store/directory.js';
import { objectConformance, readAll, readPath } from './objects-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'mlmodel-objects-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

describe('directory object store', () => {
  objectConformance({
    async open() {
      const store = new DirectoryObjectStore({ root: join(root, `store-${++n}`) });
      await store.init();
      return store;
    },
    fetchPresigned: readPath,
  });
});

describe('directory store specifics', () => {
  it('keeps key a/b/c as the file <root>/a/b/c and prunes emptied directories', async () => {
    const dir = join(root, 'layout');
    const store = new DirectoryObjectStore({ root: dir });
    await store.init();
    await store.put('a/b/c', Readable.from([Buffer.from('x')]));
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['c']);
    await store.delete('a/b/c');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips in-flight temp files and symlinks when listing', async () => {
    const dir = join(root, 'temps');
    const store = new DirectoryObjectStore({ root: dir });
    await store.init();
    await store.put('m/real', Readable.from([Buffer.from('x')]));
    await mkdir(join(dir, 'm'), { recursive: true });
    await writeFile(join(dir, 'm', '.mlmodel-tmp-123'), 'partial');
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/passwd', join(dir, 'm', 'link'));
    const keys: string[] = [];
    for await (const o of store.list('m/')) keys.push(o.key);
    expect(keys).toEqual(['m/real']);
    expect((await readAll(await store.get('m/real'))).toString()).toBe('x');
  });
});
