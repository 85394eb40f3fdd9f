/**
 * The tracking store's conformance suite, run unchanged on SQLite and on a
 * MongoDB-wire server (FerretDB). Expectations are written out by hand, and a
 * property test holds every run query to a plain in-memory evaluation.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isMlmodelError, MlmodelError, type ErrorCode } from '../../src/errors.js';
import { F, type FilterDoc, type SortSpec } from '../../src/store/filter.js';
import type { MetricPoint, RunHead, RunRecord, TrackingStore } from '../../src/tracking/store.js';

export interface TrackingHarness {
  /** A store over a fresh, empty database; init() already called. */
  open(): Promise<TrackingStore>;
  /** A second, independent store on the database `store` uses. */
  reopen(store: TrackingStore): Promise<TrackingStore>;
}

const T0 = Date.UTC(2025, 5, 1);

export function runRecord(over: Partial<RunRecord> & { id: number }): RunRecord {
  return {
    uid: randomUUID(),
    experiment: 'mnist',
    name: `run${over.id}`,
    user: 'alice',
    status: 'RUNNING',
    start: new Date(T0 + over.id * 1000),
    end: null,
    params: {},
    tags: {},
    metrics: {},
    metric_steps: {},
    last_step: null,
    last_time: null,
    ...over,
  };
}

async function rejects(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isMlmodelError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  return err as Error;
}

const pt = (key: string, step: number, value: number, t = 0): MetricPoint => ({ key, step, value, time: new Date(T0 + t) });

