import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictServer, type PredictServer } from '../../console/serve/predict-server.js';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, openServingTarget, type Registry } from '../../src/engine/registry.js';
import { batchable, batchedRun } from '../../src/serving/batcher.js';
import type { ModelServer } from '../../src/serving/model-server.js';
import { loadOnnxModel, type LoadedModel } from '../../src/serving/onnx-runtime.js';
import type { OutputTensor } from '../../src/serving/tensors.js';
import { call, type Reply } from '../http/harness.js';
import { close, realModels, type RealModels } from './real-models.js';

/**
 * Dynamic batching (src/serving/batcher.ts) with real skl2onnx models: many
 * concurrent requests over every protocol get scikit-learn's own answers
 * (1e-5) while fewer ONNX Runtime runs answer them; bad requests among them
 * get their own 400; a batch's rows come back to the request that sent
 * them; graphs whose first dimension is not really a batch answer each
 * request as if it ran alone.
 */
let models: RealModels;
let reg: Registry;
let served: ModelServer;
let server: PredictServer;
let url: string;
const loaded: LoadedModel[] = [];

const post = (path: string, body: unknown): Promise<Reply> => call({ url }, 'POST', path, { body });

async function load(servingName: string): Promise<LoadedModel> {
  const target = await openServingTarget(reg.config);
  const m = await loadOnnxModel(await target.readVersionFile(servingName, 1, 'model.onnx'));
  loaded.push(m);
  return m;
}

beforeAll(async () => {
  models = await realModels();
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-batching-'));
  reg = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' }) });
  for (const [name, tar] of [['iris', 'iris_lr'], ['reg', 'iris_reg'], ['onerow', 'one_row'], ['rowsum', 'row_sum']] as const) {
    await reg.run(`mlmodel import name=${name} type=onnx path=${join(models.dir, `${tar}.tar`)}`);
    await reg.run(`mlmodel deploy ${name}`);
  }
  served = await reg.serveModels({ pollMs: 60_000 });
  server = createPredictServer({ models: served, http: reg.config.http, user: reg.config.user, secrets: reg.config.secrets, oneModel: false, version: '0.0.0-test' });
  url = (await server.listen(0, '127.0.0.1')).url;
}, 900_000);

afterAll(async () => {
  await server?.close();
  await served?.close();
  await Promise.all(loaded.map((m) => m.release()));
  await reg?.close();
});

/** One request of a generated load: which model, which protocol, which of the expected rows, or a bad body. */
interface Sent {
  readonly model: 'iris' | 'reg';
  readonly protocol: 'tf' | 'kserve' | 'mlflow';
  readonly rows: number[];
  readonly bad: 'none' | 'string' | 'width';
}

const sent: fc.Arbitrary<Sent> = fc.record({
  model: fc.constantFrom('iris' as const, 'reg' as const),
  protocol: fc.constantFrom('tf' as const, 'kserve' as const, 'mlflow' as const),
  rows: fc.array(fc.nat({ max: 21 }), { minLength: 1, maxLength: 4 }),
  bad: fc.oneof({ weight: 6, arbitrary: fc.constant('none' as const) }, { weight: 1, arbitrary: fc.constantFrom('string' as const, 'width' as const) }),
});

function request(s: Sent): { path: string; body: unknown } {
  const all = s.model === 'iris' ? models.expected.iris_lr.rows : models.expected.iris_reg.rows;
  let rows: unknown[][] = s.rows.map((i) => all[i]!);
  if (s.bad === 'string') rows = rows.map((r, i) => (i === 0 ? ['x', ...r.slice(1)] : r));
  if (s.bad === 'width') rows = rows.map((r) => [...r, 1]);
  const name = `root_${s.model}`;
  if (s.protocol === 'tf') return { path: `/v1/models/${name}:predict`, body: { instances: rows } };
  if (s.protocol === 'mlflow') return { path: `/mlflow/${name}/invocations`, body: { inputs: rows } };
  return { path: `/v2/models/${name}/infer`, body: { inputs: [{ name: 'X', shape: [rows.length, rows[0]!.length], datatype: 'FP32', data: rows.flat() }] } };
}

/** The answer as per-row [label, probabilities] (iris) or per-row [value] (reg), whatever the protocol's shape. */
function answerRows(s: Sent, body: { predictions?: unknown[]; outputs?: { name: string; data: number[] }[] }): unknown[] {
  if (s.protocol !== 'kserve') {
    return s.model === 'iris' ? (body.predictions as { label: number; probabilities: number[] }[]).map((p) => [p.label, p.probabilities]) : body.predictions!;
  }
  const out = body.outputs!;
  if (s.model === 'reg') return out[0]!.data.map((v) => [v]);
  const probs = out[1]!.data;
  return out[0]!.data.map((label, i) => [label, probs.slice(i * 3, i * 3 + 3)]);
}

