import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createQueryServer, type QueryServer, type QueryServerOptions } from '../../console/serve/server.js';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { file, tar } from '../archive/tar-writer.js';

export const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef00',
  ops: 'ops-admin-token-0123456789ab',
} as const;

export interface Harness {
  readonly root: string;
  /** The directory `path=` may use over HTTP (http.local_roots). */
  readonly inbox: string;
  readonly registry: Registry;
  readonly server: QueryServer;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A real registry on the embedded stores of a fresh home, its config file
 * holding an http section (tokens for alice, bob and the admin ops unless
 * `tokens: false`), served on a free loopback port.
 */
export async function startHarness(
  opts: {
    tokens?: boolean;
    wrap?: (r: Registry) => Registry;
    server?: Partial<QueryServerOptions>;
    /** Lines added to the config's http section. */
    httpConfig?: string;
    /** More connectors, NAME: URL, beside LAKE. */
    connectors?: Readonly<Record<string, string>>;
  } = {},
): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-http-'));
  const inbox = join(root, 'inbox');
  mkdirSync(inbox);
  const configFile = join(root, 'config.yaml');
  const tokens = opts.tokens === false ? '' : `  tokens:\n${Object.entries(TOKENS).map(([u, t]) => `    ${t}: ${u}\n`).join('')}  admins: [ops]\n`;
  // A directory connector that is never created: what reads through a connector answers (BUCKET_NOT_FOUND) without a server.
  const connectors = Object.entries({ LAKE: join(root, 'lake'), ...opts.connectors })
    .map(([name, url]) => `  ${name}: ${JSON.stringify(url)}\n`)
    .join('');
  writeFileSync(configFile, `user: root\nconnectors:\n${connectors}http:\n${tokens}  local_roots: [${inbox}]\n${opts.httpConfig ?? ''}`);
  const config = loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: configFile }, {});
  const real = await openRegistry({ config, localRoots: config.http.localRoots });
  const registry = opts.wrap ? opts.wrap(real) : real;
  const server = createQueryServer({ registry, ...opts.server });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    root,
    inbox,
    registry,
    server,
    url,
    async close() {
      await server.close();
      await real.close();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  // Parsed JSON whose shape each test asserts; typing every reply is not worth it here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** One request; `token` as a user name from TOKENS, a raw token string, or null for none. */
export async function call(
  h: { url: string },
  method: string,
  path: string,
  opts: { token?: keyof typeof TOKENS | null; raw?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(opts.body !== undefined || opts.raw !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...opts.headers,
  };
  if (opts.token) headers.Authorization = `Bearer ${TOKENS[opts.token]}`;
  const res = await fetch(h.url + path, {
    method,
    headers,
    ...(opts.raw !== undefined ? { body: opts.raw } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

/** Polls a job until isEnd (or failure), at most `ms`. */
export async function waitJob(h: { url: string }, sid: string, token: keyof typeof TOKENS | null, ms = 10_000, query = ''): Promise<Reply> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await call(h, 'GET', `/query/jobs/${sid}${query}`, { token });
    if (r.status !== 200 || r.body.state !== 'running') return r;
    if (Date.now() > deadline) throw new Error(`job ${sid} still running after ${ms} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * One request over node:http with exactly the headers given: no Host unless
 * named (fetch always sends its own), any Content-Type or none.
 */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, asserted by each test
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, method, path, headers, setHost: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let parsed: unknown = text;
        if (text !== '' && (res.headers['content-type'] ?? '').startsWith('application/json')) parsed = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
/** A real model whose `mlmodel files` result has `n` + 1 rows (path, size, modified, sha256): a large result from one import. */
export function manyFilesArchive(n: number): Buffer {
  const files = Array.from({ length: n }, (_, i) => file(`data/shard-${String(i).padStart(6, '0')}.bin`, `shard ${i}`));
  return gzipSync(tar(file('model.pkl', Buffer.from('\x80\x04pickled estimator')), ...files));
}

