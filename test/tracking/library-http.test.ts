/**
 * Logging from training code without the Python client: the library's
 * startRun (src/index.ts) and the HTTP endpoints under /runs, on a real
 * server over a socket with tokens, read-only users and the guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMlmodelError, startRun, trackedRun } from '../../src/index.js';
import { call, startHarness, type Harness } from '../http/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ httpConfig: '  readers: [bob]\n' });
});
afterAll(async () => {
  await h?.close();
});

describe('the library API', () => {
  it('starts a run, logs params, metrics by step and batches, reads a history and ends it', async () => {
    const run = await startRun(h.registry, { experiment: 'lib', name: 'first', params: { lr: 0.01, opt: 'adam' } }, { user: 'alice' });
    await run.logMetrics({ loss: 0.5, acc: 0.8 }, 0);
    await run.logBatch(Array.from({ length: 12_000 }, (_, i) => ({ key: 'loss', value: 1 / (i + 2), step: i + 1 })));
    await run.setTags({ stage: 'dev' });
    await run.logParams({ epochs: 3 });
    const history = await run.history('loss');
    expect(history.rows).toHaveLength(12_001);
    expect(history.rows[0]!.slice(0, 2)).toEqual([0, 0.5]);
    await run.end('FAILED');
    const t = await h.registry.run(`mlmodel runs lib | fields status, last_step, params, tags`, { user: 'alice' });
    expect(t.rows).toEqual([['FAILED', 12_000, { lr: 0.01, opt: 'adam', epochs: 3 }, { stage: 'dev' }]]);
    const again = await run.end().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMlmodelError(again, 'CONFLICT')).toBe(true);
    const bad = await trackedRun(h.registry, run.id, { user: 'bob' }).logMetrics({ loss: 1 }, 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMlmodelError(bad, 'NOT_FOUND')).toBe(true);
    const nan = await startRun(h.registry, {}, { user: 'alice' }).then((r) => r.logMetrics({ loss: Number.NaN }, 0)).then(
      () => null,
      (e: unknown) => e,
    );
    // Refused by the statement builder, named as given (JSON would carry it as null), nothing written.
    expect(isMlmodelError(nan, 'INVALID_ARGUMENT')).toBe(true);
    expect((nan as Error).message).toBe('metric loss: NaN is not a finite number');
  });
});

describe('the HTTP endpoints', () => {
  it('start, log, list, chart and end a run, as the token’s user', async () => {
    const started = await call(h, 'POST', '/runs', { token: 'alice', body: { experiment: 'web', name: 'w1', params: { lr: 0.1, deep: true } } });
    expect(started.status).toBe(200);
    const id = started.body.results[0][0] as number;
    expect(started.body.results[0][3]).toBe('alice');
    const logged = await call(h, 'POST', `/runs/${id}/metrics`, {
      token: 'alice',
      body: { metrics: Array.from({ length: 300 }, (_, step) => ({ key: 'loss', value: step === 150 ? 9 : 1 / (step + 1), step })) },
    });
    expect(logged.status).toBe(200);
    expect((await call(h, 'POST', `/runs/${id}/metrics`, { token: 'alice', body: { step: 300, values: { acc: 0.9 } } })).status).toBe(200);
    expect((await call(h, 'POST', `/runs/${id}/params`, { token: 'alice', body: { params: { epochs: 3 } } })).status).toBe(200);
    expect((await call(h, 'POST', `/runs/${id}/tags`, { token: 'alice', body: { tags: { team: 'web' } } })).status).toBe(200);
    const chart = await call(h, 'GET', `/runs/${id}/chart?metric=loss&points=50`, { token: 'bob' });
    expect(chart.status).toBe(200);
    expect(chart.body.chart).toMatchObject({ series: 'metric', x: 'step', y: 'value' });
    expect(chart.body.results.length).toBeLessThanOrEqual(52);
    expect(Math.max(...chart.body.results.map((r: unknown[]) => r[2] as number))).toBe(9);
    const history = await call(h, 'GET', `/runs/${id}/metrics/acc`, { token: 'bob' });
    expect(history.body.results.map((r: unknown[]) => r.slice(0, 2))).toEqual([[300, 0.9]]);
    const listed = await call(h, 'GET', '/runs?experiment=web', { token: 'bob' });
    expect(listed.body.results.map((r: unknown[]) => r[0])).toEqual([id]);
    expect((await call(h, 'POST', `/runs/${id}/end`, { token: 'alice', body: { status: 'FINISHED' } })).status).toBe(200);
    const twice = await call(h, 'POST', `/runs/${id}/end`, { token: 'alice', body: {} });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('CONFLICT');
  });

  it('refuses bad requests with the guard’s and the commands’ errors, and writes nothing', async () => {
    const id = (await call(h, 'POST', '/runs', { token: 'alice', body: { experiment: 'web2' } })).body.results[0][0] as number;
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', `/runs/${id}/metrics`, { metrics: [{ key: 'loss', value: 1, step: 0 }, { key: 'loss', value: '2', step: 1 }] }, 400, 'INVALID_ARGUMENT'],
      ['POST', `/runs/${id}/metrics`, { metrics: [{ key: 'loss', value: 1, step: 0.5 }] }, 400, 'INVALID_ARGUMENT'],
      ['POST', `/runs/${id}/metrics`, { metrics: [{ key: "x' | mlmodel delete y", value: 1, step: 0 }] }, 400, 'INVALID_ARGUMENT'],
      ['POST', `/runs/${id}/params`, { params: { 'a b': 1 } }, 400, 'INVALID_ARGUMENT'],
      ['POST', `/runs/${id}/params`, { params: [1] }, 400, 'BAD_REQUEST'],
      ['POST', `/runs/${id}/metrics`, { values: { a: 1 } }, 400, 'BAD_REQUEST'],
      ['POST', `/runs/${id}/end`, { status: 'DONE' }, 400, 'INVALID_ARGUMENT'],
      ['POST', `/runs/${id}/end`, { status: 'FINISHED status=x' }, 400, 'INVALID_ARGUMENT'],
      ['GET', `/runs/${id}/chart`, undefined, 400, 'BAD_REQUEST'],
      ['POST', '/runs/0/metrics', { step: 1, values: { a: 1 } }, 404, 'ROUTE_NOT_FOUND'],
      ['POST', '/runs/999999/metrics', { step: 1, values: { a: 1 } }, 404, 'NOT_FOUND'],
      ['GET', `/runs/${id}/params`, undefined, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(h, method, path, { token: 'alice', ...(body === undefined ? {} : { body }) });
      expect([r.status, r.body.error?.code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    // A name that looks like a second statement is a name.
    const odd = await call(h, 'POST', '/runs', { token: 'alice', body: { experiment: "x'; mlmodel delete m #" } });
    expect(odd.status).toBe(200);
    expect(odd.body.results[0][1]).toBe("x'; mlmodel delete m #");
    // bob reads only (http.readers): he may read runs and may not start one.
    expect((await call(h, 'POST', '/runs', { token: 'bob', body: {} })).status).toBe(403);
    expect((await call(h, 'GET', '/runs', { token: 'bob' })).status).toBe(200);
    // No token: no tracking either.
    expect((await call(h, 'POST', `/runs/${id}/end`, { token: null, body: {} })).status).toBe(401);
    const t = await h.registry.run(`mlmodel runs web2 | fields status, last_step, params, metrics`, { user: 'alice' });
    expect(t.rows).toEqual([['RUNNING', null, {}, {}]]);
  });
});
