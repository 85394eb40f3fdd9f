/**
 * The object-store conformance suite on a real MinIO server (built by
 * scripts/test-servers.mjs, or MLMODEL_TEST_MINIO_URL). Each store gets its
 * own bucket.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseS3Url } from '../../src/config/location.js';
import { isMlmodelError } from '../../src/errors.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import type { TemporaryInfo } from '../../src/store/temporaries.js';
import { ObjectServingTarget } from '../../src/serving/target.js';
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

    /**
     * A real process puts 12 MiB (past the first 8 MiB part) to `key` (`{tag}`
     * becomes its writer tag), then its source stalls; it is SIGKILLed once
     * `store` lists the upload with its first part. Returns what was listed.
     */
    async function killedPut(bucketUrl: string, key: string, list: () => Promise<TemporaryInfo[]>): Promise<TemporaryInfo[]> {
      const script = `
        const { Readable } = require('node:stream');
        // A writer that is still running: without a handle, a stalled source lets Node exit on its own.
        setInterval(() => {}, 1000);
        (async () => {
          const { MinioObjectStore } = await import(process.argv[1]);
          const { parseS3Url } = await import(process.argv[2]);
          const { writerTag } = await import(process.argv[3]);
          const store = new MinioObjectStore({ location: parseS3Url(process.argv[4], 'test') });
          let n = 0;
          const body = new Readable({ read() { if (n++ < 12) this.push(Buffer.alloc(1 << 20, n)); } });
          await store.put(process.argv[5].replace('{tag}', writerTag()), body);
        })();
      `;
      const dist = (p: string) => new URL(`../../dist/src/${p}`, import.meta.url).pathname;
      const child = spawn(process.execPath, ['-e', script, dist('store/minio.js'), dist('config/location.js'), dist('store/temporaries.js'), bucketUrl, key], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      const deadline = Date.now() + 30_000;
      let seen = await list();
      while (!(seen.length === 1 && seen[0]!.size >= 8 * 1024 * 1024) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = await list();
      }
      // Listed while its writer runs: a tagged key says so.
      const whileRunning = seen.map((t) => t.writer);
      child.kill('SIGKILL');
      await exited;
      expect(seen).toHaveLength(1);
      expect(whileRunning, `child ${child.pid}: ${seen.map((t) => t.name).join(' ')}`).toEqual([key.includes('{tag}') ? 'running' : 'unknown']);
      return seen;
    }

    it('lists the incomplete upload a SIGKILLed put leaves, and removes it', async () => {
      const bucketUrl = `${base}/mlmodel-test-${run}-${++n}`;
      const store = new MinioObjectStore({ location: parseS3Url(bucketUrl, 'test') });
      await store.init();
      const list = async () => {
        const out: TemporaryInfo[] = [];
        for await (const t of store.temporaries()) out.push(t);
        return out;
      };
      const seen = await killedPut(bucketUrl, 'killed/archive', list);
      expect(seen[0]).toMatchObject({ name: expect.stringMatching(/^killed\/archive#.+/), writer: 'unknown' });
      expect(await store.stat('killed/archive')).toBeNull();
      // Still there after the kill: only an abort frees the parts.
      expect((await list()).map((t) => t.name)).toEqual([seen[0]!.name]);
      await store.removeTemporary(seen[0]!.name);
      expect(await list()).toEqual([]);
      // Removing it again is not an error; a name that is not an upload is refused.
      await store.removeTemporary(seen[0]!.name);
      await expect(store.removeTemporary('killed/archive')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }, 60_000);

    it("lists a killed deploy's unfinished upload among the serving target's leftovers, its writer gone, and removes it", async () => {
      const bucketUrl = `${base}/mlmodel-test-${run}-${++n}`;
      const store = new MinioObjectStore({ location: parseS3Url(bucketUrl, 'test') });
      await store.init();
      const target = new ObjectServingTarget(store, `s3://unused/base`);
      const seen = await killedPut(bucketUrl, 'svc/.tmp-{tag}0123456789abcdef/variables/variables.data', () => target.leftovers());
      expect(seen[0]!.name).toMatch(/^svc\/\.tmp-[0-9a-f]{8}\.\d+\.0123456789abcdef\/variables\/variables\.data#.+/);
      const after = await target.leftovers();
      expect(after.map((t) => [t.name, t.writer])).toEqual([[seen[0]!.name, 'gone']]);
      await target.removeLeftover(seen[0]!.name);
      expect(await target.leftovers()).toEqual([]);
    }, 60_000);
  });
});
