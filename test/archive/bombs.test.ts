import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectArchive } from '../../src/archive/index.js';
import { MlmodelError } from '../../src/errors.js';
import { discard, inspect, refusal } from './run.js';
import { END, file, header, tar } from './tar-writer.js';

/** A tar stream: one header declaring `size` bytes, then that many zeros, generated lazily. */
function zeroTar(name: string, size: number, counter: { generated: number }): Readable {
  return Readable.from(
    (function* () {
      yield header({ name, size });
      const chunk = Buffer.alloc(1024 * 1024);
      for (let left = size; left > 0; left -= chunk.length) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        counter.generated += piece.length;
        yield piece;
      }
      yield END;
    })(),
  );
}

describe('decompression bombs', () => {
  it('refuses a 9 GiB-of-zeros gzip at default limits by ratio, after reading only a few KB of it', async () => {
    const counter = { generated: 0 };
    const gz = zeroTar('model.pkl', 9 * 1024 ** 3, counter).pipe(createGzip({ level: 9 }));
    let read = 0;
    const { passthrough, result } = inspectArchive(gz, { type: 'sklearn', onProgress: (n) => (read = n) });
    discard(passthrough);
    const err = await result.then(
      () => undefined,
      (e: unknown) => e as MlmodelError,
    );
    expect(err).toBeInstanceOf(MlmodelError);
    expect(err?.details['reason']).toBe('compression-ratio');
    expect(err?.message).toMatch(/compression ratio \d+:1 exceeds 1000:1/);
    console.log(`archive bomb: 9 GiB of zeros refused after ${read} compressed bytes read, ${(counter.generated / 2 ** 20).toFixed(0)} MiB generated`);
    // Refused just past the 8 MiB grace, not after 9 GiB.
    expect(read).toBeLessThan(256 * 1024);
    expect(counter.generated).toBeLessThan(256 * 1024 * 1024);
  });

  it('accepts a highly compressible archive below the ratio grace size', async () => {
    const input = gzipSync(tar(file('model.pkl', Buffer.alloc(4 * 1024 * 1024))));
    expect(4 * 1024 * 1024 / input.length).toBeGreaterThan(1000);
    const { report } = await inspect(input, { type: 'sklearn' });
    expect(report.totalUnpackedSize).toBe(4 * 1024 * 1024);
  });

  it('applies a lower configured ratio to ordinary compressible data', async () => {
    const text = Buffer.from('weights 0.000 0.000 0.000\n'.repeat(400_000));
    const err = await refusal(gzipSync(tar(file('model.pkl', text))), {
      type: 'sklearn',
      limits: { maxCompressionRatio: 50, ratioGraceBytes: 1024 * 1024 },
    });
    expect(err.details['reason']).toBe('compression-ratio');
  });

  it('caps the whole unpacked stream, including zeros after the end marker', async () => {
    const input = gzipSync(Buffer.concat([tar(file('model.pkl', 'x')), Buffer.alloc(3 * 1024 * 1024)]));
    const err = await refusal(input, {
      type: 'sklearn',
      limits: { maxUnpackedBytes: 1024 * 1024, maxEntries: 10, maxCompressionRatio: 1e9 },
    });
    expect(err.details['reason']).toBe('too-large');
    expect(err.message).toMatch(/archive unpacks to more than 1058816 bytes/);
  });

  it('refuses an oversized file from its header alone, before any body byte', async () => {
    const counter = { generated: 0 };
    const { passthrough, result } = inspectArchive(zeroTar('model.pkl', 2 * 1024 ** 3, counter), {
      type: 'sklearn',
      limits: { maxUnpackedBytes: 1024 ** 3 },
    });
    discard(passthrough);
    await expect(result).rejects.toMatchObject({ code: 'ARCHIVE_INVALID', details: { reason: 'too-large', entry: 'model.pkl' } });
    expect(counter.generated).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('counts entries at the default limit of 50,000', async () => {
    const entries = Readable.from(
      (function* () {
        yield file('model.pkl', 'x');
        for (let i = 0; i < 50_001; i++) yield header({ name: `f/${i}`, size: 0 });
        yield END;
      })(),
    );
    const { passthrough, result } = inspectArchive(entries, { type: 'sklearn' });
    discard(passthrough);
    await expect(result).rejects.toMatchObject({ details: { reason: 'too-many-entries', entry: 'f/49999' } });
  });
});
