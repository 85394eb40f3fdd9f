/**
 * SharedFlush (src/store/shared-flush.ts), which lets concurrent puts share
 * one directory fsync: a put may count on its directory entry being durable
 * only if the flush that answers it began after it asked. Generated schedules
 * of requests and flush completions check that, that flushes never overlap,
 * and that every request is answered.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharedFlush } from '../../src/store/shared-flush.js';

interface Flush {
  readonly start: number;
  readonly finish: (error?: Error) => void;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('SharedFlush', () => {
  it('answers every request with a flush that began after it, one flush at a time, fewer flushes than requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('request', 'finish', 'fail'), { minLength: 1, maxLength: 60 }), async (steps) => {
        let clock = 0;
        const flushes: Flush[] = [];
        let running = 0;
        let maxRunning = 0;
        let idles = 0;
        const f = new SharedFlush(
          () =>
            new Promise<void>((resolve, reject) => {
              running++;
              maxRunning = Math.max(maxRunning, running);
              flushes.push({
                start: ++clock,
                finish: (e) => {
                  running--;
                  if (e) reject(e);
                  else resolve();
                },
              });
            }),
          () => idles++,
        );
        const requests: Array<{ at: number; answeredBy: number | null; failed: boolean }> = [];
        let finished = 0;
        const finishNext = async (error?: Error) => {
          const fl = flushes[finished]!;
          fl.finish(error);
          await settle();
          // Whatever this completion answered was answered by this flush.
          for (const r of requests) if (r.answeredBy === -1) r.answeredBy = fl.start;
          finished++;
        };
        for (const step of steps) {
          if (step === 'request') {
            const r = { at: ++clock, answeredBy: null as number | null, failed: false };
            requests.push(r);
            f.request().then(
              () => (r.answeredBy = -1),
              () => {
                r.answeredBy = -1;
                r.failed = true;
              },
            );
            await settle();
          } else if (finished < flushes.length) {
            await finishNext(step === 'fail' ? new Error('flush failed') : undefined);
          }
        }
        while (finished < flushes.length) await finishNext();
        for (const r of requests) {
          expect(r.answeredBy, 'every request is answered').not.toBeNull();
          expect(r.answeredBy!, 'by a flush that began after it asked').toBeGreaterThan(r.at);
        }
        expect(maxRunning).toBeLessThanOrEqual(1);
        expect(flushes.length).toBeLessThanOrEqual(requests.length);
        if (requests.length > 0) expect(idles).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('shares one flush among every request made while another ran', async () => {
    const starts: Array<() => void> = [];
    const f = new SharedFlush(
      () => new Promise<void>((r) => starts.push(r)),
      () => undefined,
    );
    const first = f.request();
    const waiting = Array.from({ length: 10 }, () => f.request());
    expect(starts).toHaveLength(1);
    starts[0]!();
    await first;
    await settle();
    // The ten that asked during the first flush share the second.
    expect(starts).toHaveLength(2);
    starts[1]!();
    await Promise.all(waiting);
    expect(starts).toHaveLength(2);
  });

  it('hands a failed flush to the requests it answered, and the next request flushes again', async () => {
    let n = 0;
    const f = new SharedFlush(
      () => (++n === 1 ? Promise.reject(new Error('EIO')) : Promise.resolve()),
      () => undefined,
    );
    await expect(f.request()).rejects.toThrow('EIO');
    await expect(f.request()).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});
