import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/** The cookie a token login sets; its value is a random session id, never the token. */
export const SESSION_COOKIE = 'mlmodel_session';
/** The header every write from the page carries, holding its session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

/** How long a session lasts without use (8 hours, a working day). */
const IDLE_MS = 8 * 60 * 60_000;
/** Sessions held at once; past it the least recently used is forgotten (each login makes one). */
const MAX_SESSIONS = 10_000;

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly csrf: string;
  lastUsed: number;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The web page's sessions, in memory: a token login (or, on a server without
 * tokens, a loopback visit) makes one, its id travels in an HttpOnly,
 * SameSite=Strict cookie, and every request that is not a read must also
 * carry the session's CSRF token in a header — which a page of another origin
 * can neither read nor send without a preflight the Origin check refuses.
 */
export class SessionTable {
  readonly #sessions = new Map<string, Session>();

  create(user: string): Session {
    if (this.#sessions.size >= MAX_SESSIONS) {
      // A Map iterates in insertion order, and touch() re-inserts: the first entry is the least recently used.
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    const session = { id: randomBytes(32).toString('base64url'), user, csrf: randomBytes(32).toString('base64url'), lastUsed: Date.now() };
    this.#sessions.set(session.id, session);
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  /** The live session a request's cookie names, or null when it names none (or one that expired). */
  find(req: IncomingMessage): Session | null {
    const id = cookie(req, SESSION_COOKIE);
    if (id === undefined) return null;
    const s = this.#sessions.get(id);
    if (s === undefined) return null;
    if (Date.now() - s.lastUsed > IDLE_MS) {
      this.#sessions.delete(id);
      return null;
    }
    s.lastUsed = Date.now();
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    return s;
  }

  /**
   * The user a cookie-carrying API request acts as, or null when it carries
   * a bearer token or no session cookie (the API's own rules then apply).
   * A cookie naming no live session is a 401; a write without the session's
   * CSRF token is a 403.
   */
  userOf(req: IncomingMessage): string | null {
    if (req.headers.authorization !== undefined) return null;
    if (cookie(req, SESSION_COOKIE) === undefined) return null;
    const s = this.find(req);
    if (s === null) throw new HttpError(401, 'UNAUTHORIZED', 'the session has expired or was logged out; log in again');
    checkCsrf(req, s);
    return s.user;
  }
}

/** Refuses a request that is not a read unless it carries the session's CSRF token (403). */
export function checkCsrf(req: IncomingMessage, s: Session): void {
  if (SAFE_METHODS.has(req.method ?? '')) return;
  const sent = req.headers[CSRF_HEADER];
  const given = Buffer.from(typeof sent === 'string' ? sent : '', 'utf8');
  const want = Buffer.from(s.csrf, 'utf8');
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new HttpError(403, 'FORBIDDEN', `a request from the web page that changes anything must carry the session's CSRF token in ${CSRF_HEADER}`, { details: { csrf: true } });
  }
}

/** One cookie's value from the Cookie header, or undefined. */
export function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for a session (or, with null, one that clears it). */
export function sessionCookie(s: Session | null): string {
  const base = `${SESSION_COOKIE}=${s === null ? '' : s.id}; Path=/; HttpOnly; SameSite=Strict`;
  return s === null ? `${base}; Max-Age=0` : `${base}; Max-Age=${IDLE_MS / 1000}`;
}
