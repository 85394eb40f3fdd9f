/**
 * Objects in MinIO (or another S3-compatible server) through the `minio`
 * client. Uploads are cut into parts of bounded size, each sent with its
 * Content-MD5 (and, over plain HTTP, a signed SHA-256 of the payload), so
 * the server rejects a corrupted part; we hash the whole stream ourselves
 * and abort the upload before it completes when the size or sha256 is not
 * what the caller expected. Memory stays at about one part whatever the
 * object's size (the client's own putObject would buffer up to 3 parts of
 * 64 MiB or more).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { MlmodelError } from '../errors.js';
import { describeLocation, type S3Location } from '../config/location.js';
import { redactError, type Secret } from '../config/redact.js';
import {
  checkExpected,
  checkExpiry,
  checkKey,
  checkPrefix,
  checkPutOptions,
  compareKeys,
  type ObjectInfo,
  type ObjectStore,
  type PrefixInfo,
  type PutOptions,
  type PutResult,
} from './objects.js';
import { writerState, type TemporaryInfo } from './temporaries.js';

const MiB = 1024 * 1024;
/** S3 allows 10,000 parts; parts other than the last must be ≥ 5 MiB. */
const MAX_PARTS = 10_000;
const DEFAULT_PART_SIZE = 8 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
/** Largest object a single server-side CopyObject may copy. */
const MAX_SINGLE_COPY = 5 * 1024 * MiB;
/** How long a cluster found writable is trusted before it is asked again. */
const WRITABLE_FOR_MS = 1000;

export interface MinioObjectOptions {
  location: S3Location;
  /** Smallest part size for uploads (default 8 MiB; at least 5 MiB). */
  partSize?: number;
  /** Extra secrets to hide in error messages. */
  secrets?: Secret[];
}

export class MinioObjectStore implements ObjectStore {
  readonly kind = 'minio';
  readonly location: string;
  readonly #loc: S3Location;
  readonly #client: Client;
  readonly #partSize: number;
  readonly #secrets: Secret[];
  /** When the cluster last said it can take writes (Date.now()), see #checkWritable. */
  #writableAt = 0;

