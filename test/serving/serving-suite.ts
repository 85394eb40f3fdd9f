import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictServer, type PredictServer } from '../../console/serve/predict-server.js';
import { loadConfig, type Env } from '../../src/config/index.js';
import { openRegistry, openServingTarget, type Registry } from '../../src/engine/registry.js';
import type { ModelServer } from '../../src/serving/model-server.js';
import type { ServingTarget } from '../../src/serving/target.js';
import { runs } from '../grammar/arbitraries.js';
import { call, rawRequest, type Reply } from '../http/harness.js';
import { close, parseTritonConfigs, realModels, type RealModels } from './real-models.js';

/**
 * Issue 18 on one store pair, with real scikit-learn models (test/serving/
 * make_models.py): deploy lays out a Triton model repository whose
 * config.pbtxt Triton's own protos read; the prediction port answers TF
 * Serving's, KServe's and MLflow's protocols with scikit-learn's own
 * predictions (1e-5), refuses bad input in each protocol's shape, follows
 * deploy and stop, and marks FAILED what it cannot load; `predict` gives
 * the same answers in-process.
 */
export function servingSuite(label: string, makeEnv: () => Promise<Env>): void {
  describe(`serving onnx models (${label})`, () => {
    let models: RealModels;
    let reg: Registry;
    let target: ServingTarget;
    let served: ModelServer;
    let server: PredictServer;
    let url: string;
    let env: Env;
    const run = (q: string) => reg.run(q);
    const tar = (name: string) => join(models.dir, `${name}.tar`);
    const post = (path: string, body: unknown): Promise<Reply> => call({ url }, 'POST', path, { body });
    const get = (path: string): Promise<Reply> => call({ url }, 'GET', path);
    const lr = () => models.expected.iris_lr;
    const strong = () => models.expected.iris_lr_strong;

    beforeAll(async () => {
      models = await realModels();
      env = await makeEnv();
      const config = loadConfig(env);
      reg = await openRegistry({ config });
      target = await openServingTarget(config);
      // iris@1: C=1; iris@2: C=0.01 (other probabilities); reg: petal width from three measurements.
      await run(`mlmodel import name=iris type=onnx path=${tar('iris_lr')}`);
      await run(`mlmodel import name=iris type=onnx path=${tar('iris_lr_strong')}`);
      await run(`mlmodel import name=reg type=onnx path=${tar('iris_reg')}`);
      await run("mlmodel deploy iris@1 label='stable'");
      await run("mlmodel deploy iris label='canary'");
      await run('mlmodel deploy reg');
      served = await reg.serveModels({ pollMs: 100 });
      server = createPredictServer({ models: served, http: reg.config.http, user: reg.config.user, secrets: reg.config.secrets, oneModel: false, version: '0.0.0-test' });
      url = (await server.listen(0, '127.0.0.1')).url;
    }, 900_000);

    afterAll(async () => {
      await server?.close();
      await served?.close();
      await reg?.close();
    });

    it("lays out <name>/<version>/model.onnx and a config.pbtxt that Triton's ModelConfig reads, from the graph", async () => {
      // The version holds exactly the archive's model.onnx (the tar's one member: a 512-byte header, then its bytes).
      const archive = readFileSync(tar('iris_lr'));
      const size = parseInt(archive.subarray(124, 136).toString().replace(/\0/g, '').trim(), 8);
      expect(await target.readVersionFile('root_iris', 1, 'model.onnx')).toEqual(archive.subarray(512, 512 + size));
      const texts = [(await target.readModelFile('root_iris', 'config.pbtxt'))!, (await target.readModelFile('root_reg', 'config.pbtxt'))!];
      const [iris, regc] = await parseTritonConfigs(models.python, texts);
      expect(iris).toEqual({
        name: 'root_iris',
        platform: 'onnxruntime_onnx',
        backend: 'onnxruntime',
        max_batch_size: 0,
        versions: [1, 2],
        inputs: [{ name: 'X', data_type: 'TYPE_FP32', dims: [-1, 4] }],
        outputs: [
          { name: 'label', data_type: 'TYPE_INT64', dims: [-1] },
          { name: 'probabilities', data_type: 'TYPE_FP32', dims: [-1, 3] },
        ],
      });
      expect(regc).toMatchObject({ name: 'root_reg', versions: [1], inputs: [{ name: 'X', data_type: 'TYPE_FP32', dims: [-1, 3] }], outputs: [{ name: 'variable', data_type: 'TYPE_FP32', dims: [-1, 1] }] });
      // TF Serving's models.config lists tf models only: it could not load these.
      expect(await target.readConfig()).not.toContain('root_iris');
    });

    it('answers TF Serving REST with scikit-learn predictions: instances and inputs forms, versions and labels, status and metadata', async () => {
      const latest = await post('/v1/models/root_iris:predict', { instances: lr().rows });
      expect(latest.status).toBe(200);
      // The newest version (2, the strongly regularised one) answers by default.
      expect(latest.body.predictions.map((p: { label: number }) => p.label)).toEqual(strong().label);
      expect(close(latest.body.predictions.map((p: { probabilities: number[] }) => p.probabilities), strong().probabilities)).toBe(true);
      const v1 = await post('/v1/models/root_iris/versions/1:predict', { instances: lr().rows });
      expect(close(v1.body.predictions.map((p: { probabilities: number[] }) => p.probabilities), lr().probabilities)).toBe(true);
      const stable = await post('/v1/models/root_iris/labels/stable:predict', { inputs: lr().rows });
      expect(stable.body.outputs.label).toEqual(lr().label);
      expect(close(stable.body.outputs.probabilities, lr().probabilities)).toBe(true);
      const named = await post('/v1/models/root_iris/labels/canary:predict', { signature_name: 'serving_default', inputs: { X: lr().rows } });
      expect(close(named.body.outputs.probabilities, strong().probabilities)).toBe(true);
      const r = await post('/v1/models/root_reg:predict', { instances: models.expected.iris_reg.rows });
      expect(close(r.body.predictions, models.expected.iris_reg.variable.map((v) => [v]))).toBe(true);

      expect((await get('/v1/models/root_iris')).body).toEqual({
        model_version_status: [2, 1].map((v) => ({ version: String(v), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } })),
      });
      expect((await get('/v1/models/root_iris/labels/stable')).body.model_version_status.map((s: { version: string }) => s.version)).toEqual(['1']);
      const meta = (await get('/v1/models/root_iris/versions/1/metadata')).body;
      expect(meta.model_spec).toEqual({ name: 'root_iris', signature_name: '', version: '1' });
      expect(meta.metadata.signature_def.signature_def.serving_default.inputs.X).toEqual({
        dtype: 'DT_FLOAT',
        tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '4', name: '' }], unknown_rank: false },
        name: 'X',
      });
      expect((await get('/v1/models/nope')).status).toBe(404);
      expect((await get('/v1/models/root_iris/labels/nope')).body).toEqual({ error: expect.stringContaining('no label nope') });
    });

    it('answers KServe v2 with scikit-learn predictions: health, metadata, readiness, infer by version', async () => {
      expect((await get('/v2/health/live')).body).toEqual({ live: true });
      expect((await get('/v2/health/ready')).body).toEqual({ ready: true });
      expect((await get('/v2/models/root_iris')).body).toEqual({
        name: 'root_iris',
        versions: ['2', '1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [
          { name: 'label', datatype: 'INT64', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        ],
      });
      expect((await get('/v2/models/root_iris/versions/1/ready')).body).toEqual({ name: 'root_iris', ready: true });
      const rows = lr().rows;
      const r = await post('/v2/models/root_iris/versions/1/infer', { id: 'q1', inputs: [{ name: 'X', shape: [rows.length, 4], datatype: 'FP32', data: rows.flat() }] });
      expect(r.status).toBe(200);
      expect(r.body.model_name).toBe('root_iris');
      expect(r.body.model_version).toBe('1');
      expect(r.body.id).toBe('q1');
      const [labelOut, probs] = r.body.outputs;
      expect(labelOut).toEqual({ name: 'label', datatype: 'INT64', shape: [rows.length], data: lr().label });
      expect(probs.shape).toEqual([rows.length, 3]);
      expect(close(probs.data, lr().probabilities.flat())).toBe(true);
      // Nested data and a requested output.
      const only = await post('/v2/models/root_iris/infer', { inputs: [{ name: 'X', shape: [rows.length, 4], datatype: 'FP32', data: rows }], outputs: [{ name: 'probabilities' }] });
      expect(only.body.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
      expect(close(only.body.outputs[0].data, strong().probabilities.flat())).toBe(true);
      expect((await get('/v2/models/nope/ready')).status).toBe(400);
    });

    it('answers MLflow scoring under /mlflow/NAME/ in all four forms', async () => {
      const rows = lr().rows;
      const cols = ['sepal length', 'sepal width', 'petal length', 'petal width'];
      const forms = [
        { dataframe_split: { columns: cols, data: rows } },
        { dataframe_records: rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]]))) },
        { instances: rows },
        { inputs: { X: rows } },
      ];
      for (const body of forms) {
        const r = await post('/mlflow/root_iris/invocations', body);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.predictions.map((p: { label: number }) => p.label)).toEqual(strong().label);
        expect(close(r.body.predictions.map((p: { probabilities: number[] }) => p.probabilities), strong().probabilities)).toBe(true);
      }
      const ping = await fetch(`${url}/mlflow/root_iris/ping`);
      expect(ping.status).toBe(200);
      expect((await fetch(`${url}/mlflow/root_iris/version`)).status).toBe(200);
      // The root endpoints belong to the one-model server.
      expect((await post('/invocations', { instances: rows })).body).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining('/mlflow/NAME/invocations') });
    });

    it('predict in-process gives the same answers as the server, inline and from a file', async () => {
      const rows = lr().rows;
      const t = await run(`mlmodel predict iris@1 instances='${JSON.stringify(rows)}'`);
      expect(t.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['row:LONG', 'output:TEXT', 'value:JSON']);
      expect(t.rows.filter((r) => r[1] === 'label').map((r) => r[2])).toEqual(lr().label);
      expect(close(t.rows.filter((r) => r[1] === 'probabilities').map((r) => r[2]), lr().probabilities)).toBe(true);
      const file = join(models.dir, 'request.json');
      await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify({ dataframe_split: { data: models.expected.iris_reg.rows } })));
      const r = await run(`mlmodel predict reg file='${file}'`);
      expect(close(r.rows.map((x) => x[2]), models.expected.iris_reg.variable.map((v) => [v]))).toBe(true);
      // A request body in a connector's store: read whole, as the local file is.
      if (env.MLMODEL_CONNECTOR_REQUESTS !== undefined) {
        const fs = await import('node:fs/promises');
        await fs.mkdir(join(env.MLMODEL_CONNECTOR_REQUESTS, 'bodies'), { recursive: true });
        await fs.writeFile(join(env.MLMODEL_CONNECTOR_REQUESTS, 'bodies', 'reg.json'), JSON.stringify({ instances: models.expected.iris_reg.rows }));
        const c = await run("mlmodel predict reg file='OBJECTSTORAGE.REQUESTS:bodies/reg.json'");
        expect(c.rows).toEqual(r.rows);
        expect(await run("mlmodel predict reg file='OBJECTSTORAGE.REQUESTS:bodies/none.json'").catch((e: unknown) => e)).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      }
      const sig = await run('mlmodel signature iris');
      expect(sig.rows.filter((x) => x[0] !== 'request').map((x) => x.slice(0, 4))).toEqual([
        ['input', 'X', 'float', [-1, 4]],
        ['output', 'label', 'int64', [-1]],
        ['output', 'probabilities', 'float', [-1, 3]],
      ]);
      // Each ready request body is answered by the server as it stands.
      for (const [, proto, path, , body] of sig.rows.filter((x) => x[0] === 'request')) {
        const r2 = await post(String(path).replace(/^POST /, ''), body);
        expect(r2.status, `${String(proto)}: ${JSON.stringify(r2.body)}`).toBe(200);
      }
      expect(await run("mlmodel predict iris instances='[[1, 2, 3]]'").catch((e: unknown) => e)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('[-1, 4]') });
    });

    it("refuses bad input with each protocol's own 400 (or 413), never a crash, and goes on answering", async () => {
      const good = lr().rows.slice(0, 1);
      const cases: [string, unknown, RegExp][] = [
        ['/v1/models/root_iris:predict', { instances: [[1, 2, 3]] }, /shape \[1, 3\]/],
        ['/v1/models/root_iris:predict', { instances: [[1, 2, 3, 4], [1, 2]] }, /ragged/],
        ['/v1/models/root_iris:predict', { instances: [['a', 'b', 'c', 'd']] }, /not a finite float/],
        ['/v1/models/root_iris:predict', { instances: [[1, 2, 3, 'NaN']] }, /not a finite float/],
        ['/v1/models/root_iris:predict', { instances: [[1, 2, 3, null]] }, /null/],
        ['/v1/models/root_iris:predict', { instances: [[1, 2, 3, 1e39]] }, /finite float/],
        ['/v1/models/root_iris:predict', { instances: good, inputs: good }, /exactly one/],
        ['/v1/models/root_iris:predict', [1, 2], /JSON object/],
        ['/v2/models/root_iris/infer', { inputs: [{ name: 'X', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, /holds 8 elements, data has 4/],
        ['/v2/models/root_iris/infer', { inputs: [{ name: 'X', shape: [1, 4], datatype: 'INT64', data: [1, 2, 3, 4] }] }, /datatype/],
        ['/v2/models/root_iris/infer', { inputs: [{ name: 'Y', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, /unexpected inference input/],
        ['/v2/models/root_iris/infer', { inputs: [{ name: 'X', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] }, /shape/],
        ['/mlflow/root_iris/invocations', { dataframe_split: { columns: ['a', 'b'], data: [[1, 2]] } }, /takes 4 columns/],
        ['/mlflow/root_iris/invocations', { instances: good, extra: 1 }, /exactly one of the input fields/],
        ['/mlflow/root_iris/invocations', { dataframe_records: [{ a: 1 }, { b: 2 }] }, /columns of the first record/],
      ];
      for (const [path, body, message] of cases) {
        const r = await post(path, body);
        expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
        expectShape(path, r.body, message);
      }
      for (const path of ['/v1/models/root_iris:predict', '/v2/models/root_iris/infer', '/mlflow/root_iris/invocations']) {
        const notJson = await call({ url }, 'POST', path, { raw: '{"instances": [[NaN, 1, 2, 3]]}' });
        expect(notJson.status).toBe(400);
        expectShape(path, notJson.body, /not JSON/);
        const big = await fetch(url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(100 * 1024 * 1024, 0x20) }).catch((e: unknown) => e);
        // Refused on its Content-Length, before the body is read: the answer may arrive while it is still being sent.
        if (big instanceof Response) {
          expect(big.status).toBe(413);
          expectShape(path, await big.json(), /larger than/);
        }
        const text = await fetch(url + path, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
        expect(text.status).toBe(415);
        expectShape(path, await text.json(), /application\/json/);
      }
      // The query API's guard: a foreign Host (DNS rebinding) or Origin is refused before anything else, in the protocol's shape.
      const rebound = await rawRequest(url, 'POST', '/v1/models/root_iris:predict', { Host: 'evil.example', 'Content-Type': 'application/json' }, JSON.stringify({ instances: good }));
      expect(rebound.status).toBe(403);
      expectShape('/v1/', rebound.body, /host name/);
      const foreign = await call({ url }, 'POST', '/mlflow/root_iris/invocations', { body: { instances: good }, headers: { Origin: 'https://evil.example' } });
      expect(foreign.status).toBe(403);
      expectShape('/mlflow/', foreign.body, /origin/);
      // Generated bodies: whatever they hold, a 4xx in the protocol's shape.
      const paths = ['/v1/models/root_iris:predict', '/v2/models/root_iris/infer', '/mlflow/root_iris/invocations'];
      const bodies = fc.sample(
        fc.tuple(
          fc.constantFrom(...paths),
          fc.oneof(
            fc.jsonValue(),
            fc.record({ instances: fc.jsonValue() }),
            fc.record({ inputs: fc.array(fc.record({ name: fc.constantFrom('X', 'Y'), shape: fc.jsonValue(), datatype: fc.constantFrom('FP32', 'BYTES'), data: fc.jsonValue() })) }),
            fc.record({ dataframe_split: fc.record({ columns: fc.jsonValue(), data: fc.jsonValue() }) }),
          ),
        ),
        runs(150),
      );
      for (const [path, body] of bodies) {
        const r = await post(path, body);
        expect(r.status === 200 || (r.status >= 400 && r.status < 500), `${path} ${JSON.stringify(body)} → ${r.status}`).toBe(true);
        if (r.status !== 200) expectShape(path, r.body, /./);
      }
      const after = await post('/v1/models/root_iris/versions/1:predict', { instances: good });
      expect(after.body.predictions[0].label).toBe(lr().label[0]);
    }, 300_000);

    it('reads a chunked body (no Content-Length) piece by piece: answered whole under the limit, cut off past it, and goes on answering', async () => {
      const small = createPredictServer({ models: served, http: reg.config.http, user: reg.config.user, secrets: reg.config.secrets, oneModel: false, version: '0.0.0-test', maxBodyBytes: 2048 });
      const smallUrl = (await small.listen(0, '127.0.0.1')).url;
      try {
        const chunked = (text: string, pieces: number) =>
          new Promise<{ status: number; body: string } | Error>((resolve) => {
            const u = new URL(`${smallUrl}/mlflow/root_iris/invocations`);
            const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
              res.on('error', resolve);
            });
            req.on('error', resolve);
            const size = Math.ceil(text.length / pieces);
            for (let i = 0; i < text.length; i += size) req.write(text.slice(i, i + size));
            req.end();
          });
        const rows = lr().rows;
        // Padded with spaces to several pieces, still under 2048 bytes: the pieces are joined in order.
        const ok = await chunked(JSON.stringify({ instances: rows.slice(0, 3) }).padEnd(1500, ' '), 7);
        expect(ok).toMatchObject({ status: 200 });
        expect((JSON.parse((ok as { body: string }).body) as { predictions: { label: number }[] }).predictions.map((p) => p.label)).toEqual(lr().label.slice(0, 3));
        // Past the limit with no length declared: a 413 if it gets out before the cut, else the connection is cut; never a crash.
        const big = await chunked(JSON.stringify({ instances: rows.slice(0, 3) }).padEnd(64 * 1024, ' '), 32);
        if (!(big instanceof Error)) {
          expect(big.status).toBe(413);
          expect(JSON.parse(big.body)).toMatchObject({ error_code: 'BAD_REQUEST', message: expect.stringMatching(/larger than 2048/) });
        }
        const after = await call({ url: smallUrl }, 'POST', '/mlflow/root_iris/invocations', { body: { instances: rows.slice(0, 1) } });
        expect(after.status).toBe(200);
      } finally {
        await small.close();
      }
    }, 120_000);

    it('follows deploy and stop: a racing deploy never answers from a half-copied version; stop unloads', async () => {
      // Requests run while a third version (C=1 again) is deployed: each answer is version 2's or version 3's, never an error.
      let racing = true;
      const answers: Reply[] = [];
      const loop = (async () => {
        while (racing) answers.push(await post('/v1/models/root_iris:predict', { instances: lr().rows }));
      })();
      await run(`mlmodel import name=iris type=onnx path=${tar('iris_lr')}`);
      await run("mlmodel deploy iris label='canary'");
      // AVAILABLE, not just listed: the status answers 200 with state LOADING while the version loads (TF Serving's shape).
      await waitFor(async () => {
        const r = await get('/v1/models/root_iris/versions/3');
        return r.status === 200 && r.body.model_version_status[0]?.state === 'AVAILABLE';
      });
      racing = false;
      await loop;
      expect(answers.length).toBeGreaterThan(0);
      for (const a of answers) {
        expect(a.status).toBe(200);
        const probs = a.body.predictions.map((p: { probabilities: number[] }) => p.probabilities);
        expect(close(probs, strong().probabilities) || close(probs, lr().probabilities)).toBe(true);
      }
      const now = await post('/v1/models/root_iris/labels/canary:predict', { instances: lr().rows });
      expect(close(now.body.predictions.map((p: { probabilities: number[] }) => p.probabilities), lr().probabilities)).toBe(true);
      expect((await target.readModelFile('root_iris', 'config.pbtxt'))!).toContain('versions: [ 1, 2, 3 ]');

      await run('mlmodel stop reg');
      await waitFor(async () => (await get('/v1/models/root_reg')).status === 404);
      expect((await post('/v2/models/root_reg/infer', { inputs: [{ name: 'X', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] })).status).toBe(404);
      expect((await get('/v2/models/root_reg/ready')).body).toMatchObject({ ready: false });
      expect(await target.readModelFile('root_reg', 'config.pbtxt')).toBeNull();
      expect((await run('serving status reg')).rows.map((r) => r[1])).toEqual(['STOPPED']);
      // Deployed again: answered again, without a restart.
      await run('mlmodel deploy reg');
      await waitFor(async () => (await get('/v1/models/root_reg')).status === 200);
      expect((await get('/v1/models/root_reg')).body.model_version_status.map((s: { version: string }) => s.version)).toEqual(['2']);
    }, 120_000);

    it('marks FAILED, with the reason in serving status, a model ONNX Runtime cannot load', async () => {
      await run(`mlmodel import name=broken type=onnx path=${tar('unloadable')}`);
      await run('mlmodel deploy broken');
      await waitFor(async () => (await run('serving status broken')).rows[0]![1] === 'FAILED');
      const [row] = (await run('serving status broken')).rows;
      expect(row![4]).toMatch(/ONNX Runtime cannot load the model: .*NoSuchOperator/);
      // Marked FAILED in the registry, it leaves the server's table at its next look.
      await waitFor(async () => (await get('/v1/models/root_broken')).status === 404);
      expect((await post('/v1/models/root_broken:predict', { instances: [[1, 2, 3, 4]] })).body).toEqual({ error: 'no model root_broken is served here' });
      expect(await target.readModelFile('root_broken', 'config.pbtxt')).toBeNull();
      // The others are untouched.
      expect((await post('/v1/models/root_iris/versions/1:predict', { instances: lr().rows.slice(0, 1) })).status).toBe(200);
    }, 60_000);

    it('stop then delete of onnx models leave no version, no config.pbtxt, and nothing for fsck', async () => {
      for (const name of ['broken', 'reg']) {
        await run(`mlmodel stop ${name}`).catch(() => undefined);
        await run(`mlmodel delete ${name}`);
      }
      for (const name of ['root_broken', 'root_reg']) {
        expect(await target.readModelFile(name, 'config.pbtxt')).toBeNull();
        expect((await target.listVersions()).filter((v) => v.servingName === name)).toEqual([]);
      }
      await waitFor(async () => (await get('/v1/models/root_reg')).status === 404);
      expect((await run('mlmodel fsck')).rows).toEqual([]);
      expect((await run('serving status iris')).rows.map((r) => r[1])).toEqual(['AVAILABLE', 'AVAILABLE', 'AVAILABLE']);
    }, 60_000);
  });
}

function expectShape(path: string, body: unknown, message: RegExp): void {
  if (path.startsWith('/mlflow/')) expect(body).toEqual({ error_code: expect.stringMatching(/^[A-Z_]+$/), message: expect.stringMatching(message) });
  else expect(body).toEqual({ error: expect.stringMatching(message) });
}

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
