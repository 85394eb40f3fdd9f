import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn, type Listening } from './listen.js';
import { isUserName, USER_NAME_RULE } from '../../src/engine/user-name.js';
import type { Outcome, RunnableStatement } from '../../src/engine/runner.js';
import { join } from 'node:path';
import { quote, splitScript, withImplicitCommand, type Statement } from '../../grammar/index.js';
import { commandWrites, parse, printCommand } from '../../src/language.js';
import type { Query } from '../../grammar/ast.js';
import { redact, type HttpConfig, type Secret } from '../../src/config/index.js';
import type { Progress } from '../../src/engine/context.js';
import type { Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { isStreamed, streamOf, type Cell, type Column, type ResultTable } from '../../src/result/table.js';
import { FORMATS, type Format } from '../args.js';
import { machineCell } from '../render/cells.js';
import { lineEnd, render } from '../render/formats.js';
import { Authenticator } from './auth.js';
import { errorBody, HttpError, toHttpError } from './errors.js';
import { corsHeaders, readBody, RequestGuard, requireJson } from './guard.js';
import { JobTable, type Job } from './jobs.js';
import { ResultStore } from './results.js';
import { wantsNdjson, writeNdjson } from './ndjson.js';
import { param, trackingRoute, type TrackingRoute } from './tracking-routes.js';
import { createWebUi } from './web.js';

export interface QueryServerOptions {
  /** The open registry every request runs against (as the request's user). */
  readonly registry: Registry;
  /** Tokens, admins, allowed hosts and origins; defaults to `registry.config.http`. */
  readonly http?: HttpConfig;
  /** Largest request body accepted (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Per-query time limit (default: the config's `http.query_timeout`, else 5 minutes). */
  readonly queryTimeoutMs?: number;
  /** Queries running at once, sync and jobs together; more are refused with 429 (default 32). */
  readonly maxRunning?: number;
  /** Jobs held at once, all users together (default 1024); past it new jobs are refused. */
  readonly maxJobs?: number;
  /** Jobs one user holds at once (default 64); that user's oldest finished job makes room. */
  readonly maxJobsPerUser?: number;
  /** Bytes of finished results held in memory, all jobs together (default 64 MiB); more goes to disk. */
  readonly resultMemoryBytes?: number;
  /** The largest result held in memory (default 1 MiB); a larger one goes to disk. */
  readonly resultInlineBytes?: number;
  /** Bytes of spilled results one user may hold (default 1 GiB); past it a job fails with 507. */
  readonly resultDiskBytesPerUser?: number;
  /** Where spilled results go (default `<home>/serve`); each server makes its own directory inside. */
  readonly spillDir?: string;
  /** How long a finished job stays readable (default 10 minutes). */
  readonly jobTtlMs?: number;
  /** One line per request (method, path, status, time, user) and unexpected errors. */
  readonly log?: (line: string) => void;
}

export interface QueryServer {
  readonly server: Server;
  /** Starts listening; resolves with the address actually bound (port 0 picks a free one). */
  listen(port: number, host: string): Promise<Listening>;
  /** Cancels running queries, stops accepting, waits for in-flight requests. */
  close(): Promise<void>;
}

/** Headers must be complete within 10 s of a request's start, the whole request within 30 s. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

const DEFAULTS = {
  maxBodyBytes: 64 * 1024,
  queryTimeoutMs: 5 * 60_000,
  maxRunning: 32,
  maxJobs: 1024,
  maxJobsPerUser: 64,
  jobTtlMs: 10 * 60_000,
  resultMemoryBytes: 64 * 1024 * 1024,
  resultInlineBytes: 1024 * 1024,
  resultDiskBytesPerUser: 1024 * 1024 * 1024,
  /** Downloads of spilled results read back at once: each holds a whole table in memory while it renders. */
  spilledDownloads: 2,
};

/** Why a query's signal fired: the time limit, as opposed to a cancel or a client that went away. */
const TIMEOUT = Symbol('query timeout');

type RouteName = 'query' | 'script' | 'jobs' | 'job' | 'download' | 'tracking';
interface Route {
  readonly name: RouteName;
  readonly methods: readonly string[];
  readonly sid?: string;
  readonly tracking?: TrackingRoute;
}