  constructor(options: MinioObjectOptions) {
    this.#loc = options.location;
    this.location = describeLocation(options.location);
    this.#partSize = Math.max(5 * MiB, options.partSize ?? DEFAULT_PART_SIZE);
    this.#secrets = [options.location.secretKey, ...(options.secrets ?? [])];
    this.#client = new Client({
      endPoint: this.#loc.host,
      port: this.#loc.port,
      useSSL: this.#loc.useSSL,
      accessKey: this.#loc.accessKey,
      secretKey: this.#loc.secretKey.reveal(),
      pathStyle: true,
      // The client's one retry of a 5xx prints to the console itself (console.warn) and, against a
      // cluster that lost write quorum, doubles a wait of minutes; errors are reported by #error.
      retryOptions: { disableRetry: true },
      ...(this.#loc.region ? { region: this.#loc.region } : {}),
    });
  }

  #name(key: string): string {
    return this.#loc.prefix + key;
  }

  /**
   * A distributed MinIO with fewer drives online than a write needs (its
   * write quorum: 3 of 4 drives at the default parity) does not refuse a
   * PUT, DELETE or COPY at once: it waits for its namespace lock for its
   * operation timeout (minutes), then answers 503. Its cluster health check
   * (/minio/health/cluster, no credentials) says so at once, so writes ask it
   * first, trusting a yes for a second (`fresh` asks again). Only a 503
   * refuses: a server without the check (another S3 store) answers
   * something else, and an unreachable one is reported by the write itself.
   */
  async #checkWritable(what: string, fresh = false): Promise<void> {
    if (!fresh && Date.now() - this.#writableAt < WRITABLE_FOR_MS) return;
    const host = this.#loc.host.includes(':') ? `[${this.#loc.host}]` : this.#loc.host;
    const url = `${this.#loc.useSSL ? 'https' : 'http'}://${host}:${this.#loc.port}/minio/health/cluster`;
    const status = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(
      async (res) => {
        await res.body?.cancel();
        return res.status;
      },
      () => null,
    );
    if (status === 503) {
      throw new MlmodelError(
        'STORE_UNAVAILABLE',
        `MinIO ${this.location}: ${what}: the cluster cannot take writes now: fewer of its drives are online than a write needs (its write quorum), so this write was not sent`,
        { reason: 'write quorum' },
      );
    }
    if (status !== null && status < 500) this.#writableAt = Date.now();
  }

  async init(): Promise<void> {
    try {
      if (!(await this.#client.bucketExists(this.#loc.bucket))) {
        await this.#checkWritable(`cannot create bucket ${this.#loc.bucket}`);
        await this.#client.makeBucket(this.#loc.bucket, this.#loc.region ?? '');
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'BucketAlreadyOwnedByYou') return;
      throw this.#error(e, `cannot open bucket ${this.#loc.bucket}`);
    }
  }

  async close(): Promise<void> {}

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    checkPutOptions(opts);
    const objectName = this.#name(key);
    const bucket = this.#loc.bucket;
    const hash = createHash('sha256');
    let size = 0;
    const first = this.#firstPartSize(opts.size);
    const parts = cutParts(body, (n) => partSizeFor(n, first));
    let uploadId: string | null = null;
    try {
      await this.#checkWritable(`cannot write object ${key}`);
      const head = await parts.next();
      const firstPart = head.done ? Buffer.alloc(0) : head.value;
      if (firstPart.length < first) {
        // The whole object fits in one part: one PUT, checked before sending.
        hash.update(firstPart);
        size = firstPart.length;
        const got = { size, sha256: hash.digest('hex') };
        checkExpected(key, got, opts);
        await this.#client.putObject(bucket, objectName, firstPart, firstPart.length, contentType(opts));
        return { key, ...got };
      }
      uploadId = await this.#client.initiateNewMultipartUpload(bucket, objectName, contentType(opts));
      const etags: Array<{ part: number; etag: string }> = [];
      let part = firstPart;
      let partNumber = 1;
      // One part uploads while the next is read from the source: two parts
      // in memory at most, and the download and the upload overlap.
      let sending: Promise<void> | null = null;
      try {
        for (;;) {
          hash.update(part);
          size += part.length;
          if (part.length > 0 || partNumber === 1) {
            const md5 = createHash('md5').update(part).digest('base64');
            const number = partNumber++;
            const body = part;
            if (sending) await sending;
            sending = this.#client
              .uploadPart(
                {
                  bucketName: bucket,
                  objectName,
                  uploadID: uploadId,
                  partNumber: number,
                  headers: { 'Content-Length': body.length, 'Content-MD5': md5 },
                },
                body,
              )
              .then((res) => {
                etags.push({ part: number, etag: res.etag });
              });
            // Seen as handled now; awaited before the next part or at the end.
            sending.catch(() => undefined);
          }
          const next = await parts.next();
          if (next.done) break;
          part = next.value;
          if (partNumber > MAX_PARTS) {
            throw new MlmodelError('INVALID_ARGUMENT', `object ${key} is too large for ${MAX_PARTS} parts`, { key });
          }
        }
      } finally {
        // Never leave an upload running behind an error (the abort below must come after it).
        if (sending) await (sending as Promise<void>).catch(() => undefined);
      }
      if (sending) await sending;
      etags.sort((a, b) => a.part - b.part);
      const got = { size, sha256: hash.digest('hex') };
      checkExpected(key, got, opts);
      // Completing takes the lock that waits minutes on a cluster that lost write quorum while the parts went up.
      await this.#checkWritable(`cannot write object ${key}`, true);
      await this.#client.completeMultipartUpload(bucket, objectName, uploadId, etags);
      uploadId = null;
      const st = await this.#client.statObject(bucket, objectName);
      if (st.size !== size) {
        throw new MlmodelError('CHECKSUM_MISMATCH', `object ${key}: stored ${st.size} bytes, sent ${size}`, { key });
      }
      return { key, ...got };
    } catch (e) {
      // An abort waits for that lock too: on a cluster that cannot take writes the upload is left
      // for fsck, which lists incomplete uploads among the temporaries and removes them.
      if (uploadId !== null && (await this.#checkWritable('', true).then(() => true, () => false))) {
        await this.#client.abortMultipartUpload(bucket, objectName, uploadId).catch(() => undefined);
      }
      await parts.return(undefined).catch(() => undefined);
      throw this.#error(e, `cannot write object ${key}`);
    }
  }

  #firstPartSize(expected: number | undefined): number {
    if (expected === undefined) return this.#partSize;
    // Big enough that a known size fits in 9,000 parts (leaving headroom).
    const need = Math.ceil(expected / 9_000 / MiB) * MiB;
    return Math.min(MAX_PART_SIZE, Math.max(this.#partSize, need));
  }

  async get(key: string): Promise<Readable> {
    checkKey(key);
    try {
      return await this.#client.getObject(this.#loc.bucket, this.#name(key));
    } catch (e) {
      throw this.#error(e, `cannot read object ${key}`, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    checkKey(key);
    try {
      const st = await this.#client.statObject(this.#loc.bucket, this.#name(key));
      return { key, size: st.size, modified: new Date(st.lastModified) };
    } catch (e) {
      if (isMissing(e)) return null;
      throw this.#error(e, `cannot stat object ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.#checkWritable(`cannot delete object ${key}`);
      await this.#client.removeObject(this.#loc.bucket, this.#name(key));
    } catch (e) {
      if (isMissing(e)) return;
      throw this.#error(e, `cannot delete object ${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    const strip = this.#loc.prefix.length;
    try {
      const stream = this.#client.listObjectsV2(this.#loc.bucket, this.#name(prefix), true);
      for await (const item of stream as AsyncIterable<{ name?: string; size: number; lastModified?: Date }>) {
        if (!item.name) continue;
        yield { key: item.name.slice(strip), size: item.size, modified: new Date(item.lastModified ?? 0) };
      }
    } catch (e) {
      throw this.#error(e, `cannot list objects under ${prefix || '/'}`);
    }
  }

  async *browse(prefix: string, recursive: boolean): AsyncIterable<ObjectInfo | PrefixInfo> {
    if (recursive) {
      yield* this.list(prefix);
      return;
    }
    checkPrefix(prefix);
    const strip = this.#loc.prefix.length;
    // The client hands each page's objects first and its common prefixes after them, with no mark where a
    // page ends: the level is put in S3's byte order here (the caller holds the rows anyway).
    const level: Array<ObjectInfo | PrefixInfo> = [];
    try {
      const stream = this.#client.listObjectsV2(this.#loc.bucket, this.#name(prefix), false);
      for await (const item of stream as AsyncIterable<{ name?: string; prefix?: string; size: number; lastModified?: Date }>) {
        if (item.prefix) level.push({ prefix: item.prefix.slice(strip) });
        else if (item.name) level.push({ key: item.name.slice(strip), size: item.size, modified: new Date(item.lastModified ?? 0) });
      }
    } catch (e) {
      throw this.#error(e, `cannot list objects under ${prefix || '/'}`);
    }
    const keyOf = (e: ObjectInfo | PrefixInfo) => ('prefix' in e ? e.prefix : e.key);
    yield* level.sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  }

  async copy(srcKey: string, dstKey: string): Promise<ObjectInfo> {
    checkKey(srcKey, 'source key');
    checkKey(dstKey, 'destination key');
    const src = await this.stat(srcKey);
    if (!src) throw new MlmodelError('OBJECT_NOT_FOUND', `object not found: ${srcKey}`, { key: srcKey });
    const source = new CopySourceOptions({ Bucket: this.#loc.bucket, Object: this.#name(srcKey) });
    const dest = new CopyDestinationOptions({ Bucket: this.#loc.bucket, Object: this.#name(dstKey) });
    try {
      await this.#checkWritable(`cannot copy object ${srcKey} to ${dstKey}`);
      // The server copies; no byte passes through this process.
      if (src.size <= MAX_SINGLE_COPY) await this.#client.copyObject(source, dest);
      else await this.#client.composeObject(dest, [source]);
    } catch (e) {
      throw this.#error(e, `cannot copy object ${srcKey} to ${dstKey}`, srcKey);
    }
    const info = await this.stat(dstKey);
    if (!info) throw new MlmodelError('STORE_ERROR', `copy of ${srcKey} to ${dstKey} left no object`, { key: dstKey });
    return info;
  }

  async presignGet(key: string, expirySec: number): Promise<string> {
    checkKey(key);
    checkExpiry(expirySec);
    if (!(await this.stat(key))) throw new MlmodelError('OBJECT_NOT_FOUND', `object not found: ${key}`, { key });
    try {
      return await this.#client.presignedGetObject(this.#loc.bucket, this.#name(key), expirySec);
    } catch (e) {
      throw this.#error(e, `cannot sign a URL for ${key}`);
    }
  }

  /**
   * Incomplete multipart uploads under the prefix: what a put killed between
   * its first part and its completion leaves (the server keeps the parts,
   * and their bytes, until the upload is aborted). Named `<key>#<uploadId>`.
   * The server records no writer: only a key holding a writer's tag (a
   * deploy's staging, `.tmp-<host>.<pid>.…`) says who wrote it; for the rest
   * `writer` is unknown and fsck goes by age, counted from when the upload
   * began.
   */
  async *temporaries(): AsyncIterable<TemporaryInfo> {
    const uploads = this.#client.listIncompleteUploads(this.#loc.bucket, this.#loc.prefix, true);
    try {
      for await (const u of uploads as AsyncIterable<{ key?: string; uploadId?: string; size?: number; initiated?: Date }>) {
        // A common prefix (a "directory") has no upload id.
        if (!u.key || !u.uploadId) continue;
        const name = `${u.key.slice(this.#loc.prefix.length)}#${u.uploadId}`;
        yield {
          name,
          size: u.size ?? 0,
          modified: u.initiated instanceof Date && !Number.isNaN(u.initiated.getTime()) ? u.initiated : new Date(0),
          writer: writerState(name),
        };
      }
    } catch (e) {
      throw this.#error(e, 'cannot list incomplete uploads');
    }
  }

  async removeTemporary(name: string): Promise<void> {
    const at = name.lastIndexOf('#');
    const key = name.slice(0, Math.max(at, 0));
    const uploadId = name.slice(at + 1);
    if (at <= 0 || uploadId === '') {
      throw new MlmodelError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not an incomplete upload (<key>#<uploadId>)`, { name });
    }
    checkKey(key);
    try {
      await this.#client.abortMultipartUpload(this.#loc.bucket, this.#name(key), uploadId);
    } catch (e) {
      if ((e as { code?: string }).code === 'NoSuchUpload') return;
      throw this.#error(e, `cannot abort the incomplete upload of ${key}`);
    }
  }

  #error(e: unknown, what: string, key?: string): MlmodelError {
    if (e instanceof MlmodelError) return e;
    if (key !== undefined && isMissing(e)) {
      return new MlmodelError('OBJECT_NOT_FOUND', `object not found: ${key}`, { key });
    }
    const safe = redactError(e, this.#secrets);
    const code = (e as { code?: string }).code ?? '';
    if (code === 'NoSuchBucket') {
      // Said plainly: a connector pointed at a bucket nobody made is a configuration slip, not an outage.
      return new MlmodelError('BUCKET_NOT_FOUND', `MinIO ${this.location}: the bucket "${this.#loc.bucket}" does not exist (${what})`, {
        bucket: this.#loc.bucket,
        s3Code: code,
      }, { cause: safe });
    }
    // The client reads no error document from a 5xx answer: its message only names the status.
    const status = /Retryable HTTP status: (\d{3})/.exec(safe.message)?.[1];
    if (status === '503') {
      return new MlmodelError(
        'STORE_UNAVAILABLE',
        `MinIO ${this.location}: ${what}: the server answered 503 Service Unavailable (overloaded, starting, or a cluster with too few drives online)`,
        { httpStatus: 503 },
        { cause: safe },
      );
    }
    const unavailable = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|EPIPE)$/.test(code) ||
      ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'].includes(code);
    return new MlmodelError(unavailable ? 'STORE_UNAVAILABLE' : 'STORE_ERROR', `MinIO ${this.location}: ${what}: ${safe.message}`, {
      s3Code: code || undefined,
    }, { cause: safe });
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'NoSuchKey' || code === 'NotFound';
}

function contentType(opts: PutOptions): Record<string, string> {
  return { 'Content-Type': opts.contentType ?? 'application/octet-stream' };
}

/**
 * Part n's size when the first is `first`: doubling every 1,000 parts, so an
 * upload of unknown size can grow far past 10,000 × first without ever
 * holding more than one part.
 */
function partSizeFor(n: number, first: number): number {
  return Math.min(MAX_PART_SIZE, first * 2 ** Math.floor((n - 1) / 1_000));
}

/**
 * Cuts a byte stream into parts of exactly sizeFor(n) bytes (the last may be
 * shorter, or empty for an empty stream). The same buffer is handed out
 * again for the next part, so the consumer must be done with a part before
 * asking for the next one.
 */
async function* cutParts(
  source: Readable | AsyncIterable<Uint8Array>,
  sizeFor: (n: number) => number,
): AsyncGenerator<Buffer, void, undefined> {
  let n = 1;
  let buf = Buffer.allocUnsafe(sizeFor(n));
  let fill = 0;
  for await (const raw of source as AsyncIterable<Uint8Array | string>) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, buf.length - fill);
      chunk.copy(buf, fill, 0, take);
      fill += take;
      chunk = chunk.subarray(take);
      if (fill === buf.length) {
        yield buf;
        n++;
        // A fresh buffer: the part just yielded may still be uploading.
        buf = Buffer.allocUnsafe(sizeFor(n));
        fill = 0;
      }
    }
  }
  if (fill > 0 || n === 1) yield buf.subarray(0, fill);
}
