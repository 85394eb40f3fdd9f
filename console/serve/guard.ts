import type { IncomingMessage } from 'node:http';
import { normalizeHost, normalizeOrigin, type HttpConfig } from '../../src/config/index.js';
import { HttpError } from './errors.js';

/**
 * What a web page in the user's browser must not be able to do to a server
 * on loopback, checked before anything else and with or without tokens, the
 * way Jupyter checks `local_hostnames`/`allow_origin` and Docker's API
 * insists on JSON bodies:
 *
 * - **DNS rebinding**: a page at evil.example whose name is re-pointed to
 *   127.0.0.1 talks to us with `Host: evil.example`. Only loopback names,
 *   the address the request arrived on (with its port) and
 *   `http.allowed_hosts` are answered.
 * - **Cross-site requests**: a form or `fetch(…, {mode: 'no-cors'})` from any
 *   page reaches us without a CORS preflight. A request whose `Origin` is not
 *   our own and not in `http.allowed_origins` is refused, as is one the
 *   browser marks `Sec-Fetch-Site: cross-site`/`same-site` without an allowed
 *   Origin (a no-cors GET carries no Origin).
 * - **Simple bodies**: a browser sends `text/plain`, `multipart/form-data` and
 *   `application/x-www-form-urlencoded` cross-site without asking; a query
 *   body must say `application/json`, which it cannot send without a
 *   preflight (that the origin check refuses).
 */
export class RequestGuard {
  readonly #hosts: ReadonlySet<string>;
  readonly #anyHost: boolean;
  readonly #origins: ReadonlySet<string>;
  readonly #anyOrigin: boolean;
  /** Per listening address, the names it answers to by default; per raw Host header, its canonical form (both asked on every request). */
  readonly #own = new Map<string, ReadonlySet<string>>();
  readonly #canonical = new Map<string, string>();

  constructor(http: Pick<HttpConfig, 'allowedHosts' | 'allowedOrigins'>) {
    this.#anyHost = http.allowedHosts.includes('*');
    this.#hosts = new Set(http.allowedHosts);
    this.#anyOrigin = http.allowedOrigins.includes('*');
    this.#origins = new Set(http.allowedOrigins);
  }

  /**
   * Refuses a foreign Host or Origin (403). Returns the cross-origin caller
   * to answer with CORS headers (an allowed foreign Origin), or null.
   */
  check(req: IncomingMessage): string | null {
    const host = this.#checkHost(req);
    return this.#checkOrigin(req, host);
  }

