import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { Authenticator, isLoopback, isLoopbackHost } from '../../console/serve/auth.js';
import { HttpError } from '../../console/serve/errors.js';
import type { Registry } from '../../src/engine/registry.js';
import { MlmodelError } from '../../src/errors.js';
import { archives } from '../integration/archives.js';
import { call, startHarness, waitJob, type Harness } from './harness.js';

/** The HTTP query API end to end: a real registry on embedded stores behind a real node:http server, spoken to with fetch. */
describe('HTTP query API with tokens', () => {
  let h: Harness;
  // A registry and server of each test's own: the models a test lists, reads
  // or changes are those it imported itself, whatever ran before it.
  beforeEach(async () => {
    h = await startHarness();
    writeFileSync(join(h.inbox, 'mnist.tar'), archives.tfSavedModel());
    writeFileSync(join(h.inbox, 'clf.tar.gz'), archives.sklearn());
  });
  afterEach(() => h.close());
  /** alice's models a test starts from: mnist (tf) from mnist.tar, any other name (sklearn) from clf.tar.gz. */
  const aliceHas = async (...names: string[]) => {
    for (const n of names) {
      const q = n === 'mnist' ? `mlmodel import name=mnist type=tf path=${join(h.inbox, 'mnist.tar')}` : `mlmodel import name=${n} type=sklearn path=${join(h.inbox, 'clf.tar.gz')}`;
      expect((await call(h, 'POST', '/query', { token: 'alice', body: { q } })).status, n).toBe(200);
    }
  };

  it('runs a synchronous query as the token’s user and answers with typed fields and rows', async () => {
    const imported = await call(h, 'POST', '/query', {
      token: 'alice',
      body: { q: `mlmodel import name=mnist type=tf category=classification path=${join(h.inbox, 'mnist.tar')}` },
    });
    expect(imported.status).toBe(200);
    expect(imported.body.fields).toEqual([
      { name: 'result', type: 'TEXT' },
      { name: 'name', type: 'TEXT' },
      { name: 'version', type: 'LONG' },
      { name: 'size', type: 'LONG' },
      { name: 'sha256', type: 'TEXT' },
    ]);
    expect(imported.body.results[0].slice(0, 3)).toEqual(['ok', 'mnist', 1]);
    expect(imported.body).toMatchObject({ isEnd: true, status: { current: 1, total: 1 } });

    const list = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel list | fields id, user, name, create' } });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(list.body.fields).toEqual([
      { name: 'id', type: 'LONG' },
      { name: 'user', type: 'TEXT' },
      { name: 'name', type: 'TEXT' },
      { name: 'create', type: 'DATETIME' },
    ]);
    const [row] = list.body.results;
    expect(row.slice(0, 3)).toEqual([1, 'alice', 'mnist']);
    // Times as the JSON renderer writes them: ISO 8601 with the offset.
    expect(row[3]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(Math.abs(Date.parse(row[3]) - Date.now())).toBeLessThan(60_000);
  });

  it('runs a job: POST gives a sid, GET pages through the result until isEnd', async () => {
    await aliceHas('mnist');
    for (const n of ['a1', 'a2', 'a3']) {
      const r = await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel import name=${n} type=sklearn path=${join(h.inbox, 'clf.tar.gz')}` } });
      expect(r.status).toBe(200);
    }
    const submitted = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: "mlmodel list | where user = 'alice' | sort name | fields name", size: 3 } });
    expect(submitted.status).toBe(200);
    expect(submitted.body.sid).toMatch(/^[0-9a-f]{32}$/);
    expect(submitted.headers.get('location')).toBe(`/query/jobs/${submitted.body.sid}`);

    const first = await waitJob(h, submitted.body.sid, 'alice');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      sid: submitted.body.sid,
      state: 'done',
      status: { current: 3, total: 4 },
      isEnd: false,
      fields: [{ name: 'name', type: 'TEXT' }],
      results: [['a1'], ['a2'], ['a3']],
    });
    const second = await call(h, 'GET', `/query/jobs/${submitted.body.sid}?offset=3`, { token: 'alice' });
    expect(second.body).toMatchObject({ status: { current: 4, total: 4 }, isEnd: true, results: [['mnist']] });
    const all = await call(h, 'GET', `/angora/query/jobs/${submitted.body.sid}?offset=0&limit=100`, { token: 'alice' });
    expect(all.body.results).toEqual([['a1'], ['a2'], ['a3'], ['mnist']]);

    const csv = await call(h, 'GET', `/query/jobs/${submitted.body.sid}/download?type=csv&file_name=my models`, { token: 'alice' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="my_models.csv"');
    expect(csv.body).toBe('name\r\na1\r\na2\r\na3\r\nmnist\r\n');
    // A file name that already ends in the type's extension keeps it once.
    for (const [asked, named] of <[string, string][]>[
      ['report.csv', 'report.csv'],
      ['REPORT.CSV', 'REPORT.csv'],
      ['report.tsv', 'report.tsv.csv'],
      ['.csv', 'result.csv'],
    ]) {
      const r = await call(h, 'GET', `/query/jobs/${submitted.body.sid}/download?type=csv&file_name=${encodeURIComponent(asked)}`, { token: 'alice' });
      expect(r.headers.get('content-disposition'), asked).toBe(`attachment; filename="${named}"`);
    }
    const md = await call(h, 'GET', `/query/jobs/${submitted.body.sid}/download?type=markdown&file_name=notes.md`, { token: 'alice' });
    expect(md.headers.get('content-disposition')).toBe('attachment; filename="notes.md"');

    // Another user cannot see the job; its owner can delete it, after which it is gone.
    expect((await call(h, 'GET', `/query/jobs/${submitted.body.sid}`, { token: 'bob' })).status).toBe(404);
    const del = await call(h, 'DELETE', `/query/jobs/${submitted.body.sid}`, { token: 'alice' });
    expect(del.body).toEqual({ sid: submitted.body.sid, cancelled: false });
    const gone = await call(h, 'GET', `/query/jobs/${submitted.body.sid}`, { token: 'alice' });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('JOB_NOT_FOUND');
  });

  it('reports a failed job with the error’s status and code', async () => {
    const s = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: 'mlmodel summary no_such_model' } });
    expect(s.status).toBe(200);
    const r = await waitJob(h, s.body.sid, 'alice');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ state: 'failed', isEnd: true, type: 'RuntimeError', error: { code: 'MODEL_NOT_FOUND', message: 'no model called no_such_model' } });
  });

  it('needs a token on every request once tokens are configured (401), with a Bearer challenge', async () => {
    const none = await call(h, 'POST', '/query', { body: { q: 'mlmodel list' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="mlmodel"');
    expect(none.body).toMatchObject({ type: 'AuthError', error: { code: 'UNAUTHORIZED' } });
    const wrong = await call(h, 'POST', '/query', { body: { q: 'mlmodel list' }, headers: { Authorization: 'Bearer alice-token-0123456789abcdeX' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toBe('the bearer token is not valid');
    const basic = await call(h, 'GET', '/query/jobs/abc', { headers: { Authorization: 'Basic YWxpY2U6eA==' } });
    expect(basic.status).toBe(401);
    // Unknown routes are not revealed without a token either.
    expect((await call(h, 'GET', '/admin')).status).toBe(401);
  });

  it('answers 403 when a user writes to another user’s model, and still lets them read it', async () => {
    await aliceHas('mnist', 'a3');
    for (const q of ['mlmodel delete mnist', 'mlmodel rename mnist mine_now', "mlmodel deploy mnist label='x'", 'mlmodel stop mnist']) {
      const r = await call(h, 'POST', '/query', { token: 'bob', body: { q } });
      expect(r.status, q).toBe(403);
      expect(r.body.error, q).toMatchObject({ code: 'FORBIDDEN', details: { name: 'mnist', owners: ['alice'] } });
    }
    const read = await call(h, 'POST', '/query', { token: 'bob', body: { q: 'mlmodel summary mnist type' } });
    expect(read.status).toBe(200);
    expect(read.body.results).toEqual([['type', 'tf']]);
    // A model nobody has is a plain 404.
    const missing = await call(h, 'POST', '/query', { token: 'bob', body: { q: 'mlmodel delete nobody_has_this' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('MODEL_NOT_FOUND');
    // The owner can.
    const own = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel rename a3 a3_renamed' } });
    expect(own.status).toBe(200);
  });

  it('lets only admins act as another user', async () => {
    await aliceHas('a2', 'a3_renamed');
    const asAlice = await call(h, 'POST', '/query', { token: 'ops', body: { q: 'mlmodel delete a3_renamed', user: 'alice' } });
    expect(asAlice.status).toBe(200);
    const notAdmin = await call(h, 'POST', '/query', { token: 'bob', body: { q: 'mlmodel delete a2', user: 'alice' } });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.message).toBe('bob may not act as another user (only admins may)');
  });

  it('confines local paths to http.local_roots', async () => {
    const r = await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel import name=outside type=tf path=${join(h.root, 'config.yaml')}` } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_ARGUMENT');
    expect(r.body.error.message).toContain(`local paths must be inside ${h.inbox}`);
  });

  it('answers a parse error with 400 and its position, in sync and job requests alike', async () => {
    for (const path of ['/query', '/query/jobs']) {
      const r = await call(h, 'POST', path, { token: 'alice', body: { q: 'mlmodel list | sort' } });
      expect(r.status, path).toBe(400);
      expect(r.body.type).toBe('ParseError');
      expect(r.body.error).toMatchObject({ code: 'PARSE_ERROR', line: 1, column: 20, offset: 19, length: 0 });
      expect(r.body.error.issues).toHaveLength(1);
    }
    const multi = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel list\n  | head x' } });
    expect(multi.body.error).toMatchObject({ line: 2, column: 10, text: 'x' });
    const typo = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel lst' } });
    expect(typo.body.error).toMatchObject({ column: 9, text: 'lst', suggestion: 'list' });
  });

  it('refuses malformed requests with JSON errors: bad JSON, no q, bad size, bad paging', async () => {
    const cases: [unknown, string][] = [
      ['{"q": ', 'the body must be JSON: {"q": "<query>"}'],
      ['[1]', 'the body must be a JSON object: {"q": "<query>"}'],
      ['{"query": "mlmodel list"}', '"q" must be a non-empty string holding one query'],
      ['{"q": "   "}', '"q" must be a non-empty string holding one query'],
      ['{"q": "mlmodel list", "size": 0}', '"size" must be a whole number of rows, at least 1, or null for all'],
    ];
    for (const [raw, message] of cases) {
      const r = await call(h, 'POST', '/query', { token: 'alice', raw: raw as string });
      expect(r.status, String(raw)).toBe(400);
      expect(r.body.error).toEqual({ code: 'BAD_REQUEST', message });
    }
    const s = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: 'mlmodel list' } });
    const bad = await call(h, 'GET', `/query/jobs/${s.body.sid}?offset=-1`, { token: 'alice' });
    expect(bad.status).toBe(400);
    const dl = await call(h, 'GET', `/query/jobs/${s.body.sid}/download?type=table`, { token: 'alice' });
    expect(dl.status).toBe(400);
  });

  it('refuses a body over 64 KiB with 413 and closes the connection', async () => {
    const q = `mlmodel list | where name = '${'x'.repeat(70 * 1024)}'`;
    const r = await call(h, 'POST', '/query', { token: 'alice', body: { q } });
    expect(r.status).toBe(413);
    expect(r.headers.get('connection')).toBe('close');
    expect(r.body.error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than 65536 bytes', limit: 65536 });
    // Just under the limit is read and parsed (and here refused by the grammar's own length limit or run).
    const ok = await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel list | where name = '${'x'.repeat(1000)}'` } });
    expect(ok.status).toBe(200);
    expect(ok.body.results).toEqual([]);
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    const r404 = await call(h, 'GET', '/nothing/here', { token: 'alice' });
    expect(r404.status).toBe(404);
    expect(r404.body.error.code).toBe('ROUTE_NOT_FOUND');
    const r405 = await call(h, 'GET', '/query', { token: 'alice' });
    expect(r405.status).toBe(405);
    expect(r405.headers.get('allow')).toBe('POST');
    const put = await call(h, 'PUT', '/query/jobs/abc', { token: 'alice' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, DELETE');
  });

  it('serves 20 concurrent clients, each importing and reading back through jobs and sync queries', async () => {
    const clients = Array.from({ length: 20 }, async (_, i) => {
      const token = i % 2 === 0 ? ('alice' as const) : ('bob' as const);
      const name = `c${i}`;
      const imp = await call(h, 'POST', '/query/jobs', { token, body: { q: `mlmodel import name=shared_${token} type=sklearn path=${join(h.inbox, 'clf.tar.gz')}` } });
      expect(imp.status).toBe(200);
      const done = await waitJob(h, imp.body.sid, token, 20_000);
      expect(done.status).toBe(200);
      const own = await call(h, 'POST', '/query', { token, body: { q: `mlmodel import name=${name} type=sklearn path=${join(h.inbox, 'clf.tar.gz')}` } });
      expect(own.status).toBe(200);
      const back = await call(h, 'POST', '/query', { token, body: { q: `mlmodel list | where name = '${name}' | fields user, name` } });
      expect(back.body.results).toEqual([[token, name]]);
      return done.body.results[0][2] as number;
    });
    const versions = await Promise.all(clients);
    // Ten imports per user into one model each: versions 1..10, none repeated, none skipped.
    const alice = versions.filter((_, i) => i % 2 === 0).sort((a, b) => a - b);
    const bob = versions.filter((_, i) => i % 2 === 1).sort((a, b) => a - b);
    expect(alice).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(bob).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

/** A registry whose `summary sleepy` waits until its signal fires: a query that only a limit or a cancel ends. */
function withSleeper(real: Registry, seen: { aborted: number }): Registry {
  return {
    ...real,
    execute(query, opts = {}) {
      if (query.command.kind === 'summary' && query.command.model?.name === 'sleepy') {
        opts.onProgress?.({ phase: 'import', done: 5, total: 10 });
        return new Promise((_, reject) => {
          const fire = () => {
            seen.aborted++;
            reject(new MlmodelError('CANCELLED', 'the query was cancelled'));
          };
          if (opts.signal?.aborted) fire();
          opts.signal?.addEventListener('abort', fire, { once: true });
        });
      }
      return real.execute(query, opts);
    },
  };
}

describe('HTTP query API limits', () => {
  const seen = { aborted: 0 };
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ wrap: (r) => withSleeper(r, seen), server: { queryTimeoutMs: 300, maxRunning: 2, maxJobsPerUser: 3, jobTtlMs: 400 } });
  });
  afterAll(() => h.close());

  it('cancels a query that runs past the time limit and answers 504', async () => {
    const t0 = Date.now();
    const before = seen.aborted;
    const r = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel summary sleepy' } });
    expect(r.status).toBe(504);
    expect(r.body.error).toEqual({ code: 'QUERY_TIMEOUT', message: "the query ran longer than the server's limit of 0.3 s and was cancelled" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(seen.aborted).toBe(before + 1);
  });

  it('cancels a synchronous query when its client goes away', async () => {
    const before = seen.aborted;
    const ac = new AbortController();
    const pending = call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel summary sleepy' }, signal: ac.signal }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 80));
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.aborted).toBe(before + 1);
  });

  it('cancels a running job on DELETE, after reporting its progress', async () => {
    const before = seen.aborted;
    const s = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: 'mlmodel summary sleepy' } });
    const running = await call(h, 'GET', `/query/jobs/${s.body.sid}`, { token: 'alice' });
    expect(running.body).toEqual({ sid: s.body.sid, state: 'running', isEnd: false, status: { current: 5, total: 10, phase: 'import' }, fields: [], results: [] });
    const del = await call(h, 'DELETE', `/query/jobs/${s.body.sid}`, { token: 'alice' });
    expect(del.body.cancelled).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.aborted).toBe(before + 1);
  });

  it('refuses queries past the running limit with 429 and Retry-After', async () => {
    const a = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: 'mlmodel summary sleepy' } });
    const b = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: 'mlmodel summary sleepy' } });
    expect([a.status, b.status]).toEqual([200, 200]);
    const c = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel list' } });
    expect(c.status).toBe(429);
    expect(c.headers.get('retry-after')).toBe('1');
    expect(c.body.error.code).toBe('TOO_MANY_QUERIES');
    // Both time out (504 inside the job) and free their slots.
    expect((await waitJob(h, a.body.sid, 'alice')).status).toBe(504);
    expect((await waitJob(h, b.body.sid, 'alice')).status).toBe(504);
    expect((await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel list' } })).status).toBe(200);
  });

  it('answers a malformed sid with 404', async () => {
    const r = await call(h, 'GET', '/query/jobs/%zz', { token: 'alice' });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('keeps at most maxJobsPerUser jobs, dropping the user’s oldest finished, and expires finished jobs', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await call(h, 'POST', '/query/jobs', { token: 'bob', body: { q: 'mlmodel list' } });
      expect(s.status).toBe(200);
      await waitJob(h, s.body.sid, 'bob');
      sids.push(s.body.sid);
    }
    expect((await call(h, 'GET', `/query/jobs/${sids[0]}`, { token: 'bob' })).status).toBe(404);
    expect((await call(h, 'GET', `/query/jobs/${sids[3]}`, { token: 'bob' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 450));
    const expired = await call(h, 'GET', `/query/jobs/${sids[3]}`, { token: 'bob' });
    expect(expired.status).toBe(404);
    expect(expired.body.error.code).toBe('JOB_NOT_FOUND');
  });
});

describe('HTTP query API without tokens', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ tokens: false });
  });
  afterAll(() => h.close());

  it('serves loopback callers as the configured user, ignoring any Authorization header', async () => {
    writeFileSync(join(h.inbox, 'm.tar'), archives.tfSavedModel());
    const r = await call(h, 'POST', '/query', { body: { q: `mlmodel import name=m type=tf path=${join(h.inbox, 'm.tar')}` } });
    expect(r.status).toBe(200);
    const list = await call(h, 'POST', '/query', { body: { q: 'mlmodel list | fields user, name' }, headers: { Authorization: 'Bearer whatever' } });
    expect(list.body.results).toEqual([['root', 'm']]);
  });

  it('refuses a caller from beyond loopback with 403 when no tokens are configured', () => {
    const auth = new Authenticator({ tokens: new Map(), admins: [], readers: [], localRoots: [], queryTimeout: null, allowedHosts: [], allowedOrigins: [] }, 'root');
    const from = (remoteAddress: string) => ({ socket: { remoteAddress }, headers: {} }) as unknown as IncomingMessage;
    expect(auth.authenticate(from('127.0.0.1'))).toBe('root');
    expect(auth.authenticate(from('::ffff:127.0.0.1'))).toBe('root');
    let refused: unknown;
    try {
      auth.authenticate(from('10.1.2.3'));
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  it('knows loopback addresses from others', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['10.0.0.1', '::', '0.0.0.0', '::ffff:192.168.1.1', '128.0.0.1', 'fe80::1', '']) expect(isLoopback(a), a).toBe(false);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('example.com')).toBe(false);
  });
});

describe('closing the server', () => {
  it('cancels running synchronous queries and jobs and returns promptly', async () => {
    const seen = { aborted: 0 };
    const h = await startHarness({ wrap: (r) => withSleeper(r, seen), server: { queryTimeoutMs: 60_000 } });
    const sync = call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel summary sleepy' } }).catch((e: Error) => e);
    const job = await call(h, 'POST', '/query/jobs', { token: 'alice', body: { q: 'mlmodel summary sleepy' } });
    expect(job.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await h.close();
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(seen.aborted).toBe(2);
    await sync;
  });
});