export function trackingConformance(h: TrackingHarness): void {
  describe('experiments and runs', () => {
    let s: TrackingStore;
    beforeAll(async () => {
      s = await h.open();
    });

    it('creates an experiment once and keeps its first owner', async () => {
      const a = await s.ensureExperiment('mnist', 'alice', new Date(T0));
      const b = await s.ensureExperiment('mnist', 'bob', new Date(T0 + 5000));
      expect(a).toEqual({ name: 'mnist', user: 'alice', created: new Date(T0) });
      expect(b).toEqual(a);
      await s.ensureExperiment('iris', 'bob', new Date(T0 + 1));
      expect((await s.listExperiments()).map((e) => e.name)).toEqual(['iris', 'mnist']);
    });

    it('stores a run and reads back exactly what went in', async () => {
      const r = runRecord({ id: 1, params: { lr: 0.01, opt: 'sgd', nesterov: true }, tags: { team: 'vision' } });
      await s.insertRun(r);
      expect(await s.getRun(1)).toEqual(r);
      expect(await s.getRun(999)).toBeNull();
    });

    it('refuses a second run with the same id or uid', async () => {
      const r = runRecord({ id: 2 });
      await s.insertRun(r);
      await rejects(s.insertRun(runRecord({ id: 2 })), 'DUPLICATE_KEY');
      await rejects(s.insertRun(runRecord({ id: 3, uid: r.uid })), 'DUPLICATE_KEY');
      expect(await s.getRun(3)).toBeNull();
    });

    it('refuses bad runs before writing', async () => {
      await rejects(s.insertRun(runRecord({ id: 4, params: { 'a.b': 1 } })), 'INVALID_ARGUMENT');
      await rejects(s.insertRun(runRecord({ id: 4, params: { x: Number.NaN } })), 'INVALID_ARGUMENT');
      await rejects(s.insertRun(runRecord({ id: 4, name: 'bad\nname' })), 'INVALID_ARGUMENT');
      await rejects(s.insertRun(runRecord({ id: 4, status: 'DONE' as never })), 'INVALID_ARGUMENT');
      expect(await s.getRun(4)).toBeNull();
    });

    it('ends a run once: the second end finds it ended', async () => {
      await s.insertRun(runRecord({ id: 5 }));
      const ended = await s.endRun(5, 'FAILED', new Date(T0 + 60_000));
      expect(ended).toMatchObject({ id: 5, status: 'FAILED', end: new Date(T0 + 60_000) });
      expect(await s.endRun(5, 'FINISHED', new Date(T0 + 70_000))).toBeNull();
      expect(await s.getRun(5)).toMatchObject({ status: 'FAILED', end: new Date(T0 + 60_000) });
      expect(await s.endRun(404, 'FINISHED', new Date())).toBeNull();
    });

    it('of concurrent ends exactly one wins', async () => {
      await s.insertRun(runRecord({ id: 6 }));
      const other = await h.reopen(s);
      const results = await Promise.all([s.endRun(6, 'FINISHED', new Date(T0 + 1)), other.endRun(6, 'KILLED', new Date(T0 + 2)), s.endRun(6, 'FAILED', new Date(T0 + 3))]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const winner = results.find((r) => r !== null)!;
      expect((await s.getRun(6))!.status).toBe(winner.status);
      await other.close();
    });

    it('merges params and tags; a param keeps its first value', async () => {
      await s.insertRun(runRecord({ id: 7, params: { lr: 0.1 } }));
      expect(await s.logParams(7, { epochs: 10, lr: 0.1 }, { stage: 'a' })).toBeUndefined();
      expect((await s.getRun(7))!.params).toEqual({ lr: 0.1, epochs: 10 });
      await s.logParams(7, {}, { stage: 'b' });
      const err = await rejects(s.logParams(7, { batch: 32, lr: 0.2 }, { stage: 'c' }), 'CONFLICT');
      expect(err.message).toMatch(/lr=0\.1/);
      // Nothing of the refused call is written: not batch, not the tag.
      expect(await s.getRun(7)).toMatchObject({ params: { lr: 0.1, epochs: 10 }, tags: { stage: 'b' } });
      await rejects(s.logParams(7, { 'bad key': 1 }, {}), 'INVALID_ARGUMENT');
      await rejects(s.logParams(7, {}, { t: 3 as never }), 'INVALID_ARGUMENT');
      await rejects(s.logParams(404, { a: 1 }, {}), 'NOT_FOUND');
      await s.endRun(7, 'FINISHED', new Date());
      await rejects(s.logParams(7, { more: 1 }, {}), 'CONFLICT');
    });

    it('keeps every param at its first value whatever the calls, and answers params and tags by name', async () => {
      // Values of each type, some equal across types in text: 1, '1', true, 'true' are four different values.
      const value = fc.constantFrom<string | number | boolean>(1, '1', 0.5, -3, true, false, 'true', '', 'a b', 1e300);
      const call = fc.record({
        params: fc.dictionary(fc.constantFrom('lr', 'seed', 'opt', 'Zeta', 'a-b', '_x'), value, { maxKeys: 4 }),
        tags: fc.dictionary(fc.constantFrom('team', 'stage'), fc.constantFrom('x', 'y', ''), { maxKeys: 2 }),
      });
      let id = 100;
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom('lr', 'b'), value, { maxKeys: 2 }), fc.array(call, { minLength: 1, maxLength: 8 }), async (start, calls) => {
          const run = ++id;
          await s.insertRun(runRecord({ id: run, params: start }));
          const params: Record<string, string | number | boolean> = { ...start };
          const tags: Record<string, string> = {};
          for (const c of calls) {
            const clash = Object.entries(c.params).some(([k, v]) => Object.hasOwn(params, k) && params[k] !== v);
            if (clash) await rejects(s.logParams(run, c.params, c.tags), 'CONFLICT');
            else {
              await s.logParams(run, c.params, c.tags);
              Object.assign(params, c.params);
              Object.assign(tags, c.tags);
            }
            const got = (await s.getRun(run))!;
            expect(got.params).toEqual(params);
            expect(got.tags).toEqual(tags);
            expect(Object.keys(got.params)).toEqual(Object.keys(params).sort());
          }
          // The params are what the search finds the run by.
          for (const [k, v] of Object.entries(params)) {
            expect((await s.findRuns({ filter: F.and(F.eq('id', run), F.eq(`params.${k}`, v)) })).map((r) => r.id)).toEqual([run]);
          }
        }),
        { numRuns: 15 },
      );
    });
  });

  describe('metric points', () => {
    let s: TrackingStore;
    beforeAll(async () => {
      s = await h.open();
      await s.insertRun(runRecord({ id: 1 }));
      await s.insertRun(runRecord({ id: 2 }));
    });

    it('keeps every point by step, ties in logging order, and the latest value per key', async () => {
      await s.logMetrics(1, [pt('loss', 0, 1.0), pt('loss', 1, 0.5), pt('acc', 0, 0.3)], new Date(T0 + 10));
      // Out of order, and step 1 again: history keeps both, the summary the later one at the highest step.
      const r = await s.logMetrics(1, [pt('loss', 3, 0.2), pt('loss', 1, 0.45), pt('acc', 1, 0.6)], new Date(T0 + 20));
      expect(r.metrics).toEqual({ loss: 0.2, acc: 0.6 });
      expect(r.metric_steps).toEqual({ loss: 3, acc: 1 });
      expect(r.last_step).toBe(3);
      expect(r.last_time).toEqual(new Date(T0 + 20));
      // What logMetrics answers is the run's summary as stored (its params and tags aside).
      expect(await s.getRun(1)).toMatchObject(r);
      expect((await s.metricHistory(1, 'loss')).map((p) => [p.step, p.value])).toEqual([
        [0, 1.0],
        [1, 0.5],
        [1, 0.45],
        [3, 0.2],
      ]);
      const all = await s.runMetrics(1);
      expect([...all.keys()].sort()).toEqual(['acc', 'loss']);
      expect(all.get('acc')!.map((p) => p.value)).toEqual([0.3, 0.6]);
      expect(await s.metricHistory(2, 'loss')).toEqual([]);
      expect(await s.metricHistory(1, 'nope')).toEqual([]);
      expect([...(await s.metricRanges(1))]).toEqual([
        ['acc', { min: 0.3, max: 0.6, count: 2 }],
        ['loss', { min: 0.2, max: 1.0, count: 4 }],
      ]);
      expect((await s.metricRanges(2)).size).toBe(0);
    });

    it('a step logged again at the highest step replaces the summary value', async () => {
      const r = await s.logMetrics(1, [pt('loss', 3, 0.19)], new Date(T0 + 30));
      expect(r.metrics.loss).toBe(0.19);
    });

    it('writes a batch whole or not at all', async () => {
      const before = await s.metricHistory(2, 'x');
      for (const bad of [
        [pt('x', 0, 1), { key: 'x', step: 1, value: Number.NaN, time: new Date() }],
        [pt('x', 0, 1), { key: 'x', step: 1, value: Number.POSITIVE_INFINITY, time: new Date() }],
        [pt('x', 0, 1), { key: 'x', step: 1.5, value: 1, time: new Date() }],
        [pt('x', 0, 1), { key: 'x', step: -1, value: 1, time: new Date() }],
        [pt('x', 0, 1), { key: 'x', step: 2, value: '0.5' as never, time: new Date() }],
        [pt('x', 0, 1), { key: 'x y', step: 2, value: 1, time: new Date() }],
      ]) {
        await rejects(s.logMetrics(2, bad, new Date()), 'INVALID_ARGUMENT');
      }
      expect(await s.metricHistory(2, 'x')).toEqual(before);
      expect((await s.getRun(2))!.metrics).toEqual({});
      await rejects(s.logMetrics(404, [pt('x', 0, 1)], new Date()), 'NOT_FOUND');
    });

    it('takes a large batch in one call', async () => {
      const points = Array.from({ length: 5000 }, (_, i) => pt('big', i, Math.sin(i / 100), i));
      const r = await s.logMetrics(2, points, new Date(T0 + 99));
      expect(r.last_step).toBe(4999);
      const back = await s.metricHistory(2, 'big');
      expect(back).toHaveLength(5000);
      expect(back[1234]).toEqual(points[1234]);
    });

    it('keeps a batch\'s ties in logging order, whatever its length', async () => {
      // 301 points, two keys interleaved, every step logged three times: the SQLite store inserts
      // them 128, 128, 32, 8, 4 and 1 rows a statement, and no row may change places.
      const points = Array.from({ length: 301 }, (_, i) => pt(i % 2 === 0 ? 'tie' : 'tie2', Math.floor(i / 6), i, i));
      await s.logMetrics(2, points, new Date(T0 + 100));
      for (const key of ['tie', 'tie2']) {
        const mine = points.filter((p) => p.key === key);
        expect(await s.metricHistory(2, key)).toEqual(mine);
      }
      expect((await s.metricRanges(2)).get('tie')).toEqual({ min: 0, max: 300, count: 151 });
    });

    it('concurrent writers to one run leave the summary its points make', async () => {
      // Two connections, each with several calls in flight: one shared key at
      // interleaved steps logged out of order, and a key of each writer's own.
      const other = await h.reopen(s);
      await s.insertRun(runRecord({ id: 3 }));
      const steps = fc.sample(fc.shuffledSubarray(Array.from({ length: 16 }, (_, i) => i), { minLength: 16, maxLength: 16 }), 1)[0]!;
      const value = (step: number) => 1 / (step + 1);
      const calls = steps.map((step, i) => {
        const store = step % 2 === 0 ? s : other;
        const own = step % 2 === 0 ? 'even' : 'odd';
        return () => store.logMetrics(3, [pt('loss', step, value(step), i), pt(own, step, value(step) * 2, i)], new Date(T0 + 1000 + i));
      });
      await Promise.all(Array.from({ length: 4 }, async (_, lane) => {
        for (let i = lane; i < calls.length; i += 4) await calls[i]!();
      }));
      const expected = {
        metrics: { loss: value(15), even: value(14) * 2, odd: value(15) * 2 },
        metric_steps: { loss: 15, even: 14, odd: 15 },
        last_step: 15,
        last_time: new Date(T0 + 1000 + steps.length - 1),
      };
      for (const store of [s, other]) expect(await store.getRun(3)).toMatchObject(expected);
      expect((await s.metricHistory(3, 'loss')).map((p) => p.step)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    }, 120_000);

    it('reduces a series for a chart keeping its extremes, its ends and its order', async () => {
      await s.insertRun(runRecord({ id: 4 }));
      let key = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(300), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { minLength: 1, maxLength: 120 }),
          fc.integer({ min: 2, max: 40 }),
          async (raw, max) => {
            const name = `s${++key}`;
            await s.logMetrics(4, raw.map(([step, value], i) => pt(name, step, value, i)), new Date(T0));
            const history = await s.metricHistory(4, name);
            const got = await s.metricSeries(4, name, max);
            expect(got.steps).toHaveLength(got.values.length);
            if (history.length <= max) {
              expect(got).toEqual({ steps: history.map((p) => p.step), values: history.map((p) => p.value) });
              return;
            }
            expect(got.steps.length).toBeLessThanOrEqual(max + 2);
            expect([...got.steps].sort((a, b) => a - b)).toEqual(got.steps);
            expect(got.steps[0]).toBe(history[0]!.step);
            expect(got.steps.at(-1)).toBe(history.at(-1)!.step);
            expect(Math.min(...got.values)).toBe(Math.min(...history.map((p) => p.value)));
            expect(Math.max(...got.values)).toBe(Math.max(...history.map((p) => p.value)));
            // Every point kept is one that was logged.
            const logged = new Set(history.map((p) => `${p.step}:${p.value}`));
            for (let i = 0; i < got.steps.length; i++) expect(logged.has(`${got.steps[i]}:${got.values[i]}`)).toBe(true);
          },
        ),
        { numRuns: 25 },
      );
      expect(await s.metricSeries(4, 'never', 10)).toEqual({ steps: [], values: [] });
    }, 120_000);

    it('reduces a long series, logged out of order in batches, keeping every spike and dip', async () => {
      await s.insertRun(runRecord({ id: 7 }));
      // 8,000 points at every third step; spikes and dips 2,490 steps apart: each is the extreme of whatever bucket holds it,
      // however the store cuts them (for 40 points: buckets of whole 128-step blocks on SQLite; for 400, reduced from the points).
      const n = 8000;
      const special = new Map<number, number>();
      for (let k = 0; k < 9; k++) special.set(3 * (200 + k * 830), k % 2 === 0 ? 100 + k : -100 - k);
      const value = (step: number) => special.get(step) ?? Math.sin(step / 900) + ((step * 7919) % 13) / 100;
      const steps = fc.sample(fc.shuffledSubarray(Array.from({ length: n }, (_, i) => 3 * i), { minLength: n, maxLength: n }), 1)[0]!;
      for (let i = 0; i < n; i += 4000) await s.logMetrics(7, steps.slice(i, i + 4000).map((st) => pt('long', st, value(st))), new Date(T0));
      // A step logged again, lower than anything, far from the other spikes: the new dip is kept too.
      await s.logMetrics(7, [pt('long', 22_503, -500)], new Date(T0));
      for (const max of [40, 400]) {
        const got = await s.metricSeries(7, 'long', max);
        expect(got.steps.length).toBeLessThanOrEqual(max + 2);
        expect(got.steps.length).toBeGreaterThan(max / 4);
        expect([...got.steps].sort((a, b) => a - b)).toEqual(got.steps);
        expect(got.steps[0]).toBe(0);
        expect(got.steps.at(-1)).toBe(3 * (n - 1));
        const kept = new Set(got.steps.map((st, i) => `${st}:${got.values[i]}`));
        for (const [st, v] of special) expect(kept.has(`${st}:${v}`), `step ${st} (${v}) with max ${max}`).toBe(true);
        expect(kept.has('22503:-500')).toBe(true);
        for (let i = 0; i < got.steps.length; i++) {
          const st = got.steps[i]!;
          expect(got.values[i] === value(st) || (st === 22_503 && got.values[i] === -500), `step ${st}`).toBe(true);
        }
      }
    }, 120_000);

    it('checks the run it writes to with the caller\'s guard, and a refusal writes nothing', async () => {
      await s.insertRun(runRecord({ id: 8, user: 'alice' }));
      const seen: number[] = [];
      const onlyBob = (run: RunHead) => {
        seen.push(run.id);
        if (run.user !== 'bob') throw new MlmodelError('NOT_FOUND', 'not bob');
      };
      await rejects(s.logMetrics(8, [pt('g', 0, 1)], new Date(T0), onlyBob), 'NOT_FOUND');
      await rejects(s.logParams(8, { lr: 1 }, { t: 'x' }, onlyBob), 'NOT_FOUND');
      expect(await s.endRun(8, 'FINISHED', new Date(T0), onlyBob).catch((e: unknown) => e)).toBeInstanceOf(MlmodelError);
      expect(seen).toEqual([8, 8, 8]);
      const run = (await s.getRun(8))!;
      expect(run).toMatchObject({ status: 'RUNNING', params: {}, tags: {}, metrics: {}, last_step: null });
      expect(await s.metricHistory(8, 'g')).toEqual([]);
      expect(await s.findRuns({ filter: F.eq('params.lr', 1) })).toEqual([]);
      // A guard that lets the write through: it happens, and an ended run still refuses with CONFLICT after the guard.
      const anyone = () => undefined;
      await s.logMetrics(8, [pt('g', 0, 1)], new Date(T0), anyone);
      await s.logParams(8, { lr: 1 }, {}, anyone);
      expect((await s.endRun(8, 'FINISHED', new Date(T0), anyone))!.status).toBe('FINISHED');
      await rejects(s.logMetrics(8, [pt('g', 1, 1)], new Date(T0), anyone), 'CONFLICT');
      await rejects(s.logMetrics(999, [pt('g', 1, 1)], new Date(T0), anyone), 'NOT_FOUND');
      expect((await s.findRuns({ filter: F.eq('params.lr', 1) })).map((r) => r.id)).toEqual([8]);
    });

    it('refuses points for an ended run and writes none', async () => {
      await s.endRun(2, 'FINISHED', new Date());
      await rejects(s.logMetrics(2, [pt('after', 0, 1)], new Date()), 'CONFLICT');
      expect(await s.metricHistory(2, 'after')).toEqual([]);
    });
  });

  describe('run queries', () => {
    let s: TrackingStore;
    let runs: RunRecord[];
    beforeAll(async () => {
      s = await h.open();
      runs = [
        runRecord({ id: 1, experiment: 'mnist', user: 'alice', params: { lr: 0.1, opt: 'sgd' }, metrics: { acc: 0.8, loss: 0.5 }, status: 'FINISHED', end: new Date(T0 + 9e5) }),
        runRecord({ id: 2, experiment: 'mnist', user: 'alice', params: { lr: 0.001, opt: 'adam' }, metrics: { acc: 0.95 }, status: 'FINISHED', end: new Date(T0 + 8e5) }),
        runRecord({ id: 3, experiment: 'mnist', user: 'bob', params: { lr: 0.005, opt: 'adam' }, metrics: { acc: 0.91, loss: 0.2 } }),
        runRecord({ id: 4, experiment: 'iris', user: 'bob', params: { lr: '0.01' }, metrics: { acc: 0.99 }, tags: { prod: 'yes' } }),
        runRecord({ id: 5, experiment: 'iris', user: 'carol', params: {}, metrics: {}, status: 'FAILED', end: new Date(T0 + 1e5) }),
        runRecord({ id: 6, experiment: 'mnist', user: 'carol', params: { lr: 0.005 }, metrics: { acc: 0.91 }, status: 'KILLED', end: new Date(T0 + 2e5) }),
      ];
      for (const r of runs) await s.insertRun(r);
    });

    const ids = (rs: RunRecord[]) => rs.map((r) => r.id);

    it('filters, sorts and limits as written', async () => {
      expect(ids(await s.findRuns())).toEqual([1, 2, 3, 4, 5, 6]);
      expect(ids(await s.findRuns({ filter: F.eq('experiment', 'mnist') }))).toEqual([1, 2, 3, 6]);
      // The example: where params.lr < 0.01 and metrics.acc > 0.9 | sort -metrics.acc | head 5
      expect(ids(await s.findRuns({ filter: F.and(F.lt('params.lr', 0.01), F.gt('metrics.acc', 0.9)), sort: [['metrics.acc', -1]], limit: 5 }))).toEqual([2, 6, 3]);
      // A text param is not a number: '0.01' never compares with 0.01.
      expect(ids(await s.findRuns({ filter: F.lt('params.lr', 1) }))).toEqual([1, 2, 3, 6]);
      expect(ids(await s.findRuns({ filter: F.eq('params.lr', '0.01') }))).toEqual([4]);
      expect(ids(await s.findRuns({ filter: F.in('status', ['FAILED', 'KILLED']) }))).toEqual([5, 6]);
      expect(ids(await s.findRuns({ filter: F.eq('tags.prod', 'yes') }))).toEqual([4]);
      expect(ids(await s.findRuns({ filter: F.eq('metrics.loss', null) }))).toEqual([2, 4, 5, 6]);
      expect(ids(await s.findRuns({ filter: F.and(F.eq('experiment', 'mnist'), F.eq('user', 'alice')), sort: [['end', -1]] }))).toEqual([1, 2]);
      expect(ids(await s.findRuns({ filter: F.like('params.opt', 'a%') }))).toEqual([2, 3]);
      expect(ids(await s.findRuns({ filter: F.not(F.eq('user', 'bob')), limit: 2 }))).toEqual([1, 2]);
      expect(ids(await s.findRuns({ limit: 0 }))).toEqual([]);
      // Missing values sort first ascending (MongoDB's order), ties by id.
      expect(ids(await s.findRuns({ sort: [['metrics.loss', 1]] }))).toEqual([2, 4, 5, 6, 3, 1]);
    });

    it('refuses fields and operators outside the allow-list', async () => {
      await rejects(s.findRuns({ filter: { doc: { $eq: 1 } } as FilterDoc }), 'FILTER_INVALID');
      await rejects(s.findRuns({ filter: { 'params.a.b': { $eq: 1 } } as FilterDoc }), 'FILTER_INVALID');
      await rejects(s.findRuns({ filter: { 'params.__proto__': { $eq: 1 } } as FilterDoc }), 'FILTER_INVALID');
      await rejects(s.findRuns({ filter: { $where: 'sleep(1000)' } as unknown as FilterDoc }), 'FILTER_INVALID');
      await rejects(s.findRuns({ sort: [['nope', 1]] }), 'FILTER_INVALID');
    });

    it('agrees with a plain evaluation on random queries', async () => {
      const num = (field: string, values: number[]) =>
        fc.constantFrom(...values).chain((v) => fc.constantFrom(F.gt(field, v), F.gte(field, v), F.lt(field, v), F.lte(field, v), F.eq(field, v), F.ne(field, v)));
      const leaf = fc.oneof(
        num('params.lr', [0.001, 0.005, 0.01, 0.1]),
        num('metrics.acc', [0.8, 0.9, 0.91, 0.99]),
        num('metrics.loss', [0.2, 0.5]),
        num('id', [2, 4]),
        fc.constantFrom('mnist', 'iris', 'x').map((v) => F.eq('experiment', v)),
        fc.subarray(['alice', 'bob', 'carol']).map((v) => F.in('user', v)),
        fc.constantFrom('RUNNING', 'FINISHED').map((v) => F.ne('status', v)),
        fc.constantFrom('%', 'a%', 's_d').map((p) => F.like('params.opt', p)),
      );
      const filter: fc.Arbitrary<FilterDoc> = fc.letrec<{ f: FilterDoc }>((tie) => ({
        f: fc.oneof(
          { depthSize: 'small' },
          leaf,
          fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => F.and(...fs)),
          fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((fs) => F.or(...fs)),
          tie('f').map((f) => F.not(f)),
        ),
      })).f;
      const sort = fc.constantFrom<SortSpec>([], [['metrics.acc', -1]], [['params.lr', 1]], [['user', 1], ['start', -1]], [['end', -1]]);
      const { recordTest } = await import('../../src/store/match.js');
      const { sortRecords } = await import('../../src/store/order.js');
      const { withTieBreak } = await import('../../src/store/filter.js');
      await fc.assert(
        fc.asyncProperty(filter, sort, fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), async (f, order, limit) => {
          const got = ids(await s.findRuns({ filter: f, sort: order, ...(limit === undefined ? {} : { limit }) }));
          const want = ids(sortRecords(runs.filter(recordTest(f)), withTieBreak(order), limit ?? null));
          expect(got).toEqual(want);
        }),
        { numRuns: 80 },
      );
    }, 120_000);
  });

  describe('run queries over mixed values', () => {
    let s: TrackingStore;
    let runs: RunRecord[];
    beforeAll(async () => {
      s = await h.open();
      // Params of every kind (numbers, text, booleans, missing), tags, metrics and their steps, some logged after the run started.
      const opts: Array<string | number | boolean | undefined> = [0.1, 'adam', true, false, undefined, 3, '0.1', 'Zeta', 'émile', -2];
      runs = [];
      for (let i = 1; i <= 24; i++) {
        const opt = opts[i % opts.length];
        const r = runRecord({
          id: i,
          experiment: i % 3 === 0 ? 'b' : 'a',
          name: `n${(i * 7) % 24}`,
          user: ['alice', 'bob', 'carol'][i % 3]!,
          params: { ...(opt === undefined ? {} : { opt }), ...(i % 4 === 0 ? {} : { lr: [0.001, 0.01, 0.1][i % 3]! }) },
          tags: i % 5 === 0 ? {} : { team: ['x', 'y', 'Y'][i % 3]! },
        });
        await s.insertRun(r);
        if (i % 6 !== 0) await s.logMetrics(i, [pt('acc', i % 4, ((i * 37) % 10) / 10), pt('loss', 0, ((i * 11) % 7) / 7)], new Date(T0 + i * 10));
        if (i % 7 === 0) await s.logParams(i, { late: i % 2 === 0 }, { team: 'late' });
        if (i % 5 === 1) await s.endRun(i, 'FINISHED', new Date(T0 + 1e6 - i));
      }
      runs = await s.findRuns();
    });

    it('agrees with a plain evaluation on random filters and sorts of every field kind', async () => {
      const { recordTest } = await import('../../src/store/match.js');
      const { sortRecords } = await import('../../src/store/order.js');
      const { withTieBreak } = await import('../../src/store/filter.js');
      const leaf = fc.oneof(
        fc.constantFrom<unknown>(0.1, 3, -2, 'adam', '0.1', true, false, null).chain((v) =>
          v === null
            ? fc.constantFrom(F.eq('params.opt', null), F.ne('params.opt', null))
            : fc.constantFrom(F.eq('params.opt', v as never), F.ne('params.opt', v as never), F.gt('params.opt', v as never), F.lte('params.opt', v as never)),
        ),
        fc.constantFrom(0.001, 0.01, 0.1).chain((v) => fc.constantFrom(F.eq('params.lr', v), F.lt('params.lr', v), F.gte('params.lr', v))),
        fc.constantFrom(0, 0.3, 0.5, 0.9).chain((v) => fc.constantFrom(F.gt('metrics.acc', v), F.lte('metrics.loss', v), F.eq('metrics.acc', v))),
        fc.constantFrom(0, 1, 2).chain((v) => fc.constantFrom(F.gte('metric_steps.acc', v), F.eq('metric_steps.acc', v))),
        fc.constantFrom('x', 'y', 'late').map((v) => F.eq('tags.team', v)),
        fc.constantFrom(true, false).map((v) => F.eq('params.late', v)),
        fc.constantFrom('a', 'b').map((v) => F.eq('experiment', v)),
        fc.constantFrom('RUNNING', 'FINISHED').map((v) => F.eq('status', v)),
      );
      const filter = fc.array(leaf, { maxLength: 3 }).chain((ls) => fc.constantFrom(F.and({}, ...ls), F.or(...(ls.length > 0 ? ls : [{}]))));
      const key = fc.constantFrom('params.opt', 'params.lr', 'params.late', 'tags.team', 'metrics.acc', 'metrics.loss', 'metric_steps.acc', 'name', 'user', 'status', 'end', 'last_step', 'last_time', 'start', 'id');
      const sort = fc.uniqueArray(fc.tuple(key, fc.constantFrom<1 | -1>(1, -1)), { maxLength: 3, selector: (k) => k[0] });
      await fc.assert(
        fc.asyncProperty(filter, sort, fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }), async (f, order, limit) => {
          const got = (await s.findRuns({ filter: f, sort: order as SortSpec, ...(limit === undefined ? {} : { limit }) })).map((r) => r.id);
          const want = sortRecords(runs.filter(recordTest(f)), withTieBreak(order as SortSpec), limit ?? null).map((r) => r.id);
          expect(got, JSON.stringify({ f, order, limit })).toEqual(want);
        }),
        { numRuns: 150 },
      );
    }, 120_000);
  });

  describe('checkpoints', () => {
    let s: TrackingStore;
    beforeAll(async () => {
      s = await h.open();
    });
    const cp = (run: number, step: number) => ({
      run,
      step,
      object_key: `runs/u${run}/checkpoints/${step}/archive`,
      size: 10 * step,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      type: 'sklearn',
      format: 'pickle',
      filename: 'model.pkl',
      created: new Date(T0 + step),
    });

    it('lists a run’s checkpoints by step and gets one by step', async () => {
      for (const step of [20, 0, 10]) await s.insertCheckpoint(cp(1, step));
      await s.insertCheckpoint(cp(2, 10));
      expect((await s.listCheckpoints(1)).map((c) => c.step)).toEqual([0, 10, 20]);
      expect(await s.getCheckpoint(1, 10)).toEqual(cp(1, 10));
      expect(await s.getCheckpoint(1, 11)).toBeNull();
      expect(await s.listCheckpoints(3)).toEqual([]);
    });

    it('refuses a second checkpoint at one step', async () => {
      await rejects(s.insertCheckpoint({ ...cp(1, 10), size: 1 }), 'DUPLICATE_KEY');
      expect((await s.getCheckpoint(1, 10))!.size).toBe(100);
      await rejects(s.insertCheckpoint(cp(1, -1)), 'INVALID_ARGUMENT');
    });
  });

  describe('reopening', () => {
    it('a second connection sees what the first wrote', async () => {
      const s = await h.open();
      await s.insertRun(runRecord({ id: 1 }));
      await s.logMetrics(1, [pt('loss', 0, 1)], new Date(T0));
      const other = await h.reopen(s);
      expect((await other.getRun(1))!.metrics).toEqual({ loss: 1 });
      expect(await other.metricHistory(1, 'loss')).toEqual([pt('loss', 0, 1)]);
      await other.close();
    });
  });
}
