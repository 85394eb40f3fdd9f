/**
 * Original bytes in, tar bytes out: detects gzip by its magic bytes (never
 * by file name), gunzips with back-pressure, and stops decompression bombs
 * by total output and by output/input ratio.
 */
import { once } from 'node:events';
import { createGunzip, type Gunzip } from 'node:zlib';
import { refuse } from './refuse.js';
import type { ArchiveLimits } from './types.js';

/** Receives tar bytes; may return a promise to apply back-pressure (a file being written). */
export type TarConsumer = (chunk: Buffer) => void | Promise<void>;

/** Enough bytes to tell the compressions below apart. */
const SNIFF_BYTES = 10;

type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

function sniff(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  // "BZh" + level digit + the first block's magic 0x314159265359 (pi).
  if (head.length >= 10 && head.subarray(0, 3).toString('latin1') === 'BZh' && head.subarray(4, 10).equals(Buffer.from('314159265359', 'hex'))) {
    return 'bzip2';
  }
  if (head.subarray(0, 6).equals(Buffer.from('fd377a585a00', 'hex'))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from('28b52ffd', 'hex'))) return 'zstd';
  return 'none';
}

export class ArchiveDecoder {
  /** Known once the first bytes have been seen. */
  compressed = false;
  private head: Buffer[] = [];
  private headBytes = 0;
  private decided = false;
  private innerHead: Buffer | undefined = Buffer.alloc(0);
  private gunzip: Gunzip | undefined;
  /** Settles once the gzip stream (all its members) has ended; it may end before the input does. */
  private gunzipEnded: Promise<unknown> | undefined;
  private gunzipDone = false;
  /** Original bytes written, and the offset of the last non-zero one among them (-1: none). */
  private written = 0;
  private lastNonZero = -1;
  private unpacked = 0;
  private failure: Error | undefined;
  private rejectFailed: (e: Error) => void = () => {};
  private readonly failed: Promise<never>;
  private pending: Promise<void> | undefined;
  /**
   * File sizes are limited per header (scan.ts), where the entry can be
   * named; this cap on the raw tar stream also covers headers, padding and
   * anything after the end marker, with room for one header and padding
   * per allowed entry.
   */
  private readonly streamLimit: number;

