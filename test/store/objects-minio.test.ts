/**
 * The object-store conformance suite on a real MinIO server (built by
 * scripts/test-servers.mjs, or MLMODEL_TEST_MINIO_URL). Each store gets its
 * own bucket.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseS3Url } from '../../src/config/location.js';
import { isMlmodelError } from '../../src/errors.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { describeWithServer } from '../servers/servers.js';
import { httpGet, objectConformance, readAll } from './objects-conformance.js';

const run = randomBytes(3).toString('hex');
let n = 0;

describeWithServer('minio', 'MinIO object store', (url) => {
  const base = url.replace(/\/+$/, '');

  describe('conformance', () => {
    objectConformance({
      async open() {
        const store = new MinioObjectStore({ location: parseS3Url(`${base}/mlmodel-test-${run}-${++n}`, 'test') });
        await store.init();
        return store;
      },
      fetchPresigned: httpGet,
    });
  });

  describe('MinIO specifics', () => {
    it('keeps keys under the configured prefix, and lists them without it', async () => {
      const bucket = `mlmodel-test-${run}-${++n}`;
      const a = new MinioObjectStore({ location: parseS3Url(`${base}/${bucket}/serving/base`, 'test') });
      const whole = new MinioObjectStore({ location: parseS3Url(`${base}/${bucket}`, 'test') });
      await a.init();
      await a.put('m/1', Readable.from([Buffer.from('x')]));
      const keys: string[] = [];
      for await (const o of whole.list('')) keys.push(o.key);
      expect(keys).toEqual(['serving/base/m/1']);
      const mine: string[] = [];
      for await (const o of a.list('')) mine.push(o.key);
      expect(mine).toEqual(['m/1']);
      expect((await readAll(await whole.get('serving/base/m/1'))).toString()).toBe('x');
    });

    it('init is idempotent and creates the bucket once', async () => {
      const loc = parseS3Url(`${base}/mlmodel-test-${run}-${++n}`, 'test');
      await Promise.all([new MinioObjectStore({ location: loc }).init(), new MinioObjectStore({ location: loc }).init()]);
      await new MinioObjectStore({ location: loc }).init();
    });

    it('reports wrong credentials as STORE_UNAVAILABLE without the secret', async () => {
      const wrong = base.replace(/:\/\/([^:]+):([^@]+)@/, '://$1:WrongSecret123@');
      const store = new MinioObjectStore({ location: parseS3Url(`${wrong}/mlmodel-test-${run}-x`, 'test') });
      const err = await store.init().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMlmodelError(err, 'STORE_UNAVAILABLE')).toBe(true);
      expect(JSON.stringify(err)).not.toContain('WrongSecret123');
      expect(String(err)).not.toContain('WrongSecret123');
    });
  });
});
