import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, normalizeHost } from '../../src/config/index.js';
import { isMlmodelError } from '../../src/errors.js';
import { archives } from '../integration/archives.js';
import { call, rawRequest, startHarness, TOKENS, type Harness } from './harness.js';

/**
 * What a web page in the user's browser can send to a server on loopback —
 * DNS-rebinding Host names, foreign Origins, the bodies a form or a no-cors
 * fetch sends without a preflight — on every endpoint, with and without
 * tokens. Each refusal is checked for its status and code, and the
 * registry for being unchanged: the model the attack aims at still exists,
 * and the job it aims at still answers.
 */
const SEED = Number(process.env.MLMODEL_GUARD_SEED ?? Date.now() % 1_000_000);
const RUNS = 60;
/** Attacks sent, by kind, for docs/reliability.md. */
const sent: Record<string, number> = {};
const count = (kind: string, n = 1) => (sent[kind] = (sent[kind] ?? 0) + n);

const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/);
const loopbackName = fc.constantFrom('localhost', '127.0.0.1', '[::1]');
/** Cross-site bodies a browser sends without asking first (CORS "simple" content types), and others that are not JSON. */
const NON_JSON = [
  null,
  'text/plain',
  'text/plain;charset=UTF-8',
  'multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  '',
  'text/json',
  'application/jsonx',
  'application/json-seq',
  'application/x-json',
  'application/json; charset=iso-8859-1',
  'application/json;charset="utf-16"',
  '*/*',
];

