import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { quote } from '../../grammar/index.js';
import { parse } from '../../src/language.js';
import type { Query } from '../../grammar/ast.js';
import { redact, type HttpConfig, type Secret } from '../../src/config/index.js';
import type { Progress } from '../../src/engine/context.js';
import type { Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import type { ResultTable } from '../../src/result/table.js';
import { FORMATS, type Format } from '../args.js';
import { machineCell } from '../render/cells.js';
import { render } from '../render/formats.js';
import { Authenticator } from './auth.js';
import { errorBody, HttpError, toHttpError } from './errors.js';
import { JobTable, type Job } from './jobs.js';

export interface QueryServerOptions {
  /** The open registry every request runs against (as the request's user). */
  readonly registry: Registry;
  /** Tokens, admins; defaults to `registry.config.http`. */
  readonly http?: HttpConfig;
  /** Largest request body accepted (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Per-query time limit (default: the config's `http.query_timeout`, else 5 minutes). */
  readonly queryTimeoutMs?: number;
  /** Queries running at once, sync and jobs together; more are refused with 429 (default 32). */
  readonly maxRunning?: number;
  /** Jobs held at once (default 256). */
  readonly maxJobs?: number;
  /** How long a finished job stays readable (default 10 minutes). */
  readonly jobTtlMs?: number;
  /** One line per request (method, path, status, time, user) and unexpected errors. */
  readonly log?: (line: string) => void;
}

export interface QueryServer {
  readonly server: Server;
  /** Starts listening; resolves with the address actually bound (port 0 picks a free one). */
  listen(port: number, host: string): Promise<{ host: string; port: number; url: string }>;
  /** Cancels running queries, stops accepting, waits for in-flight requests. */
  close(): Promise<void>;
}

const DEFAULTS = { maxBodyBytes: 64 * 1024, queryTimeoutMs: 5 * 60_000, maxRunning: 32, maxJobs: 256, jobTtlMs: 10 * 60_000 };

/** Why a query's signal fired: the time limit, as opposed to a cancel or a client that went away. */
const TIMEOUT = Symbol('query timeout');

type RouteName = 'query' | 'jobs' | 'job' | 'download';
interface Route {
  readonly name: RouteName;
  readonly methods: readonly string[];
  readonly sid?: string;
}

/** `/query`, `/query/jobs`, `/query/jobs/<sid>`, `/query/jobs/<sid>/download`; IRIS's `/angora` prefix is accepted too. */
function route(pathname: string): Route | null {
  const p = pathname.replace(/^\/angora(?=\/)/, '').replace(/\/+$/, '');
  if (p === '/query') return { name: 'query', methods: ['POST'] };
  if (p === '/query/jobs') return { name: 'jobs', methods: ['POST'] };
  const m = /^\/query\/jobs\/([^/]+)(\/download)?$/.exec(p);
  if (!m) return null;
  let sid: string;
  try {
    sid = decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
  return m[2] ? { name: 'download', methods: ['GET'], sid } : { name: 'job', methods: ['GET', 'DELETE'], sid };
}

/**
 * The IRIS-style query API over node:http:
 *
 * - `POST /query` `{"q": "…"}` runs one query and answers with its result;
 * - `POST /query/jobs` `{"q": "…"}` starts it and answers `{"sid": "…"}`;
 * - `GET /query/jobs/<sid>[?offset=&limit=]` answers `{"status": {"current", "total"}, "isEnd", "fields", "results"}`;
 * - `DELETE /query/jobs/<sid>` cancels and forgets a job;
 * - `GET /query/jobs/<sid>/download?type=csv|tsv|json|jsonl|markdown|html` the whole result as a file.
 *
 * Errors are JSON `{"type", "message", "error": {"code", "message", …}}`,
 * with a parse error's line and column.
 */
export function createQueryServer(options: QueryServerOptions): QueryServer {
  const registry = options.registry;
  const config = registry.config;
  const http = options.http ?? config.http;
  const secrets: readonly Secret[] = config.secrets;
  const maxBody = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const queryTimeoutMs = options.queryTimeoutMs ?? (http.queryTimeout !== null ? http.queryTimeout * 1000 : DEFAULTS.queryTimeoutMs);
  const maxRunning = options.maxRunning ?? DEFAULTS.maxRunning;
  const log = options.log ?? (() => undefined);
  const auth = new Authenticator(http, config.user);
  const jobs = new JobTable({ maxJobs: options.maxJobs ?? DEFAULTS.maxJobs, ttlMs: options.jobTtlMs ?? DEFAULTS.jobTtlMs });
  const running = new Set<Promise<unknown>>();
  /** Every running query's controller, so that close() can cancel synchronous queries too. */
  const controllers = new Set<AbortController>();
  const sweeper = setInterval(() => jobs.sweep(), 30_000);
  sweeper.unref();

  /** Runs one parsed query as `user` within the time limit; at most `maxRunning` at once. */
  async function runQuery(
    user: string,
    query: Query,
    ac: AbortController,
    onProgress?: (p: Progress) => void,
  ): Promise<ResultTable> {
    if (running.size >= maxRunning) {
      throw new HttpError(429, 'TOO_MANY_QUERIES', `${maxRunning} queries are running; try again shortly`, {}, { 'Retry-After': '1' });
    }
    const timer = setTimeout(() => ac.abort(TIMEOUT), queryTimeoutMs);
    const work = registry.execute(query, { user, signal: ac.signal, ...(onProgress ? { onProgress } : {}) });
    running.add(work);
    controllers.add(ac);
    try {
      return await work;
    } catch (e) {
      if (ac.signal.reason === TIMEOUT) {
        throw new HttpError(504, 'QUERY_TIMEOUT', `the query ran longer than the server's limit of ${queryTimeoutMs / 1000} s and was cancelled`);
      }
      throw await explainNotFound(e, user, query);
    } finally {
      clearTimeout(timer);
      running.delete(work);
      controllers.delete(ac);
    }
  }

  /**
   * Writes resolve models only among the caller's own ("no model of yours
   * called X"). When a model of that name exists but belongs to someone
   * else, that is a 403, not a 404.
   */
  async function explainNotFound(e: unknown, user: string, query: Query): Promise<unknown> {
    if (!isMlmodelError(e, 'MODEL_NOT_FOUND')) return e;
    const keys = Object.keys(e.details);
    const name = e.details.name;
    if (typeof name !== 'string' || keys.length !== 1) return e;
    const ref = (query.command as { model?: { name: string } }).model;
    if (ref?.name !== name) return e;
    try {
      const owners = await registry.run(`mlmodel list | where name = ${quote(name)} | fields user`, { user });
      const others = owners.rows.map((r) => String(r[0])).filter((u) => u !== user);
      if (others.length > 0 && !owners.rows.some((r) => r[0] === user)) {
        return new HttpError(403, 'FORBIDDEN', `${name} belongs to ${others.join(', ')}; only its owner may ${query.command.kind} it`, {
          details: { name, owners: others },
        });
      }
    } catch {
      // The original error says enough.
    }
    return e;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let user = '-';
    let url = new URL('http://localhost/');
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      user = auth.authenticate(req);
      const r = route(url.pathname);
      if (!r) throw new HttpError(404, 'ROUTE_NOT_FOUND', `no such endpoint: ${url.pathname}; see docs/http.md`);
      if (!r.methods.includes(req.method ?? '')) {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}; use ${r.methods.join(' or ')}`, {}, { Allow: r.methods.join(', ') });
      }
      switch (r.name) {
        case 'query': {
          const body = await readRequest(req, maxBody);
          user = actAs(user, body.user);
          const query = parse(body.q);
          const ac = new AbortController();
          const onClose = () => {
            if (!res.writableEnded) ac.abort(new Error('client went away'));
          };
          res.once('close', onClose);
          const table = await runQuery(user, query, ac);
          send(res, 200, resultBody(table, 0, body.size));
          break;
        }
        case 'jobs': {
          const body = await readRequest(req, maxBody);
          user = actAs(user, body.user);
          const query = parse(body.q);
          if (running.size >= maxRunning) {
            throw new HttpError(429, 'TOO_MANY_QUERIES', `${maxRunning} queries are running; try again shortly`, {}, { 'Retry-After': '1' });
          }
          const job = jobs.create(user, body.q, body.size);
          startJob(job, query);
          send(res, 200, { sid: job.sid }, { Location: `/query/jobs/${job.sid}` });
          break;
        }
        case 'job': {
          const job = jobs.get(r.sid!, user);
          if (req.method === 'DELETE') {
            const cancelled = jobs.delete(job);
            send(res, 200, { sid: job.sid, cancelled });
            break;
          }
          const offset = intParam(url, 'offset', 0) ?? 0;
          const limit = intParam(url, 'limit', 1) ?? job.size;
          send(res, ...jobBody(job, offset, limit));
          break;
        }
        case 'download': {
          const job = jobs.get(r.sid!, user);
          if (job.state === 'failed') throw job.error!;
          if (job.state === 'running') throw new HttpError(409, 'CONFLICT', `job ${job.sid} is still running; download it when GET says isEnd`);
          const type = url.searchParams.get('type') ?? 'csv';
          if (!(FORMATS as readonly string[]).includes(type) || type === 'table') {
            throw new HttpError(400, 'BAD_REQUEST', `type must be one of ${FORMATS.filter((f) => f !== 'table').join(', ')}`);
          }
          const fileName = (url.searchParams.get('file_name') ?? 'result').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'result';
          const ext = { json: 'json', jsonl: 'jsonl', csv: 'csv', tsv: 'tsv', markdown: 'md', html: 'html' }[type as Exclude<Format, 'table'>];
          const mime = { json: 'application/json', jsonl: 'application/x-ndjson', csv: 'text/csv', tsv: 'text/tab-separated-values', markdown: 'text/markdown', html: 'text/html' }[
            type as Exclude<Format, 'table'>
          ];
          const text = render(job.table!, type as Format) + '\n';
          res.writeHead(200, {
            'Content-Type': `${mime}; charset=utf-8`,
            'Content-Disposition': `attachment; filename="${fileName}.${ext}"`,
            'Cache-Control': 'no-store',
            'X-Content-Type-Options': 'nosniff',
          });
          res.end(text);
          break;
        }
      }
    } catch (e) {
      const err = toHttpError(e, secrets);
      if (err.code === 'INTERNAL' && !(e instanceof HttpError)) log(`internal error on ${req.method} ${url.pathname}: ${redactStack(e, secrets)}`);
      // A body left unread (refused before reading, or too large) is not drained: the connection closes.
      if (!req.complete || err.status === 413) res.setHeader('Connection', 'close');
      if (!res.headersSent) send(res, err.status, errorBody(err), err.headers);
      else res.destroy();
    } finally {
      log(`${req.method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms user=${user}`);
    }
  }

  /** Only admins may name another user to act as. */
  function actAs(caller: string, requested: string | undefined): string {
    if (requested === undefined || requested === caller) return caller;
    if (!http.admins.includes(caller)) throw new HttpError(403, 'FORBIDDEN', `${caller} may not act as another user (only admins may)`);
    if (!/^[^\s\p{Cc}/\\]{1,128}$/u.test(requested)) throw new HttpError(400, 'BAD_REQUEST', 'user must be 1–128 characters without spaces or slashes');
    return requested;
  }

  function startJob(job: Job, query: Query): void {
    const task = runQuery(job.user, query, job.abort, (p) => {
      job.progress = p;
    }).then(
      (table) => jobs.finish(job, { table }),
      (e) => {
        const err = toHttpError(e, secrets);
        if (err.code === 'INTERNAL' && !(e instanceof HttpError)) log(`internal error in job ${job.sid}: ${redactStack(e, secrets)}`);
        jobs.finish(job, { error: err });
      },
    );
    void task;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`internal error answering ${req.method} ${req.url}: ${redactStack(e, secrets)}`);
      res.destroy();
    });
  });
  // Slow or stalled clients cannot hold a connection for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    listen(port, host) {
      return new Promise((resolvePromise, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolvePromise({ host: a.address, port: a.port, url: `http://${shown}:${a.port}` });
        });
      });
    },
    async close() {
      clearInterval(sweeper);
      jobs.abortAll();
      for (const ac of controllers) ac.abort(new Error('server stopping'));
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.allSettled([...running]);
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
      await closed;
    },
  };
}

