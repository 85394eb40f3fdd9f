/**
 * The web page `mlmodel serve` serves (docs/web.md): a shell HTML page under
 * `/ui/`, the bundled script and style esbuild wrote to dist/web/ at build
 * time, and the page's session endpoints. The page reads and writes only
 * through the query API (`POST /query`, `GET /runs/{id}/chart`) with its
 * session cookie and CSRF token; this module never runs a query itself.
 *
 *   GET  /                  → 302 /ui/
 *   GET  /ui/…              the page (every path: the script routes), naming the caller's session
 *   GET  /ui/assets/NAME    app.js, app.css, chunk-*.js
 *   GET  /ui/session        {"user", "reader", "csrf", "tokens"} or 401
 *   POST /ui/login          {"token"} → the session cookie
 *   POST /ui/logout         forgets the session (CSRF token required)
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpConfig } from '../../src/config/index.js';
import { isLoopback, type Authenticator } from './auth.js';
import { HttpError } from './errors.js';
import { readBody, requireJson } from './guard.js';
import { checkCsrf, sessionCookie, SessionTable, type Session } from './web-session.js';

/** No inline script or style, nothing from anywhere but this server, never framed. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The files web/build.mjs writes: the entry script and style, and the chunks loaded on demand. */
const ASSET = /^(?:app|chunk-[A-Z0-9]+)\.(js|css)$/;
const ASSET_TYPES: Readonly<Record<string, string>> = { js: 'text/javascript', css: 'text/css' };

/** The page; `session` is the caller's session as JSON (saving the page a round trip), or empty when a login is needed. */
const shell = (session: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">${session === '' ? '' : `\n<meta name="mlmodel-session" content="${escapeAttribute(session)}">`}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlmodel</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<script type="module" src="/ui/assets/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Main"><a href="/ui/" class="brand">mlmodel</a> <a href="/ui/">Models</a> <a href="/ui/runs">Runs</a> <span id="who"></span></nav></header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
</body>
</html>
`;

export interface WebUi {
  /** Whether a path is the page's (answered by handle) rather than the API's. */
  serves(pathname: string): boolean;
  /** Answers a page request; the user it acted for (for the log line), or '-'. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<string>;
  /** The user of an API request made with the page's session cookie (CSRF-checked), or null for the API's own rules. */
  sessionUser(req: IncomingMessage): string | null;
}

/** Where the built page lives: dist/web beside dist/console (or, run from source, the repository's dist/web). */
function assetDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', 'web'), join(here, '..', '..', 'dist', 'web')];
  return candidates.find((d) => existsSync(join(d, 'app.js'))) ?? candidates[1]!;
}

export function createWebUi(http: HttpConfig, auth: Authenticator, defaultUser: string, maxBody: number): WebUi {
  const sessions = new SessionTable();
  const dir = assetDir();
  const assets = new Map<string, Buffer>();

  function asset(name: string): Buffer {
    let b = assets.get(name);
    if (b === undefined) {
      const file = join(dir, name);
      if (!existsSync(file)) throw new HttpError(500, 'INTERNAL', `the web page was not built (${file} is missing): run npm run build`);
      b = readFileSync(file);
      assets.set(name, b);
    }
    return b;
  }

  function sessionBody(s: Session) {
    return { user: s.user, reader: http.readers.includes(s.user), csrf: s.csrf, tokens: auth.tokensConfigured };
  }

  /** With no tokens the server acts for its configured user toward loopback callers: the page gets that session without a login. */
  function sessionOf(req: IncomingMessage): Session | null {
    const s = sessions.find(req);
    if (s !== null) return s;
    if (!auth.tokensConfigured && isLoopback(req.socket.remoteAddress ?? '')) return sessions.create(defaultUser);
    return null;
  }

  return {
    serves(pathname) {
      return pathname === '/' || pathname === '/ui' || pathname.startsWith('/ui/');
    },

    async handle(req, res, url) {
      const p = url.pathname;
      const method = req.method ?? 'GET';
      if (p === '/' || p === '/ui') {
        only(method, ['GET', 'HEAD']);
        res.writeHead(302, { Location: '/ui/', 'Content-Length': '0', 'Cache-Control': 'no-store' });
        res.end();
        return '-';
      }
      if (p.startsWith('/ui/assets/')) {
        only(method, ['GET', 'HEAD']);
        const name = p.slice('/ui/assets/'.length);
        const ext = ASSET.exec(name)?.[1];
        if (ext === undefined || !existsSync(join(dir, name))) throw new HttpError(404, 'ROUTE_NOT_FOUND', `no such file: ${p}`);
        const type = ASSET_TYPES[ext]!;
        const body = asset(name);
        res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...SECURITY_HEADERS });
        res.end(method === 'HEAD' ? undefined : body);
        return '-';
      }
      if (p === '/ui/session') {
        only(method, ['GET']);
        const s = sessionOf(req);
        if (s === null) throw new HttpError(401, 'UNAUTHORIZED', 'log in with a token');
        sendJson(res, 200, sessionBody(s), { 'Set-Cookie': sessionCookie(s) });
        return s.user;
      }
      if (p === '/ui/login') {
        only(method, ['POST']);
        requireJson(req);
        let token: unknown;
        try {
          token = (JSON.parse((await readBody(req, maxBody)).toString('utf8')) as { token?: unknown }).token;
        } catch {
          throw new HttpError(400, 'BAD_REQUEST', 'the body must be JSON: {"token": "…"}');
        }
        if (typeof token !== 'string' || token === '') throw new HttpError(400, 'BAD_REQUEST', '"token" must be a non-empty string');
        const user = auth.tokensConfigured ? auth.userOfToken(token) : undefined;
        if (user === undefined) throw new HttpError(401, 'UNAUTHORIZED', auth.tokensConfigured ? 'the token is not valid' : 'this server has no tokens configured; no login is needed');
        const s = sessions.create(user);
        sendJson(res, 200, sessionBody(s), { 'Set-Cookie': sessionCookie(s) });
        return user;
      }
      if (p === '/ui/logout') {
        only(method, ['POST']);
        const s = sessions.find(req);
        if (s !== null) {
          checkCsrf(req, s);
          sessions.delete(s.id);
        }
        sendJson(res, 200, { ok: true }, { 'Set-Cookie': sessionCookie(null) });
        return s?.user ?? '-';
      }
      only(method, ['GET', 'HEAD']);
      const s = sessionOf(req);
      const body = Buffer.from(shell(s === null ? '' : JSON.stringify(sessionBody(s))), 'utf8');
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
        ...SECURITY_HEADERS,
        ...(s === null ? {} : { 'Set-Cookie': sessionCookie(s) }),
      });
      res.end(method === 'HEAD' ? undefined : body);
      return s?.user ?? '-';
    },

    sessionUser(req) {
      return sessions.userOf(req);
    },
  };
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function only(method: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) {
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed.join(' or ')}`, {}, { Allow: allowed.join(', ') });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(text);
}