for (const tokens of [false, true] as const) {
  describe(`the request guard ${tokens ? 'with' : 'without'} tokens (seed ${SEED})`, () => {
    let h: Harness;
    let port: number;
    let sid: string;
    const auth: Record<string, string> = tokens ? { Authorization: `Bearer ${TOKENS.alice}` } : {};
    const owner = tokens ? 'alice' : 'root';

    beforeAll(async () => {
      h = await startHarness({ tokens });
      port = Number(new URL(h.url).port);
      writeFileSync(join(h.inbox, 'v.tar.gz'), archives.sklearn());
      const imported = await call(h, 'POST', '/query', { token: tokens ? 'alice' : null, body: { q: `mlmodel import name=victim type=sklearn path=${join(h.inbox, 'v.tar.gz')}` } });
      expect(imported.status).toBe(200);
      const job = await call(h, 'POST', '/query/jobs', { token: tokens ? 'alice' : null, body: { q: 'mlmodel list | fields name' } });
      sid = job.body.sid;
    });
    afterAll(() => h.close());

    /** Every endpoint, each aimed at the victim model or job. */
    const endpoints = () => [
      { method: 'POST', path: '/query', body: JSON.stringify({ q: 'mlmodel delete victim' }) },
      { method: 'POST', path: '/query/jobs', body: JSON.stringify({ q: 'mlmodel delete victim' }) },
      { method: 'POST', path: '/angora/query', body: JSON.stringify({ q: 'mlmodel rename victim stolen' }) },
      { method: 'DELETE', path: `/query/jobs/${sid}` },
      { method: 'GET', path: `/query/jobs/${sid}` },
      { method: 'GET', path: `/query/jobs/${sid}/download?type=csv` },
      { method: 'OPTIONS', path: '/query' },
    ];
    const json = { 'Content-Type': 'application/json' };

    /** The model is there, unrenamed, and the job still answers. */
    async function unchanged(): Promise<void> {
      const models = await h.registry.run("mlmodel list | where name in ('victim', 'stolen') | fields user, name");
      expect(models.rows).toEqual([[owner, 'victim']]);
      const job = await call(h, 'GET', `/query/jobs/${sid}`, { token: tokens ? 'alice' : null });
      expect(job.status).toBe(200);
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, asserted field by field
    function expectRefused(r: { status: number; headers: Record<string, unknown>; body: any }, code: string, what: string): void {
      expect(r.status, what).toBe(code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 403);
      expect(r.body, what).toMatchObject({ type: code === 'UNSUPPORTED_MEDIA_TYPE' ? 'RuntimeError' : 'AuthError', error: { code } });
      expect(typeof r.body.error.message, what).toBe('string');
      // Nothing tells a browser it may read the answer.
      expect(Object.keys(r.headers).filter((k) => k.startsWith('access-control-')), what).toEqual([]);
    }

    it('refuses foreign and rebinding Host names on every endpoint, leaving the registry unchanged', async () => {
      const own = new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
      const foreign = fc
        .oneof(
          fc.tuple(loopbackName, label).map(([l, x]) => `${l}.${x}:${port}`), // 127.0.0.1.evil.com, localhost.attacker
          fc.tuple(loopbackName, fc.domain()).map(([l, d]) => `${l}.${d}:${port}`),
          fc.tuple(label, loopbackName).map(([x, l]) => `${x}.${l}:${port}`),
          fc.tuple(loopbackName, fc.integer({ min: 1, max: 65535 })).map(([l, p]) => `${l}:${p}`),
          loopbackName, // no port: port 80
          fc.domain().map((d) => `${d}:${port}`),
          fc.domain().map((d) => d.toUpperCase()),
          fc.ipV4().map((ip) => `${ip}:${port}`),
          fc.ipV6().map((ip) => `[${ip}]:${port}`),
          fc.constantFrom(`127.0.0.2:${port}`, `[::ffff:127.0.0.1]:${port}`, `0.0.0.0:${port}`, `[::]:${port}`, `localhost.:${port}`, `localhost..:${port}`),
          fc
            .tuple(loopbackName, fc.constantFrom('/', '/x', '@evil.com', ' evil.com', ', evil.com', '#', '?x', '\\', '%2e', ':', ':x', '.', '..', ':99999', '::'))
            .map(([l, junk]) => `${l}:${port}${junk}`),
          fc.tuple(label, loopbackName).map(([u, l]) => `${u}@${l}:${port}`),
          fc.constantFrom('', ' ', 'localhost localhost', `[::1:${port}`, `::1:${port}`, `[localhost]:${port}`),
        )
        .filter((host) => !own.has(normalizeHost(host.trim())));
      await fc.assert(
        fc.asyncProperty(foreign, fc.constantFrom(...endpoints()), async (host, e) => {
          count('host');
          const r = await rawRequest(h.url, e.method, e.path, { Host: host, ...auth, ...json }, e.body);
          expectRefused(r, 'FORBIDDEN_HOST', `${e.method} ${e.path} Host: ${host}`);
        }),
        { numRuns: RUNS * 4, seed: SEED },
      );
      for (const e of endpoints()) {
        count('host');
        const missing = await rawRequest(h.url, e.method, e.path, { ...auth, ...json }, e.body);
        expectRefused(missing, 'FORBIDDEN_HOST', `${e.method} ${e.path} without Host`);
        expect(missing.body.error.message).toBe('the request has no Host header');
      }
      await unchanged();
    });

    it('answers its own Host names in any case and spelling', async () => {
      const allowed = fc.oneof(
        fc.constantFrom('localhost', '127.0.0.1').chain((n) =>
          fc.array(fc.boolean(), { minLength: n.length, maxLength: n.length }).map((up) => [...n].map((c, i) => (up[i] ? c.toUpperCase() : c)).join('')),
        ),
        fc.constantFrom('[::1]', '[0:0:0:0:0:0:0:1]', '[::0:1]', '[0::1]', '127.000.000.001', '127.0.1', '127.1'),
      );
      await fc.assert(
        fc.asyncProperty(allowed, async (name) => {
          const r = await rawRequest(h.url, 'GET', `/query/jobs/${sid}`, { Host: `${name}:${port}`, ...auth });
          expect(r.status, name).toBe(200);
          expect(r.body.state).toBe('done');
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });

    it('refuses foreign Origins, null and scheme/port variants on every endpoint, leaving the registry unchanged', async () => {
      const otherPort = fc.integer({ min: 1, max: 65535 }).filter((p) => p !== port);
      const foreign = fc.oneof(
        fc.constant('null'),
        fc.domain().map((d) => `http://${d}`),
        fc.domain().map((d) => `https://${d}:${port}`),
        fc.tuple(fc.constantFrom('http', 'https', 'HTTP'), otherPort).map(([s, p]) => `${s}://127.0.0.1:${p}`),
        fc.tuple(fc.constantFrom('http', 'https'), loopbackName).map(([s, l]) => `${s}://${l}`),
        // Another name of this same server is another origin.
        fc.constantFrom(`http://localhost:${port}`, `http://[::1]:${port}`, `http://LOCALHOST:${port}`),
        label.map((x) => `http://127.0.0.1.${x}:${port}`),
        label.map((x) => `http://127.0.0.1:${port}.${x}.com`),
        fc.constantFrom(
          'file://',
          `ws://127.0.0.1:${port}`,
          `ftp://127.0.0.1:${port}`,
          `http://127.0.0.1:${port}/`,
          `http://127.0.0.1:${port}/evil`,
          `http://user@127.0.0.1:${port}`,
          `//127.0.0.1:${port}`,
          `127.0.0.1:${port}`,
          '*',
          '',
        ),
        label.map((x) => `chrome-extension://${x}`),
      );
      await fc.assert(
        fc.asyncProperty(foreign, fc.constantFrom(...endpoints()), fc.constantFrom(undefined, 'cross-site', 'same-site', 'same-origin'), async (origin, e, site) => {
          count('origin');
          const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, Origin: origin, ...auth, ...json };
          if (site) headers['Sec-Fetch-Site'] = site;
          if (e.method === 'OPTIONS') Object.assign(headers, { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' });
          const r = await rawRequest(h.url, e.method, e.path, headers, e.body);
          expectRefused(r, 'FORBIDDEN_ORIGIN', `${e.method} ${e.path} Origin: ${origin}`);
        }),
        { numRuns: RUNS * 4, seed: SEED },
      );
      await unchanged();
    });

    it('refuses a no-cors request the browser marks cross-site or same-site, even without an Origin', async () => {
      for (const e of endpoints()) {
        for (const site of ['cross-site', 'same-site', 'CROSS-SITE']) {
          count('sec-fetch-site');
          const r = await rawRequest(h.url, e.method, e.path, { Host: `127.0.0.1:${port}`, 'Sec-Fetch-Site': site, ...auth, ...json }, e.body);
          expectRefused(r, 'FORBIDDEN_ORIGIN', `${e.method} ${e.path} Sec-Fetch-Site: ${site}`);
        }
        // A same-origin page and a typed-in address are answered.
        for (const site of ['same-origin', 'none']) {
          if (e.method !== 'GET') continue;
          const r = await rawRequest(h.url, e.method, e.path, { Host: `127.0.0.1:${port}`, 'Sec-Fetch-Site': site, ...auth });
          expect(r.status, `${e.path} ${site}`).toBe(200);
        }
      }
      await unchanged();
    });

    it('refuses every body that is not application/json on the write and query endpoints (415), before reading it', async () => {
      const posts = endpoints().filter((e) => e.method === 'POST');
      const bodies = [JSON.stringify({ q: 'mlmodel delete victim' }), 'q=mlmodel+delete+victim', '------x\r\nContent-Disposition: form-data; name="q"\r\n\r\nmlmodel delete victim\r\n------x--\r\n'];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...NON_JSON), fc.constantFrom(...posts), fc.constantFrom(...bodies), fc.boolean(), async (type, e, body, sameOrigin) => {
          count('content-type');
          const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, ...auth };
          if (type !== null) headers['Content-Type'] = type;
          if (sameOrigin) headers.Origin = `http://127.0.0.1:${port}`;
          const r = await rawRequest(h.url, e.method, e.path, headers, body);
          expectRefused(r, 'UNSUPPORTED_MEDIA_TYPE', `${e.path} Content-Type: ${type}`);
          expect(r.headers['accept-post']).toBe('application/json');
        }),
        { numRuns: RUNS * 2, seed: SEED },
      );
      await unchanged();
    });

    it('still answers JSON from its own origin, with any spelling of the JSON media type', async () => {
      for (const type of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json; foo=bar']) {
        for (const origin of [undefined, `http://127.0.0.1:${port}`, `HTTP://127.0.0.1:${port}`]) {
          const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, 'Content-Type': type, ...auth };
          if (origin) headers.Origin = origin;
          const r = await rawRequest(h.url, 'POST', '/query', headers, JSON.stringify({ q: 'mlmodel list | where name = "victim" | fields name' }));
          expect(r.status, `${type} ${origin}`).toBe(200);
          expect(r.body.results).toEqual([['victim']]);
          expect(r.headers['access-control-allow-origin']).toBeUndefined();
        }
      }
    });

    it('performs no write on a GET or another method: a query in the URL is not run', async () => {
      const q = encodeURIComponent('mlmodel delete victim');
      for (const [method, path] of [
        ['GET', `/query?q=${q}`],
        ['HEAD', `/query?q=${q}`],
        ['GET', `/query/jobs?q=${q}`],
        ['PUT', '/query'],
        ['PATCH', '/query/jobs'],
        ['GET', `/angora/query?q=${q}`],
        ['POST', `/query/jobs/${sid}`],
        ['PUT', `/query/jobs/${sid}`],
      ] as const) {
        const r = await rawRequest(h.url, method, path, { Host: `127.0.0.1:${port}`, ...auth, ...json }, method === 'GET' || method === 'HEAD' ? undefined : JSON.stringify({ q: 'mlmodel delete victim' }));
        expect(r.status, `${method} ${path}`).toBe(405);
      }
      await unchanged();
    });

    it('grants nothing to a foreign preflight, and answers its own without CORS headers', async () => {
      for (const path of ['/query', '/query/jobs', `/query/jobs/${sid}`]) {
        const foreign = await rawRequest(h.url, 'OPTIONS', path, { Host: `127.0.0.1:${port}`, Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' });
        expectRefused(foreign, 'FORBIDDEN_ORIGIN', path);
        const own = await rawRequest(h.url, 'OPTIONS', path, { Host: `127.0.0.1:${port}` });
        expect(own.status).toBe(204);
        expect(Object.keys(own.headers).filter((k) => k.startsWith('access-control-'))).toEqual([]);
      }
      // A preflight does not tell which routes exist without a token either.
      const unknown = await rawRequest(h.url, 'OPTIONS', '/admin', { Host: `127.0.0.1:${port}` });
      expect(unknown.status).toBe(tokens ? 401 : 404);
    });
  });
}

describe('the allow-lists: http.allowed_hosts and http.allowed_origins', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({ httpConfig: '  allowed_hosts: [models.example.com, "box.lan:8443"]\n  allowed_origins: ["http://app.example:3000", "HTTPS://Notebook.Example"]\n' });
    port = Number(new URL(h.url).port);
  });
  afterAll(() => h.close());
  const alice = { Authorization: `Bearer ${TOKENS.alice}` };

  it('answers a configured name on any port, a name:port only on that port, and nothing like them', async () => {
    for (const host of ['models.example.com', `models.example.com:${port}`, 'MODELS.example.com:1', 'box.lan:8443', `127.0.0.1:${port}`]) {
      const r = await rawRequest(h.url, 'GET', '/query/jobs/none', { Host: host, ...alice });
      expect(r.status, host).toBe(404);
      expect(r.body.error.code).toBe('JOB_NOT_FOUND');
    }
    for (const host of ['models.example.com.evil.com', 'evil.models.example.com', 'box.lan', 'box.lan:8444', 'example.com']) {
      const r = await rawRequest(h.url, 'GET', '/query/jobs/none', { Host: host, ...alice });
      expect(r.status, host).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN_HOST');
    }
  });

  it('lets a configured origin preflight and call, with CORS headers naming only it', async () => {
    const host = { Host: `127.0.0.1:${port}` };
    for (const origin of ['http://app.example:3000', 'https://notebook.example', 'https://notebook.example:443']) {
      const pre = await rawRequest(h.url, 'OPTIONS', '/query', { ...host, Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' });
      expect(pre.status, origin).toBe(204);
      const canonical = new URL(origin).origin;
      expect(pre.headers).toMatchObject({
        'access-control-allow-origin': canonical,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'Authorization, Content-Type',
        vary: 'Origin',
      });
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
      const r = await rawRequest(h.url, 'POST', '/query', { ...host, Origin: origin, 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json', ...alice }, '{"q": "mlmodel list"}');
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe(canonical);
      // Errors carry the header too, so the page can read why.
      const bad = await rawRequest(h.url, 'POST', '/query', { ...host, Origin: origin, 'Content-Type': 'text/plain', ...alice }, '{"q": "mlmodel list"}');
      expect(bad.status).toBe(415);
      expect(bad.headers['access-control-allow-origin']).toBe(canonical);
    }
    const wrongMethod = await rawRequest(h.url, 'OPTIONS', '/query', { ...host, Origin: 'http://app.example:3000', 'Access-Control-Request-Method': 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    for (const origin of ['http://app.example:3001', 'https://app.example:3000', 'http://app.example', 'http://notebook.example', 'null']) {
      const r = await rawRequest(h.url, 'OPTIONS', '/query', { ...host, Origin: origin, 'Access-Control-Request-Method': 'POST' });
      expect(r.status, origin).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('reads the lists from the config file or, replacing them, the environment, and refuses malformed entries', () => {
    const cfg = (env: Record<string, string>) => loadConfig({ HOME: h.root, MLMODEL_HOME: join(h.root, 'home'), MLMODEL_CONFIG: join(h.root, 'config.yaml'), ...env }).http;
    expect(cfg({})).toMatchObject({ allowedHosts: ['models.example.com', 'box.lan:8443'], allowedOrigins: ['http://app.example:3000', 'https://notebook.example'] });
    expect(cfg({ MLMODEL_HTTP_ALLOWED_HOSTS: ' a.example , [::2]:80,*', MLMODEL_HTTP_ALLOWED_ORIGINS: 'http://x.example:80' })).toMatchObject({
      allowedHosts: ['a.example', '[::2]', '*'],
      allowedOrigins: ['http://x.example'],
    });
    const refused = (env: Record<string, string>) => {
      try {
        cfg(env);
      } catch (e) {
        if (isMlmodelError(e, 'CONFIG_INVALID')) return e.message;
        throw e;
      }
      return 'accepted';
    };
    expect(refused({ MLMODEL_HTTP_ALLOWED_HOSTS: 'http://a.example' })).toBe('MLMODEL_HTTP_ALLOWED_HOSTS: "http://a.example" is not a host name or name:port');
    expect(refused({ MLMODEL_HTTP_ALLOWED_ORIGINS: 'null' })).toBe('MLMODEL_HTTP_ALLOWED_ORIGINS: "null" is not an origin scheme://host[:port]');
    for (const bad of ['a.example/', 'user@a.example', 'a.example:99999', 'a b']) expect(refused({ MLMODEL_HTTP_ALLOWED_HOSTS: bad }), bad).not.toBe('accepted');
    for (const bad of ['app.example', 'http://app.example/path', 'file://', 'ftp://a.example']) expect(refused({ MLMODEL_HTTP_ALLOWED_ORIGINS: bad }), bad).not.toBe('accepted');
  });

  it('answers any Host and Origin once they are "*"', async () => {
    const open = await startHarness({ httpConfig: '  allowed_hosts: ["*"]\n  allowed_origins: ["*"]\n' });
    try {
      const r = await rawRequest(open.url, 'POST', '/query', { Host: 'anything.example', Origin: 'http://evil.example', 'Content-Type': 'application/json', ...alice }, '{"q": "mlmodel list"}');
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe('http://evil.example');
      // JSON is still required: "*" opens names, not the body check.
      const form = await rawRequest(open.url, 'POST', '/query', { Host: 'anything.example', 'Content-Type': 'text/plain', ...alice }, '{"q": "mlmodel list"}');
      expect(form.status).toBe(415);
    } finally {
      await open.close();
    }
  });
});

afterAll(() => {
  if (process.env.MLMODEL_GUARD_FIGURES) writeFileSync(process.env.MLMODEL_GUARD_FIGURES, JSON.stringify({ seed: SEED, sent }) + '\n');
  console.log(`request guard: seed ${SEED}, attacks sent ${JSON.stringify(sent)}`);
});