/** `/query`, `/query/script`, `/query/jobs`, `/query/jobs/<sid>`, `/query/jobs/<sid>/download`; IRIS's `/angora` prefix is accepted too. */
function route(pathname: string): Route | null {
  const p = pathname.replace(/^\/angora(?=\/)/, '').replace(/\/+$/, '');
  if (p === '/query') return { name: 'query', methods: ['POST'] };
  if (p === '/query/script') return { name: 'script', methods: ['POST'] };
  if (p === '/query/jobs') return { name: 'jobs', methods: ['POST'] };
  const tracking = trackingRoute(p);
  if (tracking) return { name: 'tracking', methods: tracking.methods, tracking };
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
 * - `POST /query/script` `{"script": "…"}` runs a script's statements in turn
 *   (the CLI's splitter and its stop at the first failure) and answers with
 *   each result, and the error that stopped it;
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
  const guard = new RequestGuard(http);
  const web = createWebUi(http, auth, config.user, maxBody);
  const results = new ResultStore(options.spillDir ?? join(config.home, 'serve'), {
    memoryBytes: options.resultMemoryBytes ?? DEFAULTS.resultMemoryBytes,
    inlineBytes: options.resultInlineBytes ?? DEFAULTS.resultInlineBytes,
    diskBytesPerUser: options.resultDiskBytesPerUser ?? DEFAULTS.resultDiskBytesPerUser,
  });
  const jobs = new JobTable(
    {
      maxJobs: options.maxJobs ?? DEFAULTS.maxJobs,
      maxJobsPerUser: options.maxJobsPerUser ?? DEFAULTS.maxJobsPerUser,
      ttlMs: options.jobTtlMs ?? DEFAULTS.jobTtlMs,
    },
    (job) => {
      if (job.result) results.release(job.user, job.result);
      job.result = null;
    },
  );
  const running = new Set<Promise<unknown>>();
  /** Jobs between their query's end and their result being held (a spill being written), so close() can wait for them. */
  const finishing = new Set<Promise<unknown>>();
  let spilledDownloads = 0;
  /** Every running query's controller, so that close() can cancel synchronous queries too. */
  const controllers = new Set<AbortController>();
  const sweeper = setInterval(() => jobs.sweep(), 30_000);
  sweeper.unref();

  /**
   * A read-only user (`http.readers`) may run only what its command module
   * says does not write: list, summary, fsck without repair, … (the modules
   * declare it; nothing here names a command).
   */
  function permitted(user: string, query: Query): Query {
    if (http.readers.includes(user) && commandWrites(query.command)) {
      throw new HttpError(403, 'FORBIDDEN', `${user} may only read (http.readers); ${printCommand(query.command).split(' ').slice(0, 2).join(' ')} changes the registry or writes files`);
    }
    return query;
  }

  /**
   * Runs parsed statements as `user` through the engine's one run loop, within
   * the time limit and holding one of the `maxRunning` slots: their outcomes
   * in order, up to and including the first failure, each error explained
   * for HTTP (the time limit, another user's model).
   */
  async function runParsed(
    user: string,
    statements: readonly (RunnableStatement & { readonly query: Query })[],
    ac: AbortController,
    onProgress?: (p: Progress) => void,
  ): Promise<Outcome<RunnableStatement & { readonly query: Query }>[]> {
    if (running.size >= maxRunning) {
      throw new HttpError(429, 'TOO_MANY_QUERIES', `${maxRunning} queries are running; try again shortly`, {}, { 'Retry-After': '1' });
    }
    const timer = setTimeout(() => ac.abort(TIMEOUT), queryTimeoutMs);
    const work = (async () => {
      const outcomes = [];
      for await (const o of registry.runStatements(statements, { user, signal: ac.signal, ...(onProgress ? { onProgress } : {}) })) outcomes.push(o);
      return outcomes;
    })();
    running.add(work);
    controllers.add(ac);
    try {
      const outcomes = await work;
      const last = outcomes.at(-1);
      if (last && 'error' in last) {
        const error =
          ac.signal.reason === TIMEOUT
            ? timedOut()
            : await explainNotFound(last.error, user, last.statement.query);
        outcomes[outcomes.length - 1] = { statement: last.statement, error };
      }
      return outcomes;
    } finally {
      clearTimeout(timer);
      running.delete(work);
      controllers.delete(ac);
    }
  }

  /** What a query cancelled by the time limit answers. */
  const timedOut = () => new HttpError(504, 'QUERY_TIMEOUT', `the query ran longer than the server's limit of ${queryTimeoutMs / 1000} s and was cancelled`);

  /**
   * `POST /query` with `Accept: application/x-ndjson`: one parsed query run
   * as runParsed runs it (a slot, the time limit, cancelled when the client
   * goes away), its rows written as JSON Lines as they are read (ndjson.ts)
   * — for results too large to hold.
   */
  async function streamQuery(res: ServerResponse, user: string, text: string, query: Query, ac: AbortController): Promise<void> {
    if (running.size >= maxRunning) {
      throw new HttpError(429, 'TOO_MANY_QUERIES', `${maxRunning} queries are running; try again shortly`, {}, { 'Retry-After': '1' });
    }
    const timer = setTimeout(() => ac.abort(TIMEOUT), queryTimeoutMs);
    const explained = async (e: unknown) => (ac.signal.reason === TIMEOUT ? timedOut() : explainNotFound(e, user, query));
    const work = (async () => {
      for await (const o of registry.runStatements([{ text, line: 1, query }], { user, signal: ac.signal, stream: true })) {
        if ('error' in o) throw await explained(o.error);
        const table = isStreamed(o.table) ? o.table : streamOf(o.table);
        // A failure after the head: its body on the last line (a timeout is explained as at once).
        const lastLine = (e: unknown) => errorBody(toHttpError(ac.signal.reason === TIMEOUT ? timedOut() : e, secrets));
        await writeNdjson(res, table, lastLine).catch(async (e: unknown) => {
          throw await explained(e);
        });
      }
    })();
    running.add(work);
    controllers.add(ac);
    try {
      await work;
    } finally {
      clearTimeout(timer);
      running.delete(work);
      controllers.delete(ac);
    }
  }

  /** Runs one parsed query (a parse error was answered before any slot was taken): its table, or its error thrown. */
  async function runQuery(user: string, text: string, query: Query, ac: AbortController, onProgress?: (p: Progress) => void): Promise<ResultTable> {
    const [outcome] = await runParsed(user, [{ text, line: 1, query }], ac, onProgress);
    if ('error' in outcome!) throw outcome.error;
    return outcome!.table;
  }

  /**
   * `POST /query/script`: the statements of a script, cut by the one
   * splitter, parsed and checked against `http.readers` up to the first that
   * fails, then run in turn until one fails. The answer holds each result
   * with its statement's line and text, and the error that stopped the
   * script — with the statement it belongs to — under the error's own status.
   */
  async function runScriptRequest(res: ServerResponse, user: string, body: ScriptRequest): Promise<void> {
    const statements = splitScript(body.script).map((s) => (body.implicitCommand ? withImplicitCommand(s) : s));
    if (statements.length === 0) throw new HttpError(400, 'BAD_REQUEST', '"script" holds no statement');
    const runnable: (RunnableStatement & { readonly query: Query })[] = [];
    let stop: { statement: Statement; error: unknown } | null = null;
    for (const st of statements) {
      try {
        runnable.push({ ...st, query: permitted(user, parse(st.text)) });
      } catch (e) {
        stop = { statement: st, error: e };
        break;
      }
    }
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableEnded) ac.abort(new Error('client went away'));
    });
    const outcomes: Outcome<Statement>[] = runnable.length > 0 ? await runParsed(user, runnable, ac) : [];
    const results = outcomes.flatMap((o) =>
      'table' in o ? [{ line: o.statement.line, query: o.statement.text, ...resultBody(o.table.columns, o.table.rows.length, 0, o.table.rows) }] : [],
    );
    const failed = outcomes.find((o) => 'error' in o) ?? (stop !== null ? stop : undefined);
    if (failed === undefined || !('error' in failed)) {
      send(res, 200, { results });
      return;
    }
    const err = toHttpError(failed.error, secrets);
    send(res, err.status, { ...errorBody(err), statement: { line: failed.statement.line, text: failed.statement.text }, results }, err.headers);
  }

  /**
   * Writes resolve models only among the caller's own ("no model of yours
   * called X"). When a model of that name exists but belongs to someone
   * else, that is a 403, not a 404. Runs likewise: a write to another
   * user's run is refused by the store as "no run 7 of yours", the
   * console's words, with the run's owner in its details.
   */
  async function explainNotFound(e: unknown, user: string, query: Query): Promise<unknown> {
    if (isMlmodelError(e, 'NOT_FOUND')) {
      const { run, owner } = e.details;
      if (typeof owner !== 'string' || typeof run !== 'number' || owner === user) return e;
      return new HttpError(403, 'FORBIDDEN', `run ${run} belongs to ${owner}; only ${owner} or an admin may log to it or end it`, { details: { run, owner } });
    }
    if (!isMlmodelError(e, 'MODEL_NOT_FOUND')) return e;
    // Only "no model called X" (not "X has no alias A"): its details are the name and perhaps a suggestion.
    const keys = Object.keys(e.details);
    const name = e.details.name;
    if (typeof name !== 'string' || !keys.every((k) => k === 'name' || k === 'suggestion')) return e;
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
      // Before the token: a page in a browser must not learn even whether one is needed.
      const crossOrigin = guard.check(req);
      if (crossOrigin !== null) for (const [k, v] of Object.entries(corsHeaders(crossOrigin))) res.setHeader(k, v);
      if (req.method === 'OPTIONS') {
        preflight(req, res, url, crossOrigin);
        return;
      }
      // The web page (web.ts) and the API requests it makes with its session cookie and CSRF token.
      if (web.serves(url.pathname)) {
        user = await web.handle(req, res, url);
        return;
      }
      user = web.sessionUser(req) ?? auth.authenticate(req);
      const r = route(url.pathname);
      if (!r) throw new HttpError(404, 'ROUTE_NOT_FOUND', `no such endpoint: ${url.pathname}; see docs/http.md`);
      if (!r.methods.includes(req.method ?? '')) {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}; use ${r.methods.join(' or ')}`, {}, { Allow: r.methods.join(', ') });
      }
      if (req.method === 'POST') requireJson(req);
      switch (r.name) {
        case 'query': {
          const body = await readRequest(req, maxBody);
          user = actAs(user, body.user);
          const query = permitted(user, parse(body.q));
          const ac = new AbortController();
          const onClose = () => {
            if (!res.writableEnded) ac.abort(new Error('client went away'));
          };
          res.once('close', onClose);
          if (wantsNdjson(req)) {
            await streamQuery(res, user, body.q, query, ac);
            break;
          }
          const table = await runQuery(user, body.q, query, ac);
          send(res, 200, resultBody(table.columns, table.rows.length, 0, body.size === null ? table.rows : table.rows.slice(0, body.size)));
          break;
        }
        case 'script': {
          const body = await readScriptRequest(req, maxBody);
          user = actAs(user, body.user);
          await runScriptRequest(res, user, body);
          break;
        }
        case 'tracking': {
          // Training code's endpoints (tracking-routes.ts): the request becomes one statement, run like POST /query's.
          // Acting as another user as on POST /query: "user" in a POST's body, user= in a GET's query string.
          const body = req.method === 'POST' ? await readJsonBody(req, maxBody, 'a JSON object') : null;
          user = actAs(user, body !== null ? (body.user as string | undefined) : param(url, 'user'));
          const st = r.tracking!.statement(req.method ?? 'GET', url, body);
          const query = permitted(user, parse(st.text));
          const ac = new AbortController();
          res.once('close', () => {
            if (!res.writableEnded) ac.abort(new Error('client went away'));
          });
          const table = await runQuery(user, st.text, query, ac);
          if (st.none && table.rows.length === 0) throw st.none();
          send(res, 200, { ...resultBody(table.columns, table.rows.length, 0, table.rows), ...(table.chart ? { chart: table.chart } : {}) });
          break;
        }
        case 'jobs': {
          const body = await readRequest(req, maxBody);
          user = actAs(user, body.user);
          const query = permitted(user, parse(body.q));
          if (running.size >= maxRunning) {
            throw new HttpError(429, 'TOO_MANY_QUERIES', `${maxRunning} queries are running; try again shortly`, {}, { 'Retry-After': '1' });
          }
          const job = jobs.create(user, body.q, body.size);
          startJob(job, body.q, query);
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
          send(res, ...(await jobBody(job, offset, limit)));
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
          const ext = { json: 'json', jsonl: 'jsonl', csv: 'csv', tsv: 'tsv', markdown: 'md', html: 'html' }[type as Exclude<Format, 'table'>];
          // `file_name=report.csv` for a csv is named report.csv, not report.csv.csv.
          const asked = (url.searchParams.get('file_name') ?? 'result').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
          const fileName = asked.toLowerCase().endsWith(`.${ext}`) ? asked.slice(0, -(ext.length + 1)) || 'result' : asked || 'result';
          const mime = { json: 'application/json', jsonl: 'application/x-ndjson', csv: 'text/csv', tsv: 'text/tab-separated-values', markdown: 'text/markdown', html: 'text/html' }[
            type as Exclude<Format, 'table'>
          ];
          const held = job.result!;
          if (held.file !== null && spilledDownloads >= DEFAULTS.spilledDownloads) {
            throw new HttpError(429, 'TOO_MANY_QUERIES', `${DEFAULTS.spilledDownloads} large results are being downloaded; try again shortly`, {}, { 'Retry-After': '1' });
          }
          if (held.file !== null) spilledDownloads++;
          let text: string;
          try {
            text = render(await held.table(), type as Format) + lineEnd(type as Format);
          } finally {
            if (held.file !== null) spilledDownloads--;
          }
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
      if ((!req.complete && hasBody(req)) || err.status === 413) res.setHeader('Connection', 'close');
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
    if (!isUserName(requested)) throw new HttpError(400, 'BAD_REQUEST', `user must be ${USER_NAME_RULE}`);
    return requested;
  }

  /** Answers a CORS preflight: only an allowed foreign origin (already checked) is told it may send. */
  function preflight(req: IncomingMessage, res: ServerResponse, url: URL, crossOrigin: string | null): void {
    const r = route(url.pathname);
    if (!r) {
      // Which routes exist is not told without a token, here as elsewhere.
      auth.authenticate(req);
      throw new HttpError(404, 'ROUTE_NOT_FOUND', `no such endpoint: ${url.pathname}; see docs/http.md`);
    }
    const headers: Record<string, string> = { Allow: [...r.methods, 'OPTIONS'].join(', '), 'Cache-Control': 'no-store', 'Content-Length': '0' };
    if (crossOrigin !== null) {
      const asked = String(req.headers['access-control-request-method'] ?? '').toUpperCase();
      if (asked !== '' && !r.methods.includes(asked)) {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${asked} is not allowed on ${url.pathname}; use ${r.methods.join(' or ')}`, {}, { Allow: r.methods.join(', ') });
      }
      Object.assign(headers, {
        'Access-Control-Allow-Methods': r.methods.join(', '),
        'Access-Control-Allow-Headers': 'Authorization, Content-Type',
        'Access-Control-Max-Age': '600',
      });
    }
    res.writeHead(204, headers);
    res.end();
  }

  function startJob(job: Job, text: string, query: Query): void {
    const task = runQuery(job.user, text, query, job.abort, (p) => {
      job.progress = p;
    })
      .then(async (table) => {
        const held = await results.keep(job.user, table, job.abort.signal);
        if (!jobs.finish(job, { result: held })) results.release(job.user, held);
      })
      .catch((e: unknown) => {
        // Deleted or stopped while its result was being written: cancelled, not an internal error.
        if (job.abort.signal.aborted && !(e instanceof HttpError) && !isMlmodelError(e)) e = new HttpError(499, 'CANCELLED', 'the job was cancelled');
        const err = toHttpError(e, secrets);
        if (err.code === 'INTERNAL' && !(e instanceof HttpError)) log(`internal error in job ${job.sid}: ${redactStack(e, secrets)}`);
        jobs.finish(job, { error: err });
      })
      .finally(() => finishing.delete(task));
    finishing.add(task);
  }

  const server = createServer(
    {
      // Slow or stalled clients cannot hold a connection for long: Node checks these limits every
      // connectionsCheckingInterval (30 s by default, which let a trickled header live 24 s and more).
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
      keepAliveTimeout: 5_000,
      // A request without Host is answered by the guard with a JSON 403, not by Node with a bare 400.
      requireHostHeader: false,
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        log(`internal error answering ${req.method} ${req.url}: ${redactStack(e, secrets)}`);
        res.destroy();
      });
    },
  );

  return {
    server,
    listen(port, host) {
      return listenOn(server, port, host);
    },
    async close() {
      clearInterval(sweeper);
      jobs.abortAll();
      for (const ac of controllers) ac.abort(new Error('server stopping'));
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.allSettled([...running, ...finishing]);
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
      await closed;
      results.close();
    },
  };
}

