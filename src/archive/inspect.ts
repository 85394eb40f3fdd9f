/**
 * Import's single pass over an archive: the original bytes flow through
 * unchanged (to the object store) while a copy is gunzipped, checked and
 * hashed. The passthrough only ends after the whole archive passed every
 * check; when a check fails it errors instead, so the store write fails
 * too and the caller deletes the partial object. Nothing touches disk.
 *
 *   const { passthrough, result } = inspectArchive(source, { type: 'tf' });
 *   const [report] = await Promise.all([result, objects.put(key, passthrough)]);
 *   // only now write the metadata record
 */
import { createHash } from 'node:crypto';
import { getMaxListeners, setMaxListeners } from 'node:events';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { MlmodelError, isMlmodelError } from '../errors.js';
import { ArchiveDecoder } from './decode.js';
import { parseModelType } from './required-files.js';
import { ArchiveScanner } from './scan.js';
import { resolveLimits, type ArchiveReport, type InspectOptions } from './types.js';

/** How many inspections one signal may have listening at once before Node would call it a leak. */
const CONCURRENT_INSPECTIONS = 1024;

const FINISHED = new MlmodelError('CANCELLED', 'archive inspection finished');

export class ArchiveInspector extends Transform {
  /** Settles after the last byte: resolves with the report, or rejects with why the archive was refused. */
  readonly result: Promise<ArchiveReport>;
  private readonly hash: ReturnType<typeof createHash> | null;
  private size = 0;
  private readonly scanner: ArchiveScanner;
  private readonly decoder: ArchiveDecoder;
  private readonly onProgress: ((bytes: number) => void) | undefined;
  private settled = false;
  private resolveResult: (r: ArchiveReport) => void = () => {};
  private rejectResult: (e: Error) => void = () => {};
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => {
    this.destroy(new MlmodelError('CANCELLED', 'archive inspection cancelled'));
  };

  /** Throws INVALID_ARGUMENT synchronously for an unknown model type. */
  constructor(opts: InspectOptions) {
    super();
    const type = parseModelType(opts.type);
    const limits = resolveLimits(opts.limits);
    this.scanner = new ArchiveScanner(limits, type);
    this.decoder = new ArchiveDecoder((chunk) => this.scanner.write(chunk), limits);
    this.onProgress = opts.onProgress;
    this.hash = opts.hashArchive === false ? null : createHash('sha256');
    this.result = new Promise<ArchiveReport>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // Callers usually await `result` together with the store write; if the
    // write fails first they must not crash on an unobserved rejection.
    this.result.catch(() => {});
    this.signal = opts.signal;
    if (this.signal?.aborted) queueMicrotask(this.onAbort);
    else if (this.signal) {
      // One command's signal is shared by all its inspections in flight — a
      // bundle's archives stream while the ones before them are still being
      // stored — and each removes its listener when it settles: more than
      // Node's default of ten at once is the design, not a leak to warn of.
      if (getMaxListeners(this.signal) < CONCURRENT_INSPECTIONS) setMaxListeners(CONCURRENT_INSPECTIONS, this.signal);
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.hash?.update(chunk);
    this.push(chunk);
    this.onProgress?.(this.size);
    this.decoder.write(chunk).then(
      () => callback(),
      (e: unknown) => callback(asError(e)),
    );
  }

  override _flush(callback: TransformCallback): void {
    this.decoder
      .end()
      .then(() => {
        const scan = this.scanner.finish();
        if (scan.format === undefined || scan.filename === undefined) {
          throw new MlmodelError('INTERNAL', 'required-file check produced no main file');
        }
        const report: ArchiveReport = {
          sha256: this.hash?.digest('hex') ?? '',
          size: this.size,
          compressed: this.decoder.compressed,
          format: scan.format,
          filename: scan.filename,
          manifest: scan.manifest,
          entries: scan.entries,
          totalUnpackedSize: scan.totalUnpackedSize,
        };
        this.settle();
        this.resolveResult(report);
        callback();
      })
      .catch((e: unknown) => callback(asError(e)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // After a complete archive the decoder is only told to stop: one shared
    // error, rather than a new one (with its stack trace) per import.
    const reason = error ?? (this.settled ? FINISHED : new MlmodelError('CANCELLED', 'archive stream closed before the end of the archive'));
    this.decoder.destroy(reason);
    if (!this.settled) {
      this.settle();
      this.rejectResult(reason);
    }
    callback(error);
  }

  private settle(): void {
    this.settled = true;
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Pipes `source` through a new inspector. Consume `passthrough` (e.g. hand
 * it to the object store's put): inspection advances only as fast as it
 * is read. A source error fails both `passthrough` and `result`; a
 * refused archive destroys `source`.
 */
export function inspectArchive(source: Readable, opts: InspectOptions): { passthrough: Readable; result: Promise<ArchiveReport> } {
  const inspector = new ArchiveInspector(opts);
  source.on('error', (e: Error) => inspector.destroy(sourceError(e)));
  inspector.on('close', () => {
    if (!source.readableEnded && !source.destroyed) source.destroy();
  });
  source.pipe(inspector);
  return { passthrough: inspector, result: inspector.result };
}

export function sourceError(e: unknown): Error {
  if (isMlmodelError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new MlmodelError('STORE_UNAVAILABLE', `reading the archive source failed: ${message}`, {}, { cause: e });
}

function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new MlmodelError('INTERNAL', String(e));
}
