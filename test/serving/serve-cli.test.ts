import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMain } from '../../console/serve/main.js';
import { call, TOKENS } from '../http/harness.js';
import { close, realModels, type RealModels } from './real-models.js';
import { servedHome } from './served-home.js';

/**
 * `mlmodel serve --model NAME@V` (one model, MLflow's endpoints at the
 * root) and `mlmodel serve --predict-port N` beside the query API, started
 * through serveMain as the CLI does, with the query API's tokens.
 */
let models: RealModels;
let root: string;
let configFile: string;
const stops: AbortController[] = [];

beforeAll(async () => {
  models = await realModels();
  const home = await servedHome(models, 'mlmodel-serve-cli-');
  ({ root, configFile } = home);
  await home.registry.close();
}, 900_000);

afterAll(() => {
  for (const s of stops) s.abort();
});

/** Starts serveMain; resolves with what it printed once it says `listening on`. */
async function start(args: string[]): Promise<{ url: string; stderr: () => string; done: Promise<number> }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const stop = new AbortController();
  stops.push(stop);
  const done = serveMain([...args, '--home', join(root, 'home'), '--config', configFile], { stdout, stderr, env: { HOME: root } }, stop.signal);
  const end = Date.now() + 60_000;
  while (!/listening on (\S+)/.test(out)) {
    if (Date.now() > end) throw new Error(`serve did not start: ${err}`);
    const early = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 50))]);
    if (early !== null) throw new Error(`serve exited ${String(early)}: ${err}`);
  }
  return { url: /listening on (\S+)/.exec(out)![1]!, stderr: () => err, done };
}

describe('mlmodel serve --model', () => {
  it("serves one registry version alone, MLflow's endpoints at the root, TF Serving's and KServe's under its name; tokens as the query API's", async () => {
    const s = await start(['--model', 'iris@1', '--port', '0', '--max-batch', '8']);
    const rows = models.expected.iris_lr.rows;
    expect((await call(s, 'GET', '/ping')).status).toBe(401);
    expect((await call(s, 'POST', '/invocations', { body: { instances: rows } })).body).toEqual({ error_code: 'PERMISSION_DENIED', message: expect.stringContaining('bearer token') });
    const ping = await fetch(`${s.url}/ping`, { headers: { Authorization: `Bearer ${TOKENS.bob}` } });
    expect(ping.status).toBe(200);
    const version = await fetch(`${s.url}/version`, { headers: { Authorization: `Bearer ${TOKENS.bob}` } });
    expect(await version.text()).toMatch(/^\d+\.\d+\.\d+/);
    const r = await call(s, 'POST', '/invocations', { token: 'bob', body: { dataframe_split: { data: rows } } });
    expect(r.status).toBe(200);
    expect(r.body.predictions.map((p: { label: number }) => p.label)).toEqual(models.expected.iris_lr.label);
    expect(close(r.body.predictions.map((p: { probabilities: number[] }) => p.probabilities), models.expected.iris_lr.probabilities)).toBe(true);
    const tf = await call(s, 'POST', '/v1/models/iris:predict', { token: 'alice', body: { instances: rows.slice(0, 2) } });
    expect(tf.body.predictions.map((p: { label: number }) => p.label)).toEqual(models.expected.iris_lr.label.slice(0, 2));
    expect((await call(s, 'GET', '/v2/models/iris/versions/1/ready', { token: 'alice' })).body).toEqual({ name: 'iris', ready: true });
  }, 120_000);

  it('refuses --model beside --predict-port, and a model that is not onnx or does not exist', async () => {
    const out = new PassThrough();
    let err = '';
    const io = { stdout: out, stderr: new PassThrough().on('data', (d: Buffer) => (err += d.toString())), env: { HOME: root } };
    expect(await serveMain(['--model', 'iris', '--predict-port', '0', '--home', join(root, 'home'), '--config', configFile], io)).toBe(2);
    expect(err).toContain('--predict-port is for the registry');
    expect(await serveMain(['--model', 'nope', '--port', '0', '--home', join(root, 'home'), '--config', configFile], io)).not.toBe(0);
    expect(err).toContain('MODEL_NOT_FOUND');
  });
});

describe('mlmodel serve --predict-port', () => {
  it('answers predictions on its own port beside the query API, with the same tokens', async () => {
    const s = await start(['--port', '0', '--predict-port', '0']);
    const predict = /predictions on (\S+)/.exec(s.stderr())![1]!;
    const body = { inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: models.expected.iris_lr.rows[0] }] };
    expect((await call({ url: predict }, 'POST', '/v2/models/root_iris/infer', { body })).status).toBe(401);
    const r = await call({ url: predict }, 'POST', '/v2/models/root_iris/infer', { token: 'bob', body });
    expect(r.status).toBe(200);
    expect(r.body.outputs[0].data).toEqual([models.expected.iris_lr.label[0]]);
    // The query API still answers on its port, and predict runs there too (a reader may: it writes nothing).
    const q = await call(s, 'POST', '/query', { token: 'bob', body: { q: `mlmodel predict iris instances='${JSON.stringify([models.expected.iris_lr.rows[0]])}'` } });
    expect(q.status).toBe(200);
    expect(q.body.results[0]).toEqual([0, 'label', models.expected.iris_lr.label[0]]);
  }, 120_000);
});
