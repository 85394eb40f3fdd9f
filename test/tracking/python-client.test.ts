/**
 * The Python tracking client (notebook/src/mlmodel_magic/tracking.py) in a
 * real virtualenv with scikit-learn, against a real `mlmodel serve`: the
 * built CLI (dist/) spawned on a free loopback port with bearer tokens for
 * alice and bob. A small SGDClassifier training loop on iris logs its epochs
 * (a context-managed run, the Keras-style callback's protocol, the
 * scikit-learn helper), a second run changes alpha; then the server is asked
 * in the language (`runs`, `metric`, `compare` over POST /query) what
 * arrived, and the bad inputs must have written nothing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedPython } from '../notebook/python-env.js';
import { CLI } from '../support/cli-process.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const REQUIREMENTS = new URL('./python-requirements.txt', import.meta.url).pathname;
const SCRIPT = new URL('./train_iris.py', import.meta.url).pathname;
const TOKENS = { alice: 'alice-tracking-token-0123456789ab', bob: 'bob-tracking-token-0123456789abcd' } as const;

let python: string | null = null;
let unavailable: Error | null = null;
let serve: ChildProcess | null = null;
let serveExit: Promise<number | null> | null = null;
let serveLog = '';
let url = '';
let home = '';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the script's JSON report, asserted below
let report: any;

/** Starts `mlmodel serve --port 0` on a fresh home and waits for the URL it prints. */
async function startServe(): Promise<void> {
  home = mkdtempSync(join(tmpdir(), 'mlmodel-tracking-py-'));
  writeFileSync(join(home, 'config.yaml'), `user: root\nhttp:\n  tokens:\n    ${TOKENS.alice}: alice\n    ${TOKENS.bob}: bob\n`);
  const env = { PATH: process.env.PATH ?? '', HOME: home, MLMODEL_HOME: join(home, 'home'), MLMODEL_CONFIG: join(home, 'config.yaml'), TZ: 'UTC' };
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  serve = child;
  serveExit = new Promise((r) => child.on('close', (code) => r(code)));
  child.stderr.on('data', (d) => (serveLog += d));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mlmodel serve printed no URL; stderr: ${serveLog}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('close', (code) => reject(new Error(`mlmodel serve exited (${code}) before listening: ${serveLog}`)));
  });
}

interface Table {
  names: string[];
  rows: unknown[][];
}

/** One statement of the language, run by the spawned server as `user`. */
async function query(q: string, user: keyof typeof TOKENS): Promise<Table> {
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKENS[user]}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ q }),
  });
  const body = (await res.json()) as { fields: { name: string }[]; results: unknown[][] };
  if (res.status !== 200) throw new Error(`${q}: ${res.status} ${JSON.stringify(body)}`);
  return { names: body.fields.map((f) => f.name), rows: body.results };
}
const record = (t: Table, i = 0) => Object.fromEntries(t.names.map((n, j) => [n, t.rows[i]![j]]));

