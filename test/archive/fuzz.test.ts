/**
 * Whatever the bytes, inspection ends in exactly one of two ways: a report,
 * or an ARCHIVE_INVALID refusal. Never a TypeError, a hang, or a report for
 * an archive whose files differ from what was checked.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectArchive } from '../../src/archive/index.js';
import { MlmodelError } from '../../src/errors.js';
import { collect, chunked, dir, file, gnuLong, pax, sha256, tar } from './tar-writer.js';

const base = tar(
  dir('m/'),
  file('m/model.pkl', 'pickle-bytes'.repeat(50)),
  pax({ path: `m/${'long-'.repeat(30)}name`, mtime: '1700000000.25' }),
  file('ignored-name', 'x'.repeat(700)),
  gnuLong(`m/${'gnu-'.repeat(40)}long`),
  file('short', 'y'),
);

type Outcome = { ok: true; out: Buffer; manifest: string[] } | { ok: false; reason: unknown };

async function run(input: Buffer, chunk: number): Promise<Outcome> {
  const { passthrough, result } = inspectArchive(chunked(input, chunk), { type: 'sklearn' });
  const [r, p] = await Promise.allSettled([result, collect(passthrough)]);
  if (r.status === 'fulfilled') {
    expect(p.status).toBe('fulfilled');
    return { ok: true, out: (p as PromiseFulfilledResult<Buffer>).value, manifest: r.value.manifest.map((m) => `${m.path}:${m.sha256}`) };
  }
  expect(p.status).toBe('rejected');
  return { ok: false, reason: r.reason };
}

function assertRefusal(o: Outcome): void {
  if (o.ok) return;
  expect(o.reason).toBeInstanceOf(MlmodelError);
  expect((o.reason as MlmodelError).code).toBe('ARCHIVE_INVALID');
}

describe('mutated archives', () => {
  it('either pass (bytes unchanged) or are refused with ARCHIVE_INVALID', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat({ max: base.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat({ max: base.length }), { nil: undefined }),
        fc.integer({ min: 1, max: 3000 }),
        async (flips, cut, chunk) => {
          const input = Buffer.from(base);
          for (const f of flips) input[f.at] = f.byte;
          const mutated = cut === undefined ? input : input.subarray(0, cut);
          const o = await run(mutated, chunk);
          assertRefusal(o);
          if (o.ok) expect(sha256(o.out)).toBe(sha256(mutated));
          // The same bytes give the same answer however they are chunked.
          const again = await run(mutated, 512);
          expect(again.ok).toBe(o.ok);
          if (o.ok && again.ok) expect(again.manifest).toEqual(o.manifest);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gzip streams with flipped bytes are refused or pass, never crash', async () => {
    const gz = gzipSync(base);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: gz.length - 1 }), fc.integer({ min: 0, max: 255 }), async (at, byte) => {
        const input = Buffer.from(gz);
        input[at] = byte;
        assertRefusal(await run(input, 1024));
      }),
      { numRuns: 150 },
    );
  });

  it('random bytes are refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), async (bytes) => {
        const o = await run(Buffer.from(bytes), 700);
        expect(o.ok).toBe(false);
        assertRefusal(o);
      }),
      { numRuns: 150 },
    );
  });
});
