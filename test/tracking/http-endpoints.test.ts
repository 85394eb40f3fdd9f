/**
 * The tracking endpoints as a JSON API: acting as another user, another
 * user's run, the errors a caller who never sees the statement can act on,
 * GET /runs/{id} and stale=, and the route table help is made from — on a
 * real server over a socket, with tokens for alice, bob and the admin ops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRACKING_ENDPOINTS, trackingRoute } from '../../console/serve/tracking-routes.js';
import { chartCommand } from '../../src/commands/chart.js';
import { runCommand } from '../../src/commands/run.js';
import { RUNS_COLUMNS } from '../../src/commands/runs.js';
import { isMlmodelError } from '../../src/index.js';
import { call, startHarness, type Harness, type Reply } from '../http/harness.js';

let h: Harness;
const logLines: string[] = [];
beforeAll(async () => {
  h = await startHarness({ server: { log: (line) => logLines.push(line) } });
});
afterAll(async () => {
  await h?.close();
});

const start = async (token: 'alice' | 'bob' | 'ops', body: Record<string, unknown> = {}): Promise<number> => {
  const r = await call(h, 'POST', '/runs', { token, body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.results[0][0] as number;
};

const ownerOf = async (id: number) => (await h.registry.run(`mlmodel runs | where id = ${id} | fields user`, { user: 'root' })).rows[0]?.[0];

/** A request of the endpoint's method to its path, with a run id and metric name put in. */
const pathOf = (path: string, id: number) => path.replace('{id}', String(id)).replace('{key}', 'loss');