beforeAll(async () => {
  try {
    python = await cachedPython({ name: 'tracking-sklearn', requirements: REQUIREMENTS, what: 'scikit-learn, IPython' }, (m) => process.stderr.write(`[tracking] ${m}\n`));
  } catch (e) {
    unavailable = e as Error;
    if (process.env.CI === 'true') throw e;
    process.stderr.write(`[tracking] SKIPPING the Python client test: ${unavailable.message}\n`);
    return;
  }
  await startServe();
  const { stdout } = await run(python, [SCRIPT], {
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: `${ROOT}notebook/src`, MLMODEL_URL: url, ALICE_TOKEN: TOKENS.alice, BOB_TOKEN: TOKENS.bob },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@REPORT@@'));
  if (!line) throw new Error(`no report from the training script:\n${stdout}`);
  report = JSON.parse(line.slice('@@REPORT@@'.length));
}, 600_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGTERM');
  if (serveExit) expect(await serveExit).toBe(0);
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('the Python tracking client against a spawned mlmodel serve', () => {
  it('logs a real scikit-learn training loop, epoch by epoch, and ends the run FINISHED', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const row = record(await query(`mlmodel runs iris | where id = ${report.run}`, 'alice'));
    expect(row).toMatchObject({ experiment: 'iris', name: 'sgd', user: 'alice', status: 'FINISHED', last_step: 14, idle: null, stale: null });
    expect(row.params).toMatchObject({ epochs: 15, learning_rate: 'optimal', steps: 1, verbose: 0, estimator: 'SGDClassifier', loss: 'log_loss', alpha: 0.001 });
    expect(row.tags).toEqual({ model: 'sgd' });
    const metrics = row.metrics as Record<string, number>;
    expect(Object.keys(metrics).sort()).toEqual(['accuracy', 'loss', 'test_score', 'train_accuracy']);
    expect(metrics.test_score).toBeCloseTo(report.score, 12);
    // The history the script read back is the one the store holds: 15 epochs, real accuracies.
    const history = await query(`mlmodel metric ${report.run} accuracy`, 'bob');
    expect(history.rows.map((r) => r[0])).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(history.rows.map((r) => r[1])).toEqual(report.history);
    expect((history.rows.map((r) => r[1]) as number[]).every((a) => a >= 0 && a <= 1)).toBe(true);
    expect(metrics.accuracy).toBe(report.history.at(-1));
    const loss = await query(`mlmodel metric ${report.run} loss`, 'alice');
    expect(loss.rows.map((r) => r[1])).toEqual(report.losses);
    expect(metrics.loss).toBe(report.losses.at(-1));
  });

  it('compares the two runs: alpha marked changed, each metric\'s last and best value from the epochs logged', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const t = await query(`mlmodel compare ${report.run}, ${report.strong}`, 'bob');
    expect(t.names).toEqual(['field', String(report.run), String(report.strong), 'changed']);
    const rows = new Map(t.rows.map((r) => [r[0] as string, r.slice(1)]));
    expect(rows.get('params.alpha')).toEqual([0.001, 0.01, true]);
    expect(rows.get('params.epochs')).toEqual([15, 15, false]);
    expect(rows.get('params.estimator')).toEqual(['SGDClassifier', 'SGDClassifier', false]);
    expect(rows.get('status')).toEqual(['FINISHED', 'FINISHED', false]);
    expect(rows.get('last_step')).toEqual([14, 14, false]);
    // loss is best at its lowest, accuracy at its highest.
    expect(rows.get('metrics.loss.last')!.slice(0, 2)).toEqual([report.losses.at(-1), report.strong_losses.at(-1)]);
    expect(rows.get('metrics.loss.best')!.slice(0, 2)).toEqual([Math.min(...report.losses), Math.min(...report.strong_losses)]);
    expect(rows.get('metrics.accuracy.best')![0]).toBe(Math.max(...report.history));
    expect(rows.get('metrics.test_score.last')!.slice(0, 2)).toEqual([report.score, report.strong_score]);
    // Only the first run has the callback's training params and train_accuracy: a field one lacks differs.
    expect(rows.get('params.steps')).toEqual([1, null, true]);
    expect(rows.get('metrics.train_accuracy.last')![1]).toBeNull();
    // The listing's search runs on what was logged: the stronger alpha, sorted by its final loss.
    const found = await query('mlmodel runs iris | where params.alpha >= 0.001 and status = FINISHED | sort metrics.loss | fields id, params', 'alice');
    const byLoss = [report.run, report.strong].sort((a, b) => (a === report.run ? report.losses.at(-1) : report.strong_losses.at(-1)) - (b === report.run ? report.losses.at(-1) : report.strong_losses.at(-1)));
    expect(found.rows.map((r) => r[0])).toEqual(byLoss);
  });

  it('sends every request on one kept-alive connection, and opens another once the server has closed an idle one or it has been idle 4 s', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    expect(report.opened).toBe(1);
    expect(report.opened_after_idle).toBe(2);
    expect(report.opened_after_4s).toBe(3);
    // The requests after the idle spells were not lost: they are the points the other run holds.
    const t = await query(`mlmodel metric ${report.other} loss`, 'alice');
    expect(t.rows.map((r) => [r[0], r[1]])).toEqual([
      [3, 0.25],
      [4, 0.125],
    ]);
    expect(report.unreachable[0]).toBe('UNREACHABLE');
    expect(report.unreachable[1]).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1: .*refused/i);
    expect(report.silent[0]).toBe('TIMEOUT');
    expect(report.silent[1]).toMatch(/did not answer within 0\.5 s/);
  });

  it('ends a run FAILED when its with-block raises', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const t = await query(`mlmodel runs | where id = ${report.crashed} | fields status, last_step`, 'alice');
    expect(t.rows).toEqual([['FAILED', 0]]);
  });

  it('gets a clear error for each bad input, and none of them wrote anything', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const e = report.errors;
    expect(e.ended_twice.slice(0, 2)).toEqual(['CONFLICT', 409]);
    expect(e.log_after_end.slice(0, 2)).toEqual(['CONFLICT', 409]);
    expect(e.nan[0]).toBe('ValueError');
    expect(e.nan[2]).toMatch(/not a finite number/);
    expect(e.infinity[0]).toBe('ValueError');
    expect(e.text_value.slice(0, 2)).toEqual(['INVALID_ARGUMENT', 400]);
    expect(e.text_value[2]).toMatch(/"0.5" is not a number/);
    expect(e.fractional_step.slice(0, 2)).toEqual(['INVALID_ARGUMENT', 400]);
    expect(e.bad_key.slice(0, 2)).toEqual(['INVALID_ARGUMENT', 400]);
    // Another user's run is 403 over HTTP, as another user's model is (the console says NOT_FOUND).
    expect(e.bobs_write.slice(0, 2)).toEqual(['FORBIDDEN', 403]);
    expect(e.bobs_write[2]).toMatch(/belongs to alice/);
    expect(e.bobs_end.slice(0, 2)).toEqual(['FORBIDDEN', 403]);
    expect(e.param_changed.slice(0, 2)).toEqual(['CONFLICT', 409]);
    const other = await query(`mlmodel runs | where id = ${report.other} | fields status, last_step, metrics, params`, 'alice');
    // The only points that reached it are the two logged after the idle spells (below).
    expect(other.rows).toEqual([['RUNNING', 4, { loss: 0.125 }, { alpha: 0.1 }]]);
    expect((await query(`mlmodel metric ${report.run} loss`, 'alice')).rows).toHaveLength(15);
    // Bob reads alice's runs.
    expect(report.bob_reads).toEqual(expect.arrayContaining([report.run, report.strong, report.other]));
    // The server logged each request under its token's user and printed no token.
    expect(serveLog).toMatch(/POST \/runs 200 \d+ms user=alice\n/);
    expect(serveLog).not.toContain(TOKENS.alice);
    expect(serveLog).not.toContain(TOKENS.bob);
  });
});