  constructor(
    private readonly consumer: TarConsumer,
    private readonly limits: ArchiveLimits,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => {});
    this.streamLimit = limits.maxUnpackedBytes + 1024 * limits.maxEntries;
  }

  /** Original bytes; resolves when more may be written. */
  async write(chunk: Buffer): Promise<void> {
    this.throwIfFailed();
    this.track(chunk);
    if (!this.decided) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes < SNIFF_BYTES) return;
      chunk = this.decide();
    }
    await this.feed(chunk);
  }

  /** End of original bytes; resolves once every tar byte has been consumed. */
  async end(): Promise<void> {
    this.throwIfFailed();
    if (!this.decided) {
      const chunk = this.decide();
      if (chunk.length > 0) await this.feed(chunk);
    }
    const g = this.gunzip;
    if (g !== undefined && this.gunzipEnded !== undefined) {
      // 'end' may have been emitted long ago (zero padding after the stream), so wait on the promise taken at the start.
      g.end();
      await this.wait(this.gunzipEnded);
    }
    // Less than SNIFF_BYTES of tar may still be held back.
    try {
      this.flushInnerHead();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
    if (this.pending !== undefined) await this.wait(this.pending);
    this.throwIfFailed();
  }

  /** Stops decompression; later writes reject with `error`. */
  destroy(error: Error): void {
    this.fail(error);
  }

  private decide(): Buffer {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.decided = true;
    const kind = sniff(head);
    if (kind === 'gzip') {
      this.compressed = true;
      this.startGunzip();
    } else if (kind !== 'none') {
      throw this.fail(refuse('unsupported-compression', `${kind}-compressed archives are not supported; use a plain or gzip-compressed tar`));
    } else {
      this.innerHead = undefined; // plain tar: the check above already looked at these bytes
    }
    return head;
  }

  private startGunzip(): void {
    const g = createGunzip();
    this.gunzip = g;
    this.gunzipEnded = once(g, 'end').then(() => this.onGunzipEnd());
    this.gunzipEnded.catch(() => {});
    g.on('data', (chunk: Buffer) => this.onTarBytes(chunk));
    g.on('error', (err: NodeJS.ErrnoException) => {
      if (this.failure !== undefined) return;
      if (err.code === 'Z_BUF_ERROR') this.fail(refuse('truncated', 'gzip stream is truncated (unexpected end of file)'));
      else this.fail(refuse('corrupt-gzip', `gzip data is corrupt (${err.message})`));
    });
  }

  private async feed(chunk: Buffer): Promise<void> {
    const g = this.gunzip;
    if (g === undefined) {
      this.onTarBytes(chunk);
      this.throwIfFailed();
      if (this.pending !== undefined) await this.wait(this.pending);
      return;
    }
    if (this.gunzipDone) {
      this.checkAfterGzip();
      return;
    }
    // zlib stops taking input when the stream ends inside a chunk, so 'drain' may never come: its end releases the wait too.
    if (!g.write(chunk)) await this.wait(Promise.race([once(g, 'drain'), this.gunzipEnded]));
  }

  /** Keeps where the last non-zero original byte is, for checking what follows the gzip stream. */
  private track(chunk: Buffer): void {
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (chunk[i] !== 0) {
        this.lastNonZero = this.written + i;
        break;
      }
    }
    this.written += chunk.length;
  }

  /**
   * The gzip stream (one member or several: zlib reads a following member
   * itself) has ended. What follows may only be zeros, as `dd conv=sync`
   * pads: gzip and GNU tar accept that, and refuse anything else ("trailing
   * garbage"). zlib's byte count says where the stream ended.
   */
  private onGunzipEnd(): void {
    this.gunzipDone = true;
    this.checkAfterGzip();
  }

  private checkAfterGzip(): void {
    const end = this.gunzip?.bytesWritten ?? 0;
    if (this.lastNonZero >= end) {
      throw this.fail(refuse('trailing-data', `non-zero data after the end of the gzip stream at byte ${end} (only zero padding may follow it)`));
    }
  }

  private onTarBytes(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    try {
      this.unpacked += chunk.length;
      if (this.unpacked > this.streamLimit) {
        throw refuse('too-large', `archive unpacks to more than ${this.streamLimit} bytes`);
      }
      const g = this.gunzip;
      if (g !== undefined && this.unpacked > this.limits.ratioGraceBytes) {
        // bytesWritten counts compressed bytes zlib has actually consumed;
        // bytes merely queued would understate the ratio by a whole chunk.
        const ratio = this.unpacked / Math.max(1, g.bytesWritten);
        if (ratio > this.limits.maxCompressionRatio) {
          throw refuse(
            'compression-ratio',
            `compression ratio ${Math.round(ratio)}:1 exceeds ${this.limits.maxCompressionRatio}:1 (decompression bomb)`,
          );
        }
      }
      if (this.innerHead !== undefined) {
        // Hold back the first tar bytes until we can tell compressed data from a tar header.
        this.innerHead = Buffer.concat([this.innerHead, chunk]);
        if (this.innerHead.length < SNIFF_BYTES) return;
        chunk = this.innerHead;
        this.flushInnerHead(false);
      }
      this.deliver(chunk);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private flushInnerHead(deliver = true): void {
    const head = this.innerHead;
    if (head === undefined) return;
    this.innerHead = undefined;
    const inner = sniff(head);
    if (inner !== 'none') {
      throw this.fail(refuse('nested-compression', `gzip stream holds ${inner}-compressed data, not a tar archive`));
    }
    if (deliver && head.length > 0) this.deliver(head);
  }

  private deliver(chunk: Buffer): void {
    const p = this.consumer(chunk);
    if (p === undefined) return;
    // A slow sink (a file being written) pauses decompression until it drains.
    const g = this.gunzip;
    g?.pause();
    const done = p.then(
      () => {
        if (this.pending === done) this.pending = undefined;
        if (this.failure === undefined) g?.resume();
      },
      (e: unknown) => {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    );
    this.pending = done;
  }

  private async wait(p: Promise<unknown>): Promise<void> {
    try {
      await Promise.race([p, this.failed]);
    } catch (e) {
      throw this.failure ?? e;
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private fail(error: Error): Error {
    if (this.failure === undefined) {
      this.failure = error;
      this.rejectFailed(error);
      this.gunzip?.destroy();
    }
    return this.failure;
  }
}