describe('acting as another user', () => {
  it('an admin acts as the user named in a POST body: the run is that user’s', async () => {
    const id = await start('ops', { experiment: 'acting', user: 'alice' });
    expect(await ownerOf(id)).toBe('alice');
    // alice may now log to it and end it as her own.
    expect((await call(h, 'POST', `/runs/${id}/metrics`, { token: 'alice', body: { step: 0, values: { loss: 1 } } })).status).toBe(200);
    // The admin acting as carol is carol, who may not write to alice's run: the identity was switched, not just recorded.
    const asCarol = await call(h, 'POST', `/runs/${id}/end`, { token: 'ops', body: { user: 'carol' } });
    expect([asCarol.status, asCarol.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect((await call(h, 'POST', `/runs/${id}/end`, { token: 'ops', body: { user: 'alice' } })).status).toBe(200);
  });

  it('an admin acts as the user named by user= on a GET', async () => {
    const id = await start('alice', { experiment: 'acting-get' });
    logLines.length = 0;
    const r = await call(h, 'GET', `/runs/${id}?user=bob`, { token: 'ops' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(logLines.join('\n')).toMatch(new RegExp(`GET /runs/${id} 200 \\d+ms user=bob`));
  });

  it('every tracking endpoint refuses a non-admin naming another user, as POST /query does, and a bad name from an admin', async () => {
    const id = await start('alice', { experiment: 'acting-refused' });
    const query = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel runs', user: 'bob' } });
    expect(query.status).toBe(403);
    for (const e of TRACKING_ENDPOINTS) {
      const path = pathOf(e.path, id);
      const as = (token: 'alice' | 'ops', user: string): Promise<Reply> =>
        e.method === 'POST' ? call(h, 'POST', path, { token, body: { user } }) : call(h, 'GET', `${path}?user=${encodeURIComponent(user)}`, { token });
      const refused = await as('alice', 'bob');
      expect([refused.status, refused.body.error?.code, refused.body.message], `${e.method} ${e.path}`).toEqual([403, 'FORBIDDEN', query.body.message]);
      const badName = await as('ops', 'not a name!');
      expect([badName.status, badName.body.error?.code], `${e.method} ${e.path}`).toEqual([400, 'BAD_REQUEST']);
      expect(badName.body.message).toMatch(/^user must be /);
    }
    const twice = await call(h, 'GET', '/runs?user=alice&user=bob', { token: 'ops' });
    expect([twice.status, twice.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    // Naming oneself is not acting as another.
    expect((await call(h, 'POST', `/runs/${id}/tags`, { token: 'alice', body: { user: 'alice', tags: { a: 'b' } } })).status).toBe(200);
    // Nothing the refused requests said was written.
    const t = await h.registry.run(`mlmodel runs | where id = ${id} | fields status, metrics, params, tags`, { user: 'root' });
    expect(t.rows).toEqual([['RUNNING', {}, {}, { a: 'b' }]]);
  });
});

describe('another user’s run', () => {
  it('is 403 FORBIDDEN over HTTP, naming the owner, for every write; the console keeps its NOT_FOUND', async () => {
    const id = await start('alice', { experiment: 'others' });
    const writes: Array<[string, unknown]> = [
      [`/runs/${id}/metrics`, { step: 0, values: { loss: 1 } }],
      [`/runs/${id}/metrics`, { metrics: [{ key: 'loss', value: 1, step: 0 }] }],
      [`/runs/${id}/params`, { params: { lr: 0.1 } }],
      [`/runs/${id}/tags`, { tags: { team: 'b' } }],
      [`/runs/${id}/end`, { status: 'KILLED' }],
    ];
    for (const [path, body] of writes) {
      const r = await call(h, 'POST', path, { token: 'bob', body });
      expect([r.status, r.body.error?.code], `${path} ${JSON.stringify(body)}`).toEqual([403, 'FORBIDDEN']);
      expect(r.body.message).toBe(`run ${id} belongs to alice; only alice or an admin may log to it or end it`);
      expect(r.body.error.details).toEqual({ run: id, owner: 'alice' });
    }
    // POST /query says the same of the same statement.
    const q = await call(h, 'POST', '/query', { token: 'bob', body: { q: `mlmodel log metrics ${id} step=1 loss=2` } });
    expect([q.status, q.body.error.code]).toEqual([403, 'FORBIDDEN']);
    // A run nobody has is still a 404.
    const none = await call(h, 'POST', '/runs/999999/metrics', { token: 'bob', body: { step: 0, values: { loss: 1 } } });
    expect([none.status, none.body.error.code]).toEqual([404, 'NOT_FOUND']);
    // The console's words are unchanged.
    const cli = await h.registry.run(`mlmodel log metrics ${id} step=0 loss=1`, { user: 'bob' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMlmodelError(cli, 'NOT_FOUND')).toBe(true);
    expect((cli as Error).message).toMatch(new RegExp(`^no run ${id} of yours: run ${id} is alice's`));
    // An admin may still write to it.
    expect((await call(h, 'POST', `/runs/${id}/tags`, { token: 'ops', body: { tags: { seen: 'ops' } } })).status).toBe(200);
    const t = await h.registry.run(`mlmodel runs | where id = ${id} | fields status, metrics, params, tags`, { user: 'root' });
    expect(t.rows).toEqual([['RUNNING', {}, {}, { seen: 'ops' }]]);
  });
});

describe('errors a JSON caller can act on', () => {
  it('refuses numbers JSON cannot hold, naming the value as sent, not as null', async () => {
    const id = await start('alice', { experiment: 'finite' });
    // Raw bodies: JSON.stringify would turn Infinity into null before it left.
    const cases: Array<[string, string, string]> = [
      [`/runs/${id}/metrics`, '{"step": 3, "values": {"loss": 1e999}}', 'metric loss: Infinity is not a finite number'],
      [`/runs/${id}/metrics`, '{"metrics": [{"key": "loss", "value": -1e999, "step": 0}]}', 'metric loss: -Infinity is not a finite number'],
      [`/runs/${id}/metrics`, '{"metrics": [{"key": "loss", "value": 1, "step": 1e999}]}', 'metric loss, step: Infinity is not a finite number'],
      [`/runs/${id}/metrics`, '{"step": 1e999, "values": {"loss": 1}}', '"step": Infinity is not a finite number'],
      [`/runs/${id}/params`, '{"params": {"lr": 1e999}}', 'param lr: Infinity is not a finite number'],
      ['/runs', '{"experiment": "finite", "params": {"lr": -1e999}}', 'param lr: -Infinity is not a finite number'],
    ];
    for (const [path, raw, message] of cases) {
      const r = await call(h, 'POST', path, { token: 'alice', raw });
      expect([r.status, r.body.error?.code, r.body.message], raw).toEqual([400, 'INVALID_ARGUMENT', message]);
    }
    const t = await h.registry.run(`mlmodel runs finite | fields id, metrics, params`, { user: 'root' });
    expect(t.rows).toEqual([[id, {}, {}]]);
  });

  it('says what an empty request lacks in the API’s terms, not the console’s', async () => {
    const id = await start('alice', { experiment: 'empty' });
    const cases: Array<[string, unknown, RegExp]> = [
      [`/runs/${id}/metrics`, { metrics: [] }, /^"metrics" is empty: give at least one \{"key", "value", "step"\}$/],
      [`/runs/${id}/metrics`, { step: 3, values: {} }, /^"values" is empty/],
      [`/runs/${id}/params`, { params: {} }, /^"params" is empty/],
      [`/runs/${id}/tags`, { tags: {} }, /^"tags" is empty/],
    ];
    for (const [path, body, message] of cases) {
      const r = await call(h, 'POST', path, { token: 'alice', body });
      expect([r.status, r.body.error?.code], JSON.stringify(body)).toEqual([400, 'INVALID_ARGUMENT']);
      expect(r.body.message).toMatch(message);
      expect(r.body.message).not.toMatch(/mlmodel|=/);
    }
  });

  it('checks status and points as the commands read them, before any statement: a field named, no parse position', async () => {
    const id = await start('alice', { experiment: 'options' });
    const done = await call(h, 'POST', `/runs/${id}/end`, { token: 'alice', body: { status: 'DONE' } });
    expect([done.status, done.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(done.body.message).toBe(`"status" must be one of ${runCommand.syntax.options.status.values.join(', ')}, not "DONE"`);
    expect(done.body.error.line).toBeUndefined();
    const { min, max } = chartCommand.syntax.options.points;
    // A metric to chart (one the run never logged is 404 NOT_FOUND).
    expect((await call(h, 'POST', `/runs/${id}/metrics`, { token: 'alice', body: { step: 0, values: { loss: 1 } } })).status).toBe(200);
    for (const points of [String(min - 1), String(max + 1), 'abc', '1.5']) {
      const r = await call(h, 'GET', `/runs/${id}/chart?metric=loss&points=${points}`, { token: 'alice' });
      expect([r.status, r.body.error?.code], `points=${points}`).toEqual([400, 'INVALID_ARGUMENT']);
      expect(r.body.message, `points=${points}`).toMatch(new RegExp(`^points=${points.replace('.', '\\.')} is `));
      expect(r.body.error.line).toBeUndefined();
    }
    for (const points of [min, max]) {
      expect((await call(h, 'GET', `/runs/${id}/chart?metric=loss&points=${points}`, { token: 'alice' })).status, `points=${points}`).toBe(200);
    }
    // The language's case rule: any case of a status is that status.
    const ended = await call(h, 'POST', `/runs/${id}/end`, { token: 'alice', body: { status: 'failed' } });
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body.results[0][4]).toBe('FAILED');
  });

  it('answers an invalid metric name in the path with 400 and why, not as an unknown route', async () => {
    const id = await start('alice', { experiment: 'names' });
    const r = await call(h, 'GET', `/runs/${id}/metrics/bad.key`, { token: 'alice' });
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(r.body.message).toMatch(/^metric name "bad\.key" is not allowed: /);
    // Paths of no route's shape are still unknown.
    expect((await call(h, 'GET', `/runs/${id}/metrics/loss/more`, { token: 'alice' })).body.error.code).toBe('ROUTE_NOT_FOUND');
    expect((await call(h, 'GET', `/runs/${id}/params/loss`, { token: 'alice' })).body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('the body limit', () => {
  it('answers a batch over it with 413 and writes none of it: the endpoint does not split', async () => {
    const id = await start('alice', { experiment: 'large' });
    const metrics = Array.from({ length: 2000 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step }));
    const raw = JSON.stringify({ metrics });
    expect(raw.length).toBeGreaterThan(64 * 1024);
    const r = await call(h, 'POST', `/runs/${id}/metrics`, { token: 'alice', raw });
    expect([r.status, r.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const t = await h.registry.run(`mlmodel runs | where id = ${id} | fields last_step`, { user: 'root' });
    expect(t.rows).toEqual([[null]]);
  });
});

describe('GET /runs/{id} and stale=', () => {
  it('answers one run with the listing’s columns, and 404 for a run nobody has', async () => {
    const id = await start('alice', { experiment: 'one', name: 'single', params: { lr: 0.5 } });
    await start('alice', { experiment: 'one' });
    const r = await call(h, 'GET', `/runs/${id}`, { token: 'bob' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.fields.map((f: { name: string }) => f.name)).toEqual(RUNS_COLUMNS.map((c) => c.name));
    expect(r.body.results).toHaveLength(1);
    const listed = await call(h, 'GET', '/runs?experiment=one', { token: 'bob' });
    expect(listed.body.fields).toEqual(r.body.fields);
    const row = listed.body.results.find((x: unknown[]) => x[0] === id);
    // idle is measured at each request; the rest is the same row.
    const idle = RUNS_COLUMNS.findIndex((c) => c.name === 'idle');
    expect(r.body.results[0].filter((_: unknown, i: number) => i !== idle)).toEqual(row.filter((_: unknown, i: number) => i !== idle));
    expect(r.body.results[0].slice(0, 5)).toEqual([id, 'one', 'single', 'alice', 'RUNNING']);
    const none = await call(h, 'GET', '/runs/999999', { token: 'bob' });
    expect([none.status, none.body.error.code, none.body.message]).toEqual([404, 'NOT_FOUND', 'no run 999999']);
    expect((await call(h, 'POST', `/runs/${id}`, { token: 'alice', body: {} })).status).toBe(405);
  });

  it('takes stale= on the listing and on one run, read as the runs command reads it', async () => {
    const id = await start('alice', { experiment: 'stale' });
    await new Promise((r) => setTimeout(r, 20));
    const stale = RUNS_COLUMNS.findIndex((c) => c.name === 'stale');
    const listing = async (q: string) => (await call(h, 'GET', `/runs?experiment=stale&${q}`, { token: 'bob' })).body.results.map((x: unknown[]) => x[stale]);
    expect(await listing('stale=0')).toEqual([true]);
    expect(await listing('stale=1h')).toEqual([false]);
    expect((await call(h, 'GET', `/runs/${id}?stale=0`, { token: 'bob' })).body.results[0][stale]).toBe(true);
    expect((await call(h, 'GET', `/runs/${id}?stale=1d`, { token: 'bob' })).body.results[0][stale]).toBe(false);
    for (const path of ['/runs?stale=soon', `/runs/${id}?stale=-1`]) {
      const r = await call(h, 'GET', path, { token: 'bob' });
      expect([r.status, r.body.error.code], path).toEqual([400, 'INVALID_ARGUMENT']);
      expect(r.body.message, path).toMatch(/^stale=\S+ is not a duration/);
    }
    const twice = await call(h, 'GET', '/runs?stale=1m&stale=2m', { token: 'bob' });
    expect([twice.status, twice.body.error.code]).toEqual([400, 'BAD_REQUEST']);
  });
});

describe('the route table', () => {
  it('routes every endpoint it lists, by its method', () => {
    for (const e of TRACKING_ENDPOINTS) {
      const route = trackingRoute(pathOf(e.path, 7));
      expect(route?.methods, `${e.method} ${e.path}`).toContain(e.method);
    }
    // A path's methods are exactly the endpoints listed for it.
    expect(trackingRoute('/runs')?.methods).toEqual(TRACKING_ENDPOINTS.filter((e) => e.path === '/runs').map((e) => e.method));
    expect(trackingRoute('/runs/0')).toBeNull();
    expect(trackingRoute('/runs/7/nothing')).toBeNull();
  });
});
