/**
 * A stand-in S3 endpoint that serves one tar archive slowly, so a test can
 * watch an import's progress and cancel it midway. It answers the two calls
 * an import makes through a connector: HEAD (statObject) and GET (getObject).
 * Loopback only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { END, header } from '../archive/tar-writer.js';

export interface SlowS3 {
  /** `http://AK:SECRET@127.0.0.1:PORT/BUCKET?region=us-east-1`, for MLMODEL_CONNECTOR_<NAME>. */
  readonly url: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Bytes written to GET responses so far. */
  served(): number;
  /** GET responses whose client went away before the end. */
  aborted(): number;
  close(): Promise<void>;
}

export interface SlowS3Options {
  /** Size of the one file inside the archive. */
  readonly payload?: number;
  readonly chunk?: number;
  readonly tickMs?: number;
}

export async function startSlowS3(options: SlowS3Options = {}): Promise<SlowS3> {
  const payload = options.payload ?? 64 * 1024 * 1024;
  const chunk = options.chunk ?? 128 * 1024;
  const tickMs = options.tickMs ?? 50;
  const head = header({ name: 'saved_model.pb', size: payload });
  const padded = Math.ceil(payload / 512) * 512;
  const size = head.length + padded + END.length;
  const bucket = 'slow';
  const key = 'big.tar';
  let served = 0;
  let aborted = 0;
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== `/${bucket}/${key}`) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>');
      return;
    }
    const headers = {
      'content-type': 'application/x-tar',
      'content-length': String(size),
      'last-modified': new Date(0).toUTCString(),
      etag: '"0123456789abcdef0123456789abcdef"',
      'accept-ranges': 'bytes',
    };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    res.write(head);
    served += head.length;
    let sent = 0;
    const zeros = Buffer.alloc(chunk);
    const timer = setInterval(() => {
      if (res.destroyed) return;
      const n = Math.min(chunk, padded - sent);
      if (n > 0) {
        res.write(n === chunk ? zeros : zeros.subarray(0, n));
        sent += n;
        served += n;
      }
      if (sent >= padded) {
        clearInterval(timer);
        timers.delete(timer);
        res.end(END);
        served += END.length;
      }
    }, tickMs);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
      if (sent < padded) aborted++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://SLOWAK:slowsecret123@127.0.0.1:${port}/${bucket}?region=us-east-1`,
    bucket,
    key,
    size,
    served: () => served,
    aborted: () => aborted,
    async close() {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
