/**
 * `mlmodel objects` on a local-directory connector (the embedded default; the
 * same suite runs on MinIO in test/integration/objects-minio.test.ts), on
 * local paths inside and outside the local roots, and against a store that
 * never answers.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { DirectoryObjectStore } from '../../src/store/directory.js';
import { browseSuite, failure } from './objects-suite.js';

describe('mlmodel objects on a local-directory connector (the embedded default)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  browseSuite(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-connector-'));
    dirs.push(dir);
    return { url: dir, store: new DirectoryObjectStore({ root: dir }), missing: join(dir, 'no-such-directory') };
  });
});

describe('mlmodel objects on local paths', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mlmodel-local-browse-'));
    await mkdir(join(root, 'inside', 'models', 'deep'), { recursive: true });
    await mkdir(join(root, 'outside'));
    await writeFile(join(root, 'inside', 'models', 'a.tar'), 'abc');
    await writeFile(join(root, 'inside', 'models', 'deep', 'b.tar'), 'abcdef');
    await writeFile(join(root, 'outside', 'secret.tar'), 'x');
    await symlink(join(root, 'outside'), join(root, 'inside', 'models', 'link'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function registry(localRoots: readonly string[] | null): Promise<Registry> {
    return openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home') }), localRoots });
  }

  it('lists a directory as absolute paths, a level per subdirectory, and never a link', async () => {
    const reg = await registry(null);
    try {
      const models = join(root, 'inside', 'models');
      const level = (await reg.run(`mlmodel objects path=${models}/`)).rows.map((r) => r.slice(0, 3));
      expect(level).toEqual([
        [`${models}/a.tar`, 'object', 3],
        [`${models}/deep/`, 'prefix', null],
      ]);
      const all = (await reg.run(`mlmodel objects path=FILE:${models}/ recursive=true`)).rows.map((r) => r[0]);
      expect(all).toEqual([`${models}/a.tar`, `${models}/deep/b.tar`]);
      // Without the trailing '/', the entry itself, as S3 lists a prefix.
      expect((await reg.run(`mlmodel objects path=${models}`)).rows.map((r) => r.slice(0, 2))).toEqual([[`${models}/`, 'prefix']]);
      const e = await failure(reg.run(`mlmodel objects path=${join(root, 'nope')}/`));
      expect(e.code).toBe('BUCKET_NOT_FOUND');
    } finally {
      await reg.close();
    }
  });

  it('stays inside the local roots when the registry has them (the HTTP server)', async () => {
    const reg = await registry([join(root, 'inside')]);
    try {
      expect((await reg.run(`mlmodel objects path=${join(root, 'inside')}/ recursive=true`)).rows.map((r) => r[0])).toEqual([
        `${root}/inside/models/a.tar`,
        `${root}/inside/models/deep/b.tar`,
      ]);
      for (const path of [`${join(root, 'outside')}/`, `${root}/`, `${join(root, 'inside', 'models', 'link')}/`]) {
        expect((await failure(reg.run(`mlmodel objects path=${path}`))).code, path).toBe('INVALID_ARGUMENT');
      }
    } finally {
      await reg.close();
    }
  });
});

describe('mlmodel objects and a store that never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and says nothing: a MinIO that hangs.
    server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('is cancelled when its signal fires, without waiting for the store', async () => {
    const port = (server.address() as { port: number }).port;
    const root = await mkdtemp(join(tmpdir(), 'mlmodel-hang-'));
    const reg = await openRegistry({
      config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONNECTOR_SLOW: `http://key:secretsecret@127.0.0.1:${port}/bucket` }),
    });
    try {
      const started = Date.now();
      const e = await failure(reg.run('mlmodel objects path=OBJECTSTORAGE.SLOW:', { signal: AbortSignal.timeout(300) }));
      expect(e.code).toBe('CANCELLED');
      // A generous hang bound, not a speed figure: the store never answers at all.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await reg.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
