import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { HttpConfig } from '../../src/config/index.js';
import { HttpError } from './errors.js';

/**
 * Who is calling. With no tokens configured the server serves loopback
 * callers only, all as the configured user. Once tokens are configured
 * every request needs `Authorization: Bearer <token>`, and the token's user
 * is the one queries run as.
 */
export class Authenticator {
  /** sha256(token) → user: comparing fixed-length digests in constant time leaks neither token nor length. */
  readonly #tokens: { digest: Buffer; user: string }[];
  readonly #defaultUser: string;

  constructor(http: HttpConfig, defaultUser: string) {
    this.#tokens = [...http.tokens].map(([secret, user]) => ({ digest: sha256(secret.reveal()), user }));
    this.#defaultUser = defaultUser;
  }

  get tokensConfigured(): boolean {
    return this.#tokens.length > 0;
  }

  /** The user a request acts as, or a 401/403 HttpError. */
  authenticate(req: IncomingMessage): string {
    if (!this.tokensConfigured) {
      if (!isLoopback(req.socket.remoteAddress ?? '')) {
        throw new HttpError(403, 'FORBIDDEN', 'this server has no tokens configured and answers loopback callers only');
      }
      return this.#defaultUser;
    }
    const header = req.headers.authorization;
    const challenge = { 'WWW-Authenticate': 'Bearer realm="mlmodel"' };
    if (!header) throw new HttpError(401, 'UNAUTHORIZED', 'a bearer token is required: Authorization: Bearer <token>', {}, challenge);
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError(401, 'UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"', {}, challenge);
    const user = this.userOfToken(m[1]!);
    if (user === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'the bearer token is not valid', {}, { 'WWW-Authenticate': 'Bearer realm="mlmodel", error="invalid_token"' });
    return user;
  }

  /** The user a token belongs to (the web page's login takes one), or undefined. */
  userOfToken(token: string): string | undefined {
    const digest = sha256(token);
    let user: string | undefined;
    // Look at every token, so the time taken does not say which one matched.
    for (const t of this.#tokens) if (timingSafeEqual(t.digest, digest)) user = t.user;
    return user;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/i, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** Whether a listen address is loopback-only (a name is resolved by the OS; only `localhost` is accepted as one). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || isLoopback(h);
}
