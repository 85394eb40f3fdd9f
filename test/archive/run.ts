/** Drives inspectArchive the way import does: result and passthrough consumed together. */
import { expect } from 'vitest';
import { MlmodelError } from '../../src/errors.js';
import { inspectArchive } from '../../src/archive/index.js';
import type { Readable } from 'node:stream';
import type { ArchiveReport, InspectOptions } from '../../src/archive/index.js';
import { chunked, collect } from './tar-writer.js';

export async function inspect(buf: Buffer, opts: InspectOptions, chunk = 4096): Promise<{ report: ArchiveReport; out: Buffer }> {
  const { passthrough, result } = inspectArchive(chunked(buf, chunk), opts);
  const [report, out] = await Promise.all([result, collect(passthrough)]);
  return { report, out };
}

/** Asserts the archive is refused: `result` rejects and the passthrough errors with the same error. */
export async function refusal(buf: Buffer, opts: InspectOptions, chunk = 4096): Promise<MlmodelError> {
  const { passthrough, result } = inspectArchive(chunked(buf, chunk), opts);
  const [r, p] = await Promise.allSettled([result, collect(passthrough)]);
  expect(r.status).toBe('rejected');
  expect(p.status).toBe('rejected');
  const err = (r as PromiseRejectedResult).reason as unknown;
  expect(err).toBeInstanceOf(MlmodelError);
  expect((p as PromiseRejectedResult).reason).toBe(err);
  return err as MlmodelError;
}

/** Reads and drops the passthrough, as a store write would; its error is the result's error, asserted there. */
export function discard(passthrough: Readable): void {
  passthrough.on('error', () => {});
  passthrough.resume();
}
