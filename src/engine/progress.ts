import { pipeline, Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through unchanged, reporting the running total. */
export class ProgressStream extends Transform {
  #done = 0;
  readonly #report: (done: number) => void;

  constructor(report: (done: number) => void) {
    super();
    this.#report = report;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#done += chunk.length;
    this.#report(this.#done);
    cb(null, chunk);
  }
}

/** `source` through a ProgressStream; an error on either side destroys both. */
export function withProgress(source: NodeJS.ReadableStream, report: (done: number) => void): ProgressStream {
  const counter = new ProgressStream(report);
  pipeline(source, counter, () => undefined);
  return counter;
}