interface QueryRequest {
  readonly q: string;
  readonly size: number | null;
  readonly user?: string;
}

/** Reads at most `max` bytes of JSON body: `{"q": "<query>", "size"?: N, "user"?: NAME}`; other keys (IRIS's fetch_size, …) are ignored. */
async function readRequest(req: IncomingMessage, max: number): Promise<QueryRequest> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = () => new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${max} bytes`, { limit: max });
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'the body must be JSON: {"q": "<query>"}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', 'the body must be a JSON object: {"q": "<query>"}');
  const b = body as Record<string, unknown>;
  if (typeof b.q !== 'string' || b.q.trim() === '') throw new HttpError(400, 'BAD_REQUEST', '"q" must be a non-empty string holding one query');
  let pageSize: number | null = null;
  if (b.size !== undefined && b.size !== null) {
    if (typeof b.size !== 'number' || !Number.isInteger(b.size) || b.size < 1) throw new HttpError(400, 'BAD_REQUEST', '"size" must be a whole number of rows, at least 1, or null for all');
    pageSize = b.size;
  }
  if (b.user !== undefined && typeof b.user !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"user" must be a string');
  return { q: b.q, size: pageSize, ...(b.user !== undefined ? { user: b.user as string } : {}) };
}

function intParam(url: URL, name: string, min: number): number | null {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return null;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw new HttpError(400, 'BAD_REQUEST', `${name} must be a whole number, at least ${min}`);
  return Number(v);
}

/** IRIS's result shape: a page of rows from `offset`; `status.current` is the row after the page, `total` all rows. */
export function resultBody(table: ResultTable, offset: number, limit: number | null) {
  const total = table.rows.length;
  const start = Math.min(offset, total);
  const end = limit === null ? total : Math.min(total, start + limit);
  return {
    status: { current: end, total },
    isEnd: end >= total,
    fields: table.columns.map((c) => ({ name: c.name, type: c.type })),
    results: table.rows.slice(start, end).map((r) => r.map((v) => machineCell(v))),
  };
}

function jobBody(job: Job, offset: number, limit: number | null): [number, unknown] {
  const head = { sid: job.sid, state: job.state };
  if (job.state === 'done') return [200, { ...head, ...resultBody(job.table!, offset, limit) }];
  if (job.state === 'failed') {
    const err = job.error!;
    return [err.status, { ...head, status: { current: 0, total: 0 }, isEnd: true, fields: [], results: [], ...errorBody(err) }];
  }
  const p = job.progress;
  return [200, { ...head, status: { current: p?.done ?? 0, total: p?.total ?? 0, ...(p ? { phase: p.phase } : {}) }, isEnd: false, fields: [], results: [] }];
}

function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

function redactStack(e: unknown, secrets: readonly Secret[]): string {
  return redact(e instanceof Error ? (e.stack ?? e.message) : String(e), secrets);
}
