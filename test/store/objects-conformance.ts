/**
 * The object-store conformance suite, run unchanged against the directory
 * store and MinIO. Objects move as streams; the 1 GiB test asserts that the
 * process's memory does not grow by 100 MB or more while one goes in and out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isMlmodelError, type ErrorCode } from '../../src/errors.js';
import type { ObjectStore } from '../../src/store/objects.js';

export interface ObjectHarness {
  /** A store over a fresh, empty place; init() already called. */
  open(): Promise<ObjectStore>;
  /** Fetches what presignGet returned: an HTTP GET for a URL, a read for a path. */
  fetchPresigned(location: string): Promise<Buffer>;
}

const MiB = 1024 * 1024;

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected MlmodelError ${code}`).not.toBeNull();
  if (!isMlmodelError(err, code)) throw err;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * `total` bytes made on the fly, 1 MiB at a time, never held: a fixed random
 * block with the chunk number stamped into it, so every chunk differs.
 * `digest()` gives the sha256 of everything generated so far.
 *
 * Chunks come from a ring of 16 buffers allocated up front, so the test's
 * own garbage does not count against the store's memory; a store that kept
 * a chunk past 15 more would read changed bytes, and the sha256 checks fail.
 */
export function generated(total: number): { stream: Readable; digest(): string } {
  const block = randomBytes(MiB);
  const ring = Array.from({ length: 16 }, () => Buffer.alloc(MiB));
  const hash = createHash('sha256');
  let sent = 0;
  let n = 0;
  const stream = new Readable({
    highWaterMark: MiB,
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(MiB, total - sent);
      const chunk = ring[n % ring.length]!.subarray(0, size);
      block.copy(chunk, 0, 0, size);
      chunk.writeUInt32BE(n++ >>> 0, 0);
      hash.update(chunk);
      sent += size;
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** A garbage collector to call, so that the baseline is not inflated by garbage. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Samples RSS every 10 ms while fn runs; returns fn's result and the peak growth. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  gc();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

/**
 * `huge: false` leaves out the 1 GiB case (a memory check of the client, not
 * the server) where it would take minutes: a distributed MinIO on 2 cores
 * writes it erasure-coded to four drives (the long campaign runs it there).
 */
export function objectConformance(h: ObjectHarness, options: { huge?: boolean } = {}): void {
  let store: ObjectStore;
  beforeAll(async () => {
    store = await h.open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('put, get, stat, delete', async () => {
    const data = randomBytes(1000);
    const res = await store.put('models/u1/archive.tar', Readable.from([data]));
    expect(res).toEqual({ key: 'models/u1/archive.tar', size: 1000, sha256: sha(data) });
    expect(await readAll(await store.get('models/u1/archive.tar'))).toEqual(data);
    const st = await store.stat('models/u1/archive.tar');
    expect(st?.size).toBe(1000);
    expect(st?.key).toBe('models/u1/archive.tar');
    expect(Math.abs(st!.modified.getTime() - Date.now())).toBeLessThan(60_000);
    await store.delete('models/u1/archive.tar');
    expect(await store.stat('models/u1/archive.tar')).toBeNull();
    await expectCode(store.get('models/u1/archive.tar'), 'OBJECT_NOT_FOUND');
    // Deleting what is not there is not an error.
    await store.delete('models/u1/archive.tar');
  });

  it('puts an object whose directory entry the next put beside it makes durable (deferEntry), readable at once', async () => {
    const archive = randomBytes(3000);
    const manifest = Buffer.from('{"files":[]}');
    const res = await store.put('defer/u1/archive', Readable.from([archive]), { deferEntry: true });
    expect(res).toEqual({ key: 'defer/u1/archive', size: 3000, sha256: sha(archive) });
    expect(await readAll(await store.get('defer/u1/archive'))).toEqual(archive);
    await store.put('defer/u1/manifest.json', Readable.from([manifest]));
    // Checked as any put: a wrong sha256 stores nothing.
    await expectCode(store.put('defer/u2/archive', Readable.from([archive]), { deferEntry: true, sha256: sha(manifest) }), 'CHECKSUM_MISMATCH');
    // One whose follower never comes (a failed import) goes as any other object.
    await store.put('defer/u3/archive', Readable.from([archive]), { deferEntry: true });
    await store.delete('defer/u3/archive');
    const keys: string[] = [];
    for await (const o of store.list('defer/')) keys.push(o.key);
    expect(keys).toEqual(['defer/u1/archive', 'defer/u1/manifest.json']);
    expect(await readAll(await store.get('defer/u1/manifest.json'))).toEqual(manifest);
  });

  it('stores the same with newPrefix whether the prefix is new, already holds objects, or is nested several levels deep', async () => {
    const a = randomBytes(700);
    const b = randomBytes(900);
    await store.put('fresh/u1/archive', Readable.from([a]), { newPrefix: true, deferEntry: true });
    await store.put('fresh/u1/manifest.json', Readable.from([b]));
    // The hint is wrong here (the prefix holds an object): the put is the same.
    await store.put('fresh/u1/other', Readable.from([b]), { newPrefix: true });
    await store.put('fresh/x/y/z/archive', Readable.from([a]), { newPrefix: true });
    const keys: string[] = [];
    for await (const o of store.list('fresh/')) keys.push(o.key);
    expect(keys).toEqual(['fresh/u1/archive', 'fresh/u1/manifest.json', 'fresh/u1/other', 'fresh/x/y/z/archive']);
    expect(await readAll(await store.get('fresh/u1/archive'))).toEqual(a);
    expect(await readAll(await store.get('fresh/u1/other'))).toEqual(b);
    expect(await readAll(await store.get('fresh/x/y/z/archive'))).toEqual(a);
  });

  it('takes streams, async iterables and empty bodies', async () => {
    async function* parts() {
      yield new TextEncoder().encode('hello ');
      yield Buffer.from('world');
    }
    expect((await store.put('kinds/iter', parts())).size).toBe(11);
    expect((await readAll(await store.get('kinds/iter'))).toString()).toBe('hello world');
    const empty = await store.put('kinds/empty', Readable.from([]));
    expect(empty).toEqual({ key: 'kinds/empty', size: 0, sha256: sha(Buffer.alloc(0)) });
    expect((await readAll(await store.get('kinds/empty'))).length).toBe(0);
  });

  it('overwrites atomically: concurrent writers leave one whole version', async () => {
    const versions = [0, 1, 2, 3].map(() => randomBytes(3 * MiB + 17));
    await Promise.all(versions.map((v) => store.put('race/obj', Readable.from([v]))));
    const got = await readAll(await store.get('race/obj'));
    expect(versions.map(sha)).toContain(sha(got));
  });

  it('uploads in parts and checks the expected sha256 and size', async () => {
    // Larger than one part (8 MiB), in uneven chunks.
    const data = randomBytes(21 * MiB + 5);
    const chunks = [data.subarray(0, 3), data.subarray(3, 9 * MiB), data.subarray(9 * MiB)];
    const res = await store.put('big/ok', Readable.from(chunks), { sha256: sha(data), size: data.length });
    expect(res.sha256).toBe(sha(data));
    expect(res.size).toBe(data.length);
    expect(sha(await readAll(await store.get('big/ok')))).toBe(sha(data));
  });

  it('refuses a body whose sha256 or size is not the expected one, and stores nothing', async () => {
    const old = Buffer.from('the old version');
    await store.put('check/obj', Readable.from([old]));
    const small = randomBytes(1000);
    const large = randomBytes(17 * MiB);
    const wrong = sha(Buffer.from('something else'));
    await expectCode(store.put('check/obj', Readable.from([small]), { sha256: wrong }), 'CHECKSUM_MISMATCH');
    await expectCode(store.put('check/obj', Readable.from([large]), { sha256: wrong }), 'CHECKSUM_MISMATCH');
    await expectCode(store.put('check/obj', Readable.from([large]), { size: large.length + 1 }), 'CHECKSUM_MISMATCH');
    await expectCode(store.put('check/new', Readable.from([large]), { sha256: wrong }), 'CHECKSUM_MISMATCH');
    expect((await readAll(await store.get('check/obj'))).toString()).toBe('the old version');
    expect(await store.stat('check/new')).toBeNull();
    const keys: string[] = [];
    for await (const o of store.list('check/')) keys.push(o.key);
    expect(keys).toEqual(['check/obj']);
  });

  it('leaves nothing behind when the source stream fails midway', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(MiB));
        if (this.readableLength > 0 && Math.random() < 2) {
          // Fail after about 12 MiB (past the first part on MinIO).
          (this as unknown as { n?: number }).n = ((this as unknown as { n?: number }).n ?? 0) + 1;
          if ((this as unknown as { n: number }).n > 12) this.destroy(new Error('source broke'));
        }
      },
    });
    const err = await store.put('broken/obj', failing).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).not.toBeNull();
    expect(await store.stat('broken/obj')).toBeNull();
    const keys: string[] = [];
    for await (const o of store.list('broken/')) keys.push(o.key);
    expect(keys).toEqual([]);
  });

  it('shows a write in progress among temporaries(), and none once it is done', async () => {
    // 12 MiB (past MinIO's first part), then the source waits until released.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= 12) {
          void released.then(() => this.push(null));
          return;
        }
        sent++;
        this.push(randomBytes(MiB));
      },
    });
    const putting = store.put('pending/obj', body);
    const mine = async () => {
      const out = [];
      for await (const t of store.temporaries()) if (t.name.startsWith('pending/')) out.push(t);
      return out;
    };
    const deadline = Date.now() + 20_000;
    let seen = await mine();
    while (seen.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await mine();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.size).toBeGreaterThanOrEqual(0);
    expect(Math.abs(seen[0]!.modified.getTime() - Date.now())).toBeLessThan(120_000);
    // Stored objects are never temporaries: removeTemporary refuses their keys.
    await store.put('pending/kept', Readable.from([Buffer.from('kept')]));
    await expect(store.removeTemporary('pending/kept')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    release();
    expect((await putting).size).toBe(12 * MiB);
    expect(await mine()).toEqual([]);
    expect((await store.stat('pending/kept'))?.size).toBe(4);
  });

  it('lists by prefix in byte order', async () => {
    const keys = ['l/m/a/1', 'l/m/a/2', 'l/m/a-b', 'l/m/ab/x', 'l/m/b', 'l/n/1', 'l/m/Z', 'l/m/é'];
    for (const k of keys) await store.put(k, Readable.from([Buffer.from(k)]));
    const list = async (prefix: string) => {
      const out: Array<[string, number]> = [];
      for await (const o of store.list(prefix)) out.push([o.key, o.size]);
      return out;
    };
    expect((await list('l/m/a')).map(([k]) => k)).toEqual(['l/m/a-b', 'l/m/a/1', 'l/m/a/2', 'l/m/ab/x']);
    expect((await list('l/m/a/')).map(([k]) => k)).toEqual(['l/m/a/1', 'l/m/a/2']);
    expect((await list('l/')).map(([k]) => k)).toEqual([
      'l/m/Z',
      'l/m/a-b',
      'l/m/a/1',
      'l/m/a/2',
      'l/m/ab/x',
      'l/m/b',
      'l/m/é',
      'l/n/1',
    ]);
    expect(await list('l/m/b')).toEqual([['l/m/b', 5]]);
    expect(await list('l/zzz')).toEqual([]);
    expect(await list('nothing/')).toEqual([]);
  });

  it('copies server-side', async () => {
    const data = randomBytes(2 * MiB);
    await store.put('copy/src', Readable.from([data]));
    const info = await store.copy('copy/src', 'copy/dst/deeper');
    expect(info).toMatchObject({ key: 'copy/dst/deeper', size: data.length });
    expect(sha(await readAll(await store.get('copy/dst/deeper')))).toBe(sha(data));
    // The source stays; the copy is independent of it.
    await store.delete('copy/src');
    expect(sha(await readAll(await store.get('copy/dst/deeper')))).toBe(sha(data));
    await expectCode(store.copy('copy/missing', 'copy/x'), 'OBJECT_NOT_FOUND');
  });

  it('hands out a presigned GET that downloads byte-identical', async () => {
    const data = randomBytes(MiB + 3);
    await store.put('share/model.tar', Readable.from([data]));
    const where = await store.presignGet('share/model.tar', 600);
    expect(sha(await h.fetchPresigned(where))).toBe(sha(data));
    await expectCode(store.presignGet('share/missing', 600), 'OBJECT_NOT_FOUND');
    await expectCode(store.presignGet('share/model.tar', 0), 'INVALID_ARGUMENT');
    await expectCode(store.presignGet('share/model.tar', 8 * 24 * 3600), 'INVALID_ARGUMENT');
  });

  it('refuses keys that would escape or be ambiguous', async () => {
    for (const key of ['', '/abs', 'a//b', 'a/', 'a/../b', '..', './a', 'a\\b', 'a\nb', 'x/.mlmodel-tmp-1', 'k'.repeat(1025)]) {
      await expectCode(store.put(key, Readable.from([Buffer.from('x')])), 'OBJECT_KEY_INVALID');
      await expectCode(store.get(key), 'OBJECT_KEY_INVALID');
    }
    await expectCode(store.put('ok', Readable.from([Buffer.from('x')]), { sha256: 'nothex' }), 'INVALID_ARGUMENT');
  });

  it.skipIf(options.huge === false)('streams 1 GiB in and out, copies it, with memory growth under 100 MB', async () => {
    const GiB = 1024 * MiB;
    const source = generated(GiB);
    const put = await peakRssGrowth(() => store.put('huge/1gib', source.stream, { size: GiB }));
    const expected = source.digest();
    expect(put.result).toEqual({ key: 'huge/1gib', size: GiB, sha256: expected });

    const get = await peakRssGrowth(async () => {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of await store.get('huge/1gib')) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      return { size, sha256: hash.digest('hex') };
    });
    expect(get.result).toEqual({ size: GiB, sha256: expected });

    const copy = await peakRssGrowth(() => store.copy('huge/1gib', 'huge/1gib-copy'));
    expect(copy.result.size).toBe(GiB);

    const MB = 1_000_000;
    process.stdout.write(
      `[memory] ${store.kind}: 1 GiB put +${(put.growth / MB).toFixed(1)} MB, get +${(get.growth / MB).toFixed(1)} MB, copy +${(copy.growth / MB).toFixed(1)} MB peak RSS growth\n`,
    );
    expect(put.growth).toBeLessThan(100 * MB);
    expect(get.growth).toBeLessThan(100 * MB);
    expect(copy.growth).toBeLessThan(100 * MB);
    await store.delete('huge/1gib');
    await store.delete('huge/1gib-copy');
    expect(await store.stat('huge/1gib')).toBeNull();
  }, 600_000);
}

/** What presignGet returns for the directory store: a path to read. */
export async function readPath(path: string): Promise<Buffer> {
  expect(path.startsWith('/')).toBe(true);
  return readFile(path);
}

/** What presignGet returns for MinIO: a URL for a plain HTTP GET, no credentials attached. */
export async function httpGet(url: string): Promise<Buffer> {
  expect(url).toMatch(/^https?:\/\//);
  expect(url).toMatch(/X-Amz-Signature=/);
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}
