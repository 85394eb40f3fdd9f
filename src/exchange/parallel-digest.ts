/**
 * A sha256 computed on a worker thread, beside the thread that moves the
 * bytes: bundle checks each archive against its record while the same bytes
 * are hashed again, on this thread, for the bundle's own sha256. Two hashes
 * of every byte on one thread were what held export to two thirds of a raw
 * copy (docs/performance.md §12). The worker's code is inline (eval), so the
 * one-file build of the CLI carries it. Chunks are copied and transferred;
 * at most MAX_AHEAD bytes wait for the worker, so a slow worker slows the
 * copy instead of filling memory.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let hash = createHash('sha256');
parentPort.on('message', (m) => {
  if (m === null) {
    parentPort.postMessage({ digest: hash.digest('hex') });
    hash = createHash('sha256');
    return;
  }
  hash.update(new Uint8Array(m));
  parentPort.postMessage({ done: m.byteLength });
});
`;

const MAX_AHEAD = 8 * 1024 * 1024;

export class ParallelDigest {
  readonly #worker = new Worker(WORKER, { eval: true });
  #ahead = 0;
  #failure: Error | undefined;
  #waiting: Array<() => void> = [];
  #digests: Array<(d: string) => void> = [];

  constructor() {
    this.#worker.on('message', (m: { done?: number; digest?: string }) => {
      if (m.done !== undefined) {
        this.#ahead -= m.done;
        if (this.#ahead <= MAX_AHEAD) for (const w of this.#waiting.splice(0)) w();
      } else if (m.digest !== undefined) this.#digests.shift()?.(m.digest);
    });
    const fail = (e: Error) => {
      this.#failure ??= e;
      for (const w of this.#waiting.splice(0)) w();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', () => fail(new Error('the digest worker exited')));
    // An idle worker does not keep the process alive.
    this.#worker.unref();
  }

  /** Hashes a copy of `chunk`; resolves when the worker is not too far behind. */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    const copy = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
    this.#ahead += copy.byteLength;
    this.#worker.postMessage(copy, [copy]);
    if (this.#ahead > MAX_AHEAD) await new Promise<void>((r) => this.#waiting.push(r));
    if (this.#failure) throw this.#failure;
  }

  /** The sha256 (hex) of everything since the last digest; the next update starts a new one. */
  async digest(): Promise<string> {
    if (this.#failure) throw this.#failure;
    const got = new Promise<string>((resolve) => this.#digests.push(resolve));
    this.#worker.postMessage(null);
    const failed = once(this.#worker, 'error').then(([e]) => Promise.reject(e as Error));
    failed.catch(() => undefined);
    return Promise.race([got, failed]);
  }

  close(): Promise<number> {
    return this.#worker.terminate();
  }
}
