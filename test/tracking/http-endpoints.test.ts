/**
 * The tracking endpoints as a JSON API — on a real server over a socket,
 * with tokens for alice, bob and the admin ops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRACKING_ENDPOINTS, trackingRoute } from '../../console/serve/tracking-routes.js';
import { isMlmodelError } from '../../src/index.js';
import { call, startHarness, type Harness } from '../http/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const start = async (token: 'alice' | 'bob' | 'ops', body: Record<string, unknown> = {}): Promise<number> => {
  const r = await call(h, 'POST', '/runs', { token, body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.results[0][0] as number;
};

/** A request of the endpoint's method to its path, with a run id and metric name put in. */
const pathOf = (path: string, id: number) => path.replace('{id}', String(id)).replace('{key}', 'loss');

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