  /** The canonical Host the request named, if it is one we answer. */
  #checkHost(req: IncomingMessage): string {
    const raw = req.headers.host;
    if (raw === undefined || raw.trim() === '') throw forbiddenHost('the request has no Host header');
    const host = this.#canonicalHost(raw);
    if (host === '') throw forbiddenHost(`the Host header is not a host name: ${printable(raw)}`);
    if (this.#anyHost || this.#ownHosts(req).has(host)) return host;
    // A configured name without a port accepts that name on any port.
    const name = host.replace(/:\d+$/, '');
    if (this.#hosts.has(host) || this.#hosts.has(name)) return host;
    throw forbiddenHost(`this server does not answer to the host name ${printable(raw)}; add it to http.allowed_hosts if it is yours (docs/http.md)`);
  }

  #canonicalHost(raw: string): string {
    let host = this.#canonical.get(raw);
    if (host === undefined) {
      host = normalizeHost(raw.trim());
      if (this.#canonical.size >= MEMO_SIZE) this.#canonical.clear();
      this.#canonical.set(raw, host);
    }
    return host;
  }

  #ownHosts(req: IncomingMessage): ReadonlySet<string> {
    const key = `${req.socket.localAddress ?? ''} ${req.socket.localPort ?? 0}`;
    let own = this.#own.get(key);
    if (own === undefined) {
      own = ownHosts(req);
      if (this.#own.size >= MEMO_SIZE) this.#own.clear();
      this.#own.set(key, own);
    }
    return own;
  }

  #checkOrigin(req: IncomingMessage, host: string): string | null {
    const raw = req.headers.origin;
    const site = String(req.headers['sec-fetch-site'] ?? '').toLowerCase();
    if (raw === undefined) {
      // A browser's no-cors request (an <img>, a <script>, a navigation) names no Origin but says where it came from.
      if ((site === 'cross-site' || site === 'same-site') && !this.#anyOrigin) {
        throw forbiddenOrigin(`a ${site} request without an Origin header is refused`);
      }
      return null;
    }
    const origin = normalizeOrigin(raw.trim());
    if (this.#anyOrigin) return origin === '' ? raw : origin === `http://${host}` ? null : origin;
    if (origin === '') throw forbiddenOrigin(`requests from the origin ${printable(raw)} are refused`);
    // Same origin: the page was served from the very host:port the request names (behind a TLS proxy, as https).
    if (origin === `http://${host}` || origin === `https://${host}`) {
      if (site === 'cross-site' || site === 'same-site') throw forbiddenOrigin(`a ${site} request is refused`);
      return null;
    }
    if (this.#origins.has(origin)) return origin;
    throw forbiddenOrigin(`requests from the origin ${printable(origin)} are refused; add it to http.allowed_origins to allow it (docs/http.md)`);
  }
}

/** How many Host headers and listening addresses a guard remembers the answers for; past it it starts afresh. */
const MEMO_SIZE = 256;

/** The names a request may use for us by default: loopback names and the address it arrived on, each with the port it arrived on. */
function ownHosts(req: IncomingMessage): Set<string> {
  const port = req.socket.localPort ?? 0;
  const local = (req.socket.localAddress ?? '').replace(/^::ffff:(?=\d+\.)/i, '');
  const names = ['localhost', '127.0.0.1', '[::1]'];
  if (local !== '') names.push(local.includes(':') ? `[${local}]` : local);
  // normalizeHost drops port 80, as a Host header without a port means it.
  return new Set(names.map((n) => normalizeHost(`${n}:${port}`)).filter((h) => h !== ''));
}

/**
 * Refuses a query body that is not `application/json` (415). Parameters are
 * allowed; a charset, when named, must be UTF-8, the only one read.
 */
export function requireJson(req: IncomingMessage): void {
  const raw = req.headers['content-type'];
  if (raw === 'application/json') return;
  const accept = { 'Accept-Post': 'application/json' };
  if (raw === undefined || raw.trim() === '') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body must be sent with Content-Type: application/json', {}, accept);
  }
  const [type, ...params] = raw.split(';').map((p) => p.trim());
  if (type!.toLowerCase() !== 'application/json') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `the body must be application/json, not ${printable(type!)}`, {}, accept);
  }
  for (const p of params) {
    const m = /^charset\s*=\s*"?([^"]*)"?$/i.exec(p);
    if (m && !/^utf-?8$/i.test(m[1]!)) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `the body must be UTF-8, not ${printable(m[1]!)}`, {}, accept);
  }
}

/** The headers that let an allowed foreign origin read an answer (no credentials: tokens travel in a header, not a cookie). */
export function corsHeaders(origin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Location, Retry-After, WWW-Authenticate', Vary: 'Origin' };
}

/** A header value as it may be quoted in a message: control characters out, at most 100 characters. */
function printable(s: string): string {
  const clean = s.replace(/[\p{Cc}]/gu, '?');
  return JSON.stringify(clean.length > 100 ? clean.slice(0, 100) + '…' : clean);
}

function forbiddenHost(message: string): HttpError {
  return new HttpError(403, 'FORBIDDEN_HOST', message);
}

function forbiddenOrigin(message: string): HttpError {
  return new HttpError(403, 'FORBIDDEN_ORIGIN', message);
}

/**
 * A request's body, at most `max` bytes: a declared Content-Length past it
 * is refused before reading, a body that grows past it as soon as it does
 * (413), so a 100 MB body never sits in memory.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = () => new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${max} bytes`, { limit: max });
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge());
  // Already read to its end: nothing more will come (as a `for await` over it yields nothing).
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Events, not `for await`: an async iterator per request costs more than the small bodies it reads.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | null) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', done);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        // As a `for await` left early does: the rest of the body is not read.
        req.destroy();
        done(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onClose = () => done(Object.assign(new Error('the request ended before its body did'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', done);
    req.on('close', onClose);
  });
}
