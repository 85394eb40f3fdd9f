import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../src/engine/registry.js';
import { TOKENS } from '../http/harness.js';
import { close, realModels, type RealModels } from './real-models.js';
import { servedHome } from './served-home.js';

/**
 * `mlmodel serve --predict-workers N`: the prediction port answered by N
 * node:cluster workers sharing one socket (console/serve/predict-workers.ts),
 * each its own process with its own ONNX Runtime sessions. Started as a
 * person starts it (the CLI in a child process), with real scikit-learn
 * models; every request goes on a connection of its own, so the kernel hands
 * it to any worker, and the X-Mlmodel-Worker header says which one answered.
 */
const CLI = join(process.cwd(), 'dist', 'console', 'cli.js');
let models: RealModels;
let root: string;
let configFile: string;
let registry: Registry;
const children: ChildProcess[] = [];

beforeAll(async () => {
  models = await realModels();
  ({ root, configFile, registry } = await servedHome(models, 'mlmodel-serve-workers-'));
  await registry.run('mlmodel alias iris@1 champion');
}, 900_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await registry?.close();
});

interface Server {
  readonly child: ChildProcess;
  /** The prediction port's URL. */
  readonly url: string;
  stderr(): string;
}

/** Starts `mlmodel serve …` and waits for `listening on`; the prediction URL is the one stderr names (or, with --model, the listening one). */
async function start(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args, '--home', join(root, 'home'), '--config', configFile], { env: { ...process.env, HOME: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const end = Date.now() + 120_000;
  while (!/listening on (\S+)/.test(out)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`serve did not start (${child.exitCode}): ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /predictions on (\S+)/.exec(err)?.[1] ?? /listening on (\S+)/.exec(out)![1]!;
  return { child, url, stderr: () => err };
}

interface Answer {
  readonly status: number;
  readonly worker: string | undefined;
  readonly body: unknown;
}

/** One request on a connection of its own (agent: false): whichever worker accepts it answers. */
function ask(url: string, method: string, path: string, opts: { token?: keyof typeof TOKENS; body?: unknown } = {}): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url + path,
      {
        method,
        agent: false,
        headers: { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...(opts.token ? { Authorization: `Bearer ${TOKENS[opts.token]}` } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const json = (res.headers['content-type'] ?? '').startsWith('application/json');
          resolve({ status: res.statusCode!, worker: res.headers['x-mlmodel-worker'] as string | undefined, body: json ? JSON.parse(text) : text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Asks until every worker 1…n has answered `accept`ably; returns each worker's answer. Fails after `ms`. */
async function fromEvery(n: number, send: () => Promise<Answer>, accept: (a: Answer) => boolean, ms = 30_000): Promise<Map<string, Answer>> {
  const seen = new Map<string, Answer>();
  const end = Date.now() + ms;
  while (seen.size < n) {
    if (Date.now() > end) throw new Error(`only workers ${[...seen.keys()].join(', ')} of ${n} answered as expected`);
    const a = await send();
    if (a.worker !== undefined && accept(a)) seen.set(a.worker, a);
  }
  return seen;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopped(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('mlmodel serve --model NAME --predict-workers N', () => {
  it('answers from every worker, each with scikit-learn predictions; the alias pins one version for all', async () => {
    const s = await start(['--model', 'iris@champion', '--port', '0', '--predict-workers', '3']);
    expect(s.stderr()).toContain('iris alone');
    expect(s.stderr()).toContain('from 3 worker processes');
    const lr = models.expected.iris_lr;
    const answers = await fromEvery(
      3,
      () => ask(s.url, 'POST', '/invocations', { token: 'bob', body: { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: lr.rows } } }),
      (a) => a.status === 200,
    );
    const bodies = [...answers.values()].map((a) => a.body as { predictions: { label: number; probabilities: number[] }[] });
    for (const b of bodies) {
      expect(b.predictions.map((p) => p.label)).toEqual(lr.label);
      expect(close(b.predictions.map((p) => p.probabilities), lr.probabilities)).toBe(true);
      // The same session options and input in every process: the same float32 answers, to the last bit.
      expect(b).toEqual(bodies[0]);
    }
    // The alias is every worker's label; tokens are the config's in every worker.
    await fromEvery(3, () => ask(s.url, 'GET', '/v1/models/iris/labels/champion', { token: 'alice' }), (a) => a.status === 200);
    await fromEvery(3, () => ask(s.url, 'GET', '/ping'), (a) => a.status === 401);
    s.child.kill('SIGTERM');
    expect(await stopped(s.child)).toBe(0);
  }, 180_000);

  it('refuses a worker count out of range, and --predict-workers without a prediction port', async () => {
    for (const args of [['--model', 'iris', '--predict-workers', '0'], ['--model', 'iris', '--predict-workers', 'two'], ['--predict-workers', '2']]) {
      const c = spawn(process.execPath, [CLI, 'serve', ...args, '--home', join(root, 'home'), '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      expect(await stopped(c)).toBe(2);
      expect(err).toMatch(/--predict-workers (must be a number from 1 to 256|answers predictions: give it with --predict-port N or --model REF)/);
    }
  }, 60_000);
});

describe('mlmodel serve --predict-port N --predict-workers N', () => {
  it('follows a deploy and a stop made after start in every worker, replaces a killed worker, and SIGTERM stops them all', async () => {
    const s = await start(['--port', '0', '--predict-port', '0', '--predict-workers', '2']);
    expect(s.stderr()).toMatch(/predictions on \S+ from 2 worker processes/);
    const lr = models.expected.iris_lr;
    const infer = (name: string, data: number[][], width: number) => () =>
      ask(s.url, 'POST', `/v2/models/${name}/infer`, { token: 'bob', body: { inputs: [{ name: 'X', shape: [data.length, width], datatype: 'FP32', data: data.flat() }] } });
    const first = await fromEvery(2, infer('root_iris', lr.rows, 4), (a) => a.status === 200);
    for (const a of first.values()) expect((a.body as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual(lr.label);
    expect((await ask(s.url, 'POST', '/v2/models/root_iris/infer', { body: {} })).status).toBe(401);

    // A model deployed now: every worker loads it (whole) and answers it, without a restart.
    const reg = models.expected.iris_reg;
    await registry.run(`mlmodel import name=reg type=onnx path=${join(models.dir, 'iris_reg.tar')}`);
    await registry.run('mlmodel deploy reg');
    const deployed = await fromEvery(2, infer('root_reg', reg.rows, 3), (a) => a.status === 200);
    for (const a of deployed.values()) expect(close((a.body as { outputs: { data: number[] }[] }).outputs[0]!.data, reg.variable)).toBe(true);

    // Stopped: each worker unloads it, and none answers it any more.
    await registry.run('mlmodel stop reg');
    await waitFor('both workers to unload root_reg', () => (s.stderr().match(/^worker \d: unloaded root_reg\/1$/gm) ?? []).length === 2);
    await fromEvery(2, infer('root_reg', reg.rows, 3), (a) => a.status === 404);

    // A worker killed: another takes its number and its place, loading what is deployed now.
    const pid = Number(/^worker 2 \(pid (\d+)\) answering/m.exec(s.stderr())![1]);
    process.kill(pid, 'SIGKILL');
    await waitFor('worker 2 to be replaced', () => /^worker 2 \(pid \d+\) exited \(SIGKILL\); starting another$/m.test(s.stderr()) && (s.stderr().match(/^worker 2 \(pid \d+\) answering/gm) ?? []).length === 2);
    const replacement = Number([...s.stderr().matchAll(/^worker 2 \(pid (\d+)\) answering/gm)].pop()![1]);
    expect(replacement).not.toBe(pid);
    const again = await fromEvery(2, infer('root_iris', lr.rows, 4), (a) => a.status === 200);
    expect((again.get('2')!.body as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual(lr.label);

    const pids = [...s.stderr().matchAll(/^worker \d \(pid (\d+)\) answering/gm)].map((m) => Number(m[1]));
    s.child.kill('SIGTERM');
    expect(await stopped(s.child)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(s.stderr()).not.toMatch(/exited \(status 0\); starting another/);
  }, 240_000);
});
