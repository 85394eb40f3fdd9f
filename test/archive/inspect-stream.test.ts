import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArchiveInspector, inspectArchive } from '../../src/archive/index.js';
import { MlmodelError } from '../../src/errors.js';
import { discard, inspect } from './run.js';
import { END, file, header, sha256, tar } from './tar-writer.js';

const payload = randomBytes(3 * 1024 * 1024 + 123);
const archive = tar(file('model.onnx', payload), file('labels.txt', 'a\nb\n'));

function settledState(p: Promise<unknown>): Promise<'pending' | 'settled'> {
  return Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), sleep(30).then(() => 'pending' as const)]);
}

describe('passthrough', () => {
  for (const gzip of [false, true]) {
    it(`passes the original ${gzip ? 'gzip' : 'plain'} bytes through unchanged`, async () => {
      const input = gzip ? gzipSync(archive) : archive;
      const { report, out } = await inspect(input, { type: 'onnx' }, 7777);
      expect(sha256(out)).toBe(sha256(input));
      expect(report.sha256).toBe(sha256(input));
      expect(report.manifest[0]).toMatchObject({ path: 'model.onnx', size: payload.length, sha256: sha256(payload) });
    });
  }

  it('does not settle the result before the last byte, then resolves', async () => {
    const source = new PassThrough();
    const { passthrough, result } = inspectArchive(source, { type: 'onnx' });
    const seen = createHash('sha256');
    passthrough.on('data', (c: Buffer) => seen.update(c));
    const ended = new Promise((res) => passthrough.on('end', res));
    source.write(archive.subarray(0, archive.length - 512));
    expect(await settledState(result)).toBe('pending');
    source.end(archive.subarray(archive.length - 512));
    const report = await result;
    await ended;
    expect(report.size).toBe(archive.length);
    expect(seen.digest('hex')).toBe(sha256(archive));
  });

  it('applies back-pressure: a slow store keeps the source from being read far ahead', async () => {
    let produced = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < archive.length; i += 65536) {
          const c = archive.subarray(i, i + 65536);
          produced += c.length;
          yield c;
        }
      })(),
    );
    const { passthrough, result } = inspectArchive(source, { type: 'onnx' });
    let consumed = 0;
    let maxAhead = 0;
    const slowStore = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        consumed += chunk.length;
        maxAhead = Math.max(maxAhead, produced - consumed);
        setTimeout(cb, 1);
      },
    });
    await Promise.all([result, pipeline(passthrough, slowStore)]);
    expect(consumed).toBe(archive.length);
    expect(maxAhead).toBeLessThan(512 * 1024);
  });

  it('works as a Transform in a pipeline', async () => {
    const inspector = new ArchiveInspector({ type: 'onnx' });
    const out: Buffer[] = [];
    await pipeline(Readable.from([gzipSync(archive)]), inspector, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
    const report = await inspector.result;
    expect(report.compressed).toBe(true);
    expect(sha256(Buffer.concat(out))).toBe(report.sha256);
  });

  it('fails the pipeline, and so the store write, when the archive is refused', async () => {
    const inspector = new ArchiveInspector({ type: 'tf' });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(pipeline(Readable.from([archive]), inspector, sink)).rejects.toMatchObject({
      code: 'ARCHIVE_INVALID',
      details: { reason: 'missing-required' },
    });
    await expect(inspector.result).rejects.toMatchObject({ details: { reason: 'missing-required' } });
  });
});

describe('failures and cancellation', () => {
  it('stops reading the source as soon as an entry is refused', async () => {
    let produced = 0;
    const source = Readable.from(
      (function* () {
        yield header({ name: 'evil', type: '2', linkname: '/etc/shadow' });
        for (let i = 0; i < 10_000; i++) {
          produced += 65536;
          yield Buffer.alloc(65536);
        }
      })(),
    );
    const { passthrough, result } = inspectArchive(source, { type: 'onnx' });
    discard(passthrough);
    await expect(result).rejects.toMatchObject({ details: { reason: 'link', entry: 'evil' } });
    await sleep(10);
    expect(source.destroyed).toBe(true);
    expect(produced).toBeLessThan(1024 * 1024);
  });

  it('fails result and passthrough when the source fails', async () => {
    const source = new Readable({ read() {} });
    const { passthrough, result } = inspectArchive(source, { type: 'onnx' });
    const passthroughError = new Promise((res) => passthrough.on('error', res));
    passthrough.resume();
    source.push(archive.subarray(0, 2048));
    source.destroy(new Error('connection reset by peer'));
    const err = await result.catch((e: unknown) => e as MlmodelError);
    expect(err).toBeInstanceOf(MlmodelError);
    expect((err as MlmodelError).code).toBe('STORE_UNAVAILABLE');
    expect((err as MlmodelError).message).toContain('connection reset by peer');
    expect(await passthroughError).toBe(err);
  });

  it('cancels on abort: CANCELLED, source destroyed', async () => {
    const source = new PassThrough();
    const ac = new AbortController();
    const { passthrough, result } = inspectArchive(source, { type: 'onnx', signal: ac.signal });
    discard(passthrough);
    source.write(archive.subarray(0, 4096));
    await sleep(5);
    ac.abort();
    await expect(result).rejects.toMatchObject({ code: 'CANCELLED' });
    await sleep(5);
    expect(source.destroyed).toBe(true);
  });

  it('rejects the result when the store side destroys the passthrough', async () => {
    const source = new PassThrough();
    const { passthrough, result } = inspectArchive(source, { type: 'onnx' });
    passthrough.on('error', () => {});
    source.write(archive.subarray(0, 4096));
    passthrough.destroy(new Error('bucket quota exceeded'));
    await expect(result).rejects.toThrow('bucket quota exceeded');
    await sleep(5);
    expect(source.destroyed).toBe(true);
  });

  it('never resolves a result for an archive that only looks complete', async () => {
    // Every file is present but the archive stops before its end marker.
    const { passthrough, result } = inspectArchive(Readable.from([archive.subarray(0, archive.length - END.length)]), { type: 'onnx' });
    discard(passthrough);
    await expect(result).rejects.toMatchObject({ details: { reason: 'truncated' } });
  });
});