function expectedRows(s: Sent): unknown[] {
  if (s.model === 'reg') return s.rows.map((i) => [models.expected.iris_reg.variable[i]!]);
  return s.rows.map((i) => [models.expected.iris_lr.label[i]!, models.expected.iris_lr.probabilities[i]!]);
}

describe('dynamic batching', () => {
  it('answers concurrent requests over every protocol with scikit-learn predictions (1e-5) from fewer runs; bad ones get their own 400', async () => {
    const iris = served.resolve('root_iris');
    const regModel = served.resolve('root_reg');
    const before = iris.batching().runs + regModel.batching().runs;
    const requestsBefore = iris.batching().requests + regModel.batching().requests;
    let good = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(sent, { minLength: 40, maxLength: 80 }), async (load) => {
        const replies = await Promise.all(load.map((s) => request(s)).map((r) => post(r.path, r.body)));
        load.forEach((s, i) => {
          const r = replies[i]!;
          if (s.bad !== 'none') {
            expect(r.status, JSON.stringify(r.body)).toBe(400);
            // Each protocol's own error shape.
            if (s.protocol === 'mlflow') expect(r.body).toEqual({ error_code: 'BAD_REQUEST', message: expect.any(String) });
            else expect(r.body).toEqual({ error: expect.any(String) });
            return;
          }
          good++;
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          const got = answerRows(s, r.body);
          const want = expectedRows(s);
          expect(got.length).toBe(want.length);
          got.forEach((row, k) => {
            const [g, w] = [row as unknown[], want[k] as unknown[]];
            if (s.model === 'iris') {
              expect(g[0]).toBe(w[0]);
              expect(close(g[1], w[1]), `${JSON.stringify(g)} vs ${JSON.stringify(w)}`).toBe(true);
            } else expect(close(g, w), `${JSON.stringify(g)} vs ${JSON.stringify(w)}`).toBe(true);
          });
        });
      }),
      { numRuns: 6 },
    );
    const runs = iris.batching().runs + regModel.batching().runs - before;
    const requests = iris.batching().requests + regModel.batching().requests - requestsBefore;
    // Only the well-formed requests reach the models, and they took fewer runs than there were requests.
    expect(requests).toBe(good);
    expect(runs).toBeLessThan(requests);
    expect(Math.max(iris.batching().largest, regModel.batching().largest)).toBeGreaterThan(1);
  }, 120_000);

  it('gives each request the rows an unbatched run gives it: equal for many rows, within float rounding for one', async () => {
    const model = await load('root_iris');
    const batched = batchedRun(model, { maxRows: 64 });
    expect(batchable(model.signature)).toBe(true);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.array(fc.float({ min: 0, max: 8, noNaN: true, noDefaultInfinity: true }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 5 }), { minLength: 3, maxLength: 30 }),
        async (requests) => {
          const inputs = requests.map((rows) => [{ name: 'X', type: 'float' as const, shape: [rows.length, 4], data: rows.flat() }]);
          const before = batched.stats();
          const together = await Promise.all(inputs.map((i) => batched.run(i)));
          // Sent in one turn of the event loop: the first may run at once (after a run of one request, as a lone client's),
          // the rest go together in runs of at most 64 rows (60 or more, at 5 rows a request).
          const runs = batched.stats().runs - before.runs;
          expect(runs).toBeLessThan(requests.length);
          expect(runs).toBeLessThanOrEqual(1 + Math.ceil(requests.slice(1).flat().length / 60));
          for (let i = 0; i < inputs.length; i++) {
            const alone: OutputTensor[] = await model.run(inputs[i]!);
            expect(together[i]!.map((o) => [o.name, o.shape])).toEqual(alone.map((o) => [o.name, o.shape]));
            // ONNX Runtime multiplies one row by another kernel than many: a one-row request run alone may differ in the last float bit.
            if (requests[i]!.length > 1) expect(together[i]).toEqual(alone);
            else together[i]!.forEach((o, k) => expect(close(o.data, alone[k]!.data, 1e-6)).toBe(true));
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it('answers each request alone where the graph refuses a batch (its own error for a request it refuses) or does not answer row by row', async () => {
    const rowOf = (i: number) => [i, i + 1, i + 2, i + 3];
    const oneRow = batchedRun(await load('root_onerow'), { maxRows: 64 });
    // Reshape to [1, 4]: one row passes, a batch and a two-row request do not.
    const answers = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => oneRow.run([{ name: 'X', type: 'float', shape: i % 4 === 3 ? [2, 4] : [1, 4], data: i % 4 === 3 ? [...rowOf(i), ...rowOf(i)] : rowOf(i) }])),
    );
    answers.forEach((a, i) => {
      if (i % 4 === 3) {
        expect(a.status).toBe('rejected');
        expect((a as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_ARGUMENT' });
      } else expect(a).toEqual({ status: 'fulfilled', value: [{ name: 'Y', type: 'float', shape: [1, 4], data: rowOf(i) }] });
    });

    const rowSum = batchedRun(await load('root_rowsum'), { maxRows: 64 });
    const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => rowSum.run([{ name: 'X', type: 'float', shape: [2, 4], data: [...rowOf(i), ...rowOf(10 * i)] }])));
    sums.forEach((s, i) => expect(s).toEqual([{ name: 'Y', type: 'float', shape: [1, 4], data: rowOf(i).map((v, k) => v + rowOf(10 * i)[k]!) }]));
    // Once its outputs did not follow the rows, every request runs alone.
    const before = rowSum.stats();
    await Promise.all(Array.from({ length: 5 }, (_, i) => rowSum.run([{ name: 'X', type: 'float', shape: [1, 4], data: rowOf(i) }])));
    expect(rowSum.stats().runs - before.runs).toBe(5);

    // Over HTTP the refused request is the client's 400 and the others are answered.
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post('/v1/models/root_onerow:predict', { instances: i === 5 ? [rowOf(i), rowOf(i)] : [rowOf(i)] })),
    );
    replies.forEach((r, i) => {
      if (i === 5) expect(r).toMatchObject({ status: 400, body: { error: expect.stringContaining('the model refused the input') } });
      else expect(r).toMatchObject({ status: 200, body: { predictions: [rowOf(i)] } });
    });
  }, 60_000);

  it("runs a lone client's request at once, and waits the rest of the turn for others only after a run of several", async () => {
    const b = batchedRun(await load('root_iris'), { maxRows: 64 });
    const row = [{ name: 'X', type: 'float' as const, shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }];
    const settled = () => new Promise((r) => setImmediate(r));
    // A lone client: each request's run starts in the call itself, not a turn of the event loop later.
    for (let i = 0; i < 5; i++) {
      const runs = b.stats().runs;
      const answer = b.run(row);
      expect(b.stats().runs).toBe(runs + 1);
      expect((await answer)[0]!.shape[0]).toBe(1);
      await settled();
    }
    // Eight at once: the first runs at once, the seven that came meanwhile go in one run.
    const runs = b.stats().runs;
    await Promise.all(Array.from({ length: 8 }, () => b.run(row)));
    expect(b.stats().runs - runs).toBe(2);
    await settled();
    // After a run of several, the next request waits for the turn's others; alone, it ran alone, and the next runs at once again.
    const gathered = b.stats().runs;
    const next = b.run(row);
    expect(b.stats().runs).toBe(gathered);
    await next;
    expect(b.stats().runs).toBe(gathered + 1);
    await settled();
    const lone = b.run(row);
    expect(b.stats().runs).toBe(gathered + 2);
    await lone;
  });

  it('runs every request alone with maxRows 1, and batches only graphs whose every tensor has a dynamic first dimension', async () => {
    const model = await load('root_iris');
    const single = batchedRun(model, { maxRows: 1 });
    await Promise.all(Array.from({ length: 6 }, () => single.run([{ name: 'X', type: 'float', shape: [1, 4], data: [5, 3, 1, 0] }])));
    expect(single.stats()).toEqual({ requests: 6, runs: 6, largest: 1 });
    const dyn = { name: 'X', type: 'float' as const, shape: [null, 4] };
    expect(batchable({ inputs: [dyn], outputs: [{ ...dyn, name: 'Y' }] })).toBe(true);
    expect(batchable({ inputs: [{ ...dyn, shape: [1, 4] }], outputs: [{ ...dyn, name: 'Y' }] })).toBe(false);
    expect(batchable({ inputs: [dyn], outputs: [{ ...dyn, name: 'Y', shape: [] }] })).toBe(false);
    expect(batchable({ inputs: [{ ...dyn, shape: [] }], outputs: [{ ...dyn, name: 'Y' }] })).toBe(false);
  });
});
