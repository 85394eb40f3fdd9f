import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through, counting them and computing their sha256. */
export class DigestStream extends Transform {
  readonly #hash = createHash('sha256');
  #size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    cb(null, chunk);
  }

  get size(): number {
    return this.#size;
  }

  /** The hex digest; call once, after the stream has ended. */
  digest(): string {
    return this.#hash.digest('hex');
  }
}
