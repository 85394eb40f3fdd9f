/**
 * Objects are streams, never whole in memory: a ~200 MB archive generated
 * on the fly goes through inspection (and extraction) while RSS is
 * sampled; the peak may not grow by anything like the archive's size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractArchive, inspectArchive } from '../../src/archive/index.js';
import { END, file, header } from './tar-writer.js';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;
const LIMIT = 100 * MiB;

/** Incompressible 1 MiB block repeated (deflate's 32 KiB window cannot see the repeat). */
const block = randomBytes(MiB);
const bigSha = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BIG / MiB; i++) h.update(block);
  return h.digest('hex');
})();

function generated(): Readable {
  return Readable.from(
    (function* () {
      yield file('export/1/saved_model.pb', 'graph');
      yield header({ name: 'export/1/variables/variables.data-00000-of-00001', size: BIG });
      for (let i = 0; i < BIG / MiB; i++) yield block;
      yield file('export/1/variables/variables.index', 'index');
      yield END;
    })(),
  );
}

/** Runs `work` while sampling RSS; returns the peak growth over the starting RSS. */
async function rssGrowth(work: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return peak - start;
}

describe('memory stays flat while a ~200 MB archive streams', () => {
  for (const gzip of [false, true]) {
    it(`inspection of a ${gzip ? 'gzip' : 'plain'} archive`, { timeout: 60_000 }, async () => {
      const source = gzip ? generated().pipe(createGzip({ level: 1 })) : generated();
      const stored = createHash('sha256');
      let storedBytes = 0;
      let report;
      const growth = await rssGrowth(async () => {
        const { passthrough, result } = inspectArchive(source, { type: 'tf' });
        const store = new Writable({
          write(chunk: Buffer, _enc, cb) {
            stored.update(chunk);
            storedBytes += chunk.length;
            // An asynchronous store: without back-pressure the archive would pile up in memory.
            setImmediate(cb);
          },
        });
        [report] = await Promise.all([result, pipeline(passthrough, store)]);
      });
      console.log(`archive memory: ${gzip ? 'gzip' : 'plain'} inspection of ${(storedBytes / MiB).toFixed(0)} MiB: peak RSS growth ${(growth / MiB).toFixed(1)} MiB`);
      expect(report!.totalUnpackedSize).toBe(BIG + 10);
      expect(report!.manifest[1]!.sha256).toBe(bigSha);
      expect(report!.sha256).toBe(stored.digest('hex'));
      expect(report!.size).toBe(storedBytes);
      expect(storedBytes).toBeGreaterThan(gzip ? BIG : BIG + 2048);
      expect(growth).toBeLessThan(LIMIT);
    });
  }

  it('extraction to disk', { timeout: 60_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'mlmodel-mem-'));
    try {
      let files: { sha256: string }[] = [];
      const growth = await rssGrowth(async () => {
        files = (await extractArchive(generated(), join(work, 'out'), { type: 'tf' })).files;
      });
      console.log(`archive memory: extraction of ${BIG / MiB} MiB: peak RSS growth ${(growth / MiB).toFixed(1)} MiB`);
      expect(files[1]!.sha256).toBe(bigSha);
      expect(statSync(join(work, 'out/export/1/variables/variables.data-00000-of-00001')).size).toBe(BIG);
      expect(growth).toBeLessThan(LIMIT);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
