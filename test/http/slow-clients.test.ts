import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startHarness, type Harness } from './harness.js';

/**
 * Clients that send slowly or not at all are cut at the documented limits
 * (headers 10 s, a whole request 30 s, an idle keep-alive connection 5 s),
 * and while they hang on, other clients are answered. The bounds asserted
 * are the documented limit from below (nobody is cut early) and a generous
 * hang bound from above.
 */
describe('slow clients', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({ tokens: false });
    port = Number(new URL(h.url).port);
  });
  afterAll(() => h.close());

  /** Opens a raw connection, runs `feed` on it, and resolves with the seconds until the server closed it and what it said. */
  function watch(feed: (s: Socket) => void): Promise<{ seconds: number; said: string }> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      const t0 = performance.now();
      let said = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (said += d));
      s.on('error', () => undefined);
      s.on('close', () => resolve({ seconds: (performance.now() - t0) / 1000, said }));
      s.on('connect', () => feed(s));
      setTimeout(() => {
        s.destroy();
        reject(new Error('the server never closed the connection'));
      }, 50_000).unref();
    });
  }

  /** Writes `text` one piece every `ms` until the socket closes. */
  function trickle(s: Socket, first: string, piece: string, ms: number): void {
    s.write(first);
    const timer = setInterval(() => {
      if (s.destroyed || s.writableEnded) clearInterval(timer);
      else s.write(piece);
    }, ms);
    s.on('close', () => clearInterval(timer));
  }

  it('cuts trickled headers at 10 s, a trickled body at 30 s, silence at 10 s and an idle keep-alive at 5 s, answering others meanwhile', async () => {
    const headers = watch((s) => trickle(s, `GET /query/jobs/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`, 'X-Slow: a\r\n', 500));
    const silent = watch(() => undefined);
    const body = watch((s) =>
      trickle(s, `POST /query HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"q": "mlmodel list`, ' ', 500),
    );
    const idle = watch((s) => s.write(`GET /query/jobs/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`));

    // Meanwhile, other clients are answered at once, again and again.
    const slowest: number[] = [];
    let stop = false;
    const others = (async () => {
      while (!stop) {
        const t0 = performance.now();
        const r = await call(h, 'POST', '/query', { body: { q: 'mlmodel list | head 1' } });
        expect(r.status).toBe(200);
        slowest.push(performance.now() - t0);
        await new Promise((res) => setTimeout(res, 250));
      }
    })();

    let cut;
    try {
      cut = await Promise.all([headers, silent, body, idle]);
    } finally {
      stop = true;
      await others;
    }
    const [hd, sl, bd, id] = cut;

    expect(hd.seconds).toBeGreaterThanOrEqual(9.5);
    expect(hd.seconds).toBeLessThan(15);
    expect(hd.said).toMatch(/^HTTP\/1\.1 408 /);
    expect(sl.seconds).toBeGreaterThanOrEqual(9.5);
    expect(sl.seconds).toBeLessThan(15);
    expect(bd.seconds).toBeGreaterThanOrEqual(29.5);
    expect(bd.seconds).toBeLessThan(35);
    expect(bd.said).toMatch(/^HTTP\/1\.1 408 /);
    expect(id.said).toMatch(/^HTTP\/1\.1 404 /);
    expect(id.seconds).toBeGreaterThanOrEqual(4.5);
    expect(id.seconds).toBeLessThan(10);
    // About 30 s of other requests, none held up by the four slow connections (a hang bound, not a speed claim).
    expect(slowest.length).toBeGreaterThan(50);
    expect(Math.max(...slowest)).toBeLessThan(2_000);
    console.log(
      `slow clients: headers cut at ${hd.seconds.toFixed(1)} s, silence at ${sl.seconds.toFixed(1)} s, body at ${bd.seconds.toFixed(1)} s, idle keep-alive at ${id.seconds.toFixed(1)} s; ` +
        `${slowest.length} other requests meanwhile, slowest ${Math.max(...slowest).toFixed(0)} ms`,
    );
  }, 60_000);
});