interface QueryRequest {
  readonly q: string;
  readonly size: number | null;
  readonly user?: string;
}

/** Reads at most `max` bytes of a JSON object body; `shape` names what it should hold, for the error. */
async function readJsonBody(req: IncomingMessage, max: number, shape: string): Promise<Record<string, unknown>> {
  const raw = await readBody(req, max);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `the body must be JSON: ${shape}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', `the body must be a JSON object: ${shape}`);
  const b = body as Record<string, unknown>;
  if (b.user !== undefined && typeof b.user !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"user" must be a string');
  return b;
}

/** `{"q": "<query>", "size"?: N, "user"?: NAME}`; other keys (IRIS's fetch_size, …) are ignored. */
async function readRequest(req: IncomingMessage, max: number): Promise<QueryRequest> {
  const b = await readJsonBody(req, max, '{"q": "<query>"}');
  if (typeof b.q !== 'string' || b.q.trim() === '') throw new HttpError(400, 'BAD_REQUEST', '"q" must be a non-empty string holding one query');
  let pageSize: number | null = null;
  if (b.size !== undefined && b.size !== null) {
    if (typeof b.size !== 'number' || !Number.isInteger(b.size) || b.size < 1) throw new HttpError(400, 'BAD_REQUEST', '"size" must be a whole number of rows, at least 1, or null for all');
    pageSize = b.size;
  }
  return { q: b.q, size: pageSize, ...(b.user !== undefined ? { user: b.user as string } : {}) };
}

interface ScriptRequest {
  readonly script: string;
  readonly implicitCommand: boolean;
  readonly user?: string;
}

/** `{"script": "<statements>", "implicitCommand"?: true, "user"?: NAME}`. */
async function readScriptRequest(req: IncomingMessage, max: number): Promise<ScriptRequest> {
  const b = await readJsonBody(req, max, '{"script": "<statements>"}');
  if (typeof b.script !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"script" must be a string holding statements');
  if (b.implicitCommand !== undefined && typeof b.implicitCommand !== 'boolean') throw new HttpError(400, 'BAD_REQUEST', '"implicitCommand" must be true or false');
  return { script: b.script, implicitCommand: b.implicitCommand === true, ...(b.user !== undefined ? { user: b.user as string } : {}) };
}

function intParam(url: URL, name: string, min: number): number | null {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return null;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw new HttpError(400, 'BAD_REQUEST', `${name} must be a whole number, at least ${min}`);
  return Number(v);
}

/** IRIS's result shape: the page `rows` of a result of `total` rows, from `offset`; `status.current` is the row after the page. */
function resultBody(columns: readonly Column[], total: number, offset: number, rows: readonly (readonly Cell[])[]) {
  const end = Math.min(offset, total) + rows.length;
  return {
    status: { current: end, total },
    isEnd: end >= total,
    // `typed` (a summary's values in their own types) goes along for clients that keep types, as in --format json.
    fields: columns.map((c) => ({ name: c.name, type: c.type, ...(c.typed ? { typed: c.typed } : {}) })),
    results: rows.map((r) => r.map((v) => machineCell(v))),
  };
}

async function jobBody(job: Job, offset: number, limit: number | null): Promise<[number, unknown]> {
  const head = { sid: job.sid, state: job.state };
  if (job.state === 'done') {
    const held = job.result!;
    return [200, { ...head, ...resultBody(held.columns, held.total, offset, await held.page(Math.min(offset, held.total), limit)) }];
  }
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

/** Whether a request announced a body (one still unread when an error is answered means the connection cannot be reused). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function redactStack(e: unknown, secrets: readonly Secret[]): string {
  return redact(e instanceof Error ? (e.stack ?? e.message) : String(e), secrets);
}
