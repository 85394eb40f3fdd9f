/**
 * The Python tracking client (notebook/src/mlmodel_magic/tracking.py) in a
 * real virtualenv with scikit-learn, two ways: `Tracker` against a real
 * `mlmodel serve` (the built CLI, dist/, spawned on a free loopback port with
 * bearer tokens for alice and bob), and `CliTracker` running the built CLI
 * itself on a throwaway MLMODEL_HOME. A small SGDClassifier training loop on
 * iris logs its epochs (a context-managed run, the Keras-style callback's
 * protocol, the scikit-learn helper), a second run changes alpha; then the
 * registry is asked in the language (`runs`, `metric`, `compare`: over
 * POST /query, or through the CLI) what arrived, and the bad inputs must have
 * written nothing.
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
let cliHome = '';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the script's JSON report, asserted below
let report: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the same script's report through the CLI
let cliReport: any;

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

/** One statement run by the built CLI on the CliTracker's registry (times come back as ISO text, as over HTTP). */
async function cliQuery(q: string): Promise<Table> {
  const { stdout } = await run(process.execPath, [CLI, '--home', cliHome, '--format', 'json', '-c', q], { env: cliEnv() });
  const body = JSON.parse(stdout) as { columns: { name: string }[]; rows: unknown[][] };
  return { names: body.columns.map((c) => c.name), rows: body.rows };
}
const cliEnv = () => ({ PATH: process.env.PATH ?? '', HOME: cliHome, MLMODEL_HOME: cliHome, TZ: 'UTC' });

/** The script's report of one mode, and how to ask that mode's registry. */
interface Mode {
  readonly report: () => typeof report;
  readonly ask: (q: string, user: keyof typeof TOKENS) => Promise<Table>;
}
const MODES: Record<'http' | 'cli', Mode> = {
  http: { report: () => report, ask: query },
  cli: { report: () => cliReport, ask: (q) => cliQuery(q) },
};

/** Runs the training script with this environment; its report. */
async function trainingReport(env: Record<string, string>): Promise<unknown> {
  const { stdout } = await run(python!, [SCRIPT], {
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: `${ROOT}notebook/src`, ...env },
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@REPORT@@'));
  if (!line) throw new Error(`no report from the training script:\n${stdout}`);
  return JSON.parse(line.slice('@@REPORT@@'.length));
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
  cliHome = mkdtempSync(join(tmpdir(), 'mlmodel-tracking-cli-'));
  // The CLI command as the client splits it (shlex): each path quoted.
  const cli = [process.execPath, CLI].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  [report, cliReport] = await Promise.all([
    trainingReport({ MLMODEL_URL: url, ALICE_TOKEN: TOKENS.alice, BOB_TOKEN: TOKENS.bob }),
    trainingReport({ TRACKING_MODE: 'cli', MLMODEL_CLI: cli, ...cliEnv() }),
  ]);
}, 600_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGTERM');
  if (serveExit) expect(await serveExit).toBe(0);
  if (home) rmSync(home, { recursive: true, force: true });
  if (cliHome) rmSync(cliHome, { recursive: true, force: true });
});

for (const [mode, { report: reportOf, ask }] of Object.entries(MODES)) {
  describe(`the Python tracking client, ${mode === 'http' ? 'Tracker against a spawned mlmodel serve' : 'CliTracker through the built CLI'}`, () => {
    it('logs a real scikit-learn training loop, epoch by epoch, and ends the run FINISHED', async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const report = reportOf();
      const row = record(await ask(`mlmodel runs iris | where id = ${report.run}`, 'alice'));
      expect(row).toMatchObject({ experiment: 'iris', name: 'sgd', user: 'alice', status: 'FINISHED', last_step: 14, idle: null, stale: null });
      expect(row.params).toMatchObject({ epochs: 15, learning_rate: 'optimal', steps: 1, verbose: 0, estimator: 'SGDClassifier', loss: 'log_loss', alpha: 0.001 });
      expect(row.tags).toEqual({ model: 'sgd' });
      const metrics = row.metrics as Record<string, number>;
      expect(Object.keys(metrics).sort()).toEqual(['accuracy', 'loss', 'test_score', 'train_accuracy']);
      expect(metrics.test_score).toBeCloseTo(report.score, 12);
      // The history the script read back is the one the store holds: 15 epochs, real accuracies.
      const history = await ask(`mlmodel metric ${report.run} accuracy`, 'bob');
      expect(history.rows.map((r) => r[0])).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(history.rows.map((r) => r[1])).toEqual(report.history);
      expect((history.rows.map((r) => r[1]) as number[]).every((a) => a >= 0 && a <= 1)).toBe(true);
      expect(metrics.accuracy).toBe(report.history.at(-1));
      const loss = await ask(`mlmodel metric ${report.run} loss`, 'alice');
      expect(loss.rows.map((r) => r[1])).toEqual(report.losses);
      expect(metrics.loss).toBe(report.losses.at(-1));
    });

    it("compares the two runs: alpha marked changed, each metric's last and best value from the epochs logged", async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const report = reportOf();
      const t = await ask(`mlmodel compare ${report.run}, ${report.strong}`, 'bob');
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
      const found = await ask('mlmodel runs iris | where params.alpha >= 0.001 and status = FINISHED | sort metrics.loss | fields id, params', 'alice');
      const last = (id: number) => (id === report.run ? report.losses.at(-1) : report.strong_losses.at(-1));
      expect(found.rows.map((r) => r[0])).toEqual([report.run, report.strong].sort((a, b) => last(a) - last(b)));
    });

    it('ends a run FAILED when its with-block raises', async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const t = await ask(`mlmodel runs | where id = ${reportOf().crashed} | fields status, last_step`, 'alice');
      expect(t.rows).toEqual([['FAILED', 0]]);
    });

    it('gets a clear error for each bad input, and none of them wrote anything', async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const report = reportOf();
      const e = report.errors;
      // The registry's refusals: a QueryError with the code (and over HTTP the status) the server answers with.
      const status = (s: number) => (mode === 'http' ? s : null);
      expect(e.ended_twice.slice(0, 2)).toEqual(['CONFLICT', status(409)]);
      expect(e.log_after_end.slice(0, 2)).toEqual(['CONFLICT', status(409)]);
      // Another user's run: 403 over HTTP, as another user's model is; the console's NOT_FOUND through the CLI.
      expect(e.bobs_write.slice(0, 2)).toEqual(mode === 'http' ? ['FORBIDDEN', 403] : ['NOT_FOUND', null]);
      expect(e.bobs_write[2]).toMatch(mode === 'http' ? /belongs to alice/ : /is alice's/);
      expect(e.bobs_end.slice(0, 2)).toEqual(mode === 'http' ? ['FORBIDDEN', 403] : ['NOT_FOUND', null]);
      expect(e.param_changed.slice(0, 2)).toEqual(['CONFLICT', status(409)]);
      expect(e.bad_param_name.slice(0, 2)).toEqual(['INVALID_ARGUMENT', status(400)]);
      expect(e.bad_param_name[2]).toBe('param name "learning rate" is not allowed: a letter or _ then up to 63 letters, digits, _ or -');
      expect(e.option_named_param).toEqual(['INVALID_ARGUMENT', status(400), 'a param cannot be called name here: experiment, name, status are options of mlmodel run']);
      // The client's own checks, before anything is sent: NaN, Infinity, text, booleans, a bad metric name.
      expect(e.nan[0]).toBe('ValueError');
      expect(e.nan[2]).toMatch(/not a finite number/);
      expect(e.infinity[0]).toBe('ValueError');
      expect(e.text_value).toEqual(['ValueError', null, "metric loss: '0.5' is not a number (give an int or a float; text and booleans are refused)"]);
      expect(e.bool_value).toEqual(['ValueError', null, 'metric converged: True is not a number (give an int or a float; text and booleans are refused)']);
      expect(e.numpy_bool_value[0]).toBe('ValueError');
      expect(e.numpy_bool_value[2]).toMatch(/^metric converged: .* is not a number/);
      expect(e.bad_key).toEqual(['ValueError', null, 'metric name "val loss" is not allowed: a letter or _ then up to 63 letters, digits, _ or -']);
      const other = await ask(`mlmodel runs | where id = ${report.other} | fields status, metrics, params`, 'alice');
      // Over HTTP the only points that reached it are the two logged after the idle spells (below); through the CLI none.
      expect(other.rows).toEqual([['RUNNING', mode === 'http' ? { loss: 0.125 } : {}, { alpha: 0.1 }]]);
      expect((await ask(`mlmodel metric ${report.run} loss`, 'alice')).rows).toHaveLength(15);
      // Bob reads alice's runs.
      expect(report.bob_reads).toEqual(expect.arrayContaining([report.run, report.strong, report.other]));
    });

    it('checks a whole batch before its first request, and says how many points were written when a later request fails', async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const report = reportOf();
      expect(report.errors.nan_at_700).toEqual(['ValueError', null, 'metric loss: nan is not a finite number (mlmodel refuses NaN and Infinity)']);
      // The second try: the server refuses the second request's point 700 (`__proto__`); the first 500 points stay.
      const [code, message, written] = report.partial;
      expect(code).toBe('INVALID_ARGUMENT');
      expect(written).toBe(500);
      expect(message).toMatch(/^metric name "__proto__" is not allowed.*; 500 of the batch's 1000 points were written before this failure$/);
      const loss = await ask(`mlmodel metric ${report.batch} loss`, 'alice');
      expect(loss.rows.map((r) => r[0])).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expect(loss.rows[499]![1]).toBe(1 / 500);
    });

    it('logs numpy scalars as numbers, and a Keras epoch with a NaN loss logs the rest with a warning', async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const report = reportOf();
      const t = record(await ask(`mlmodel runs batches | where id = ${report.batch} | fields metrics, last_step`, 'alice'));
      expect(t.metrics).toEqual({ loss: 1 / 500, np32: 0.25, np64: 0.125, npint: 3, accuracy: 0.75 });
      expect(t.last_step).toBe(1000);
      expect(report.keras_warnings).toEqual([
        'KerasCallback: epoch 1000: loss is nan, not a finite number; not logged',
        'KerasCallback: epoch 1000: val_loss is inf, not a finite number; not logged',
      ]);
      expect((await ask(`mlmodel metric ${report.batch} accuracy`, 'alice')).rows.map((r) => [r[0], r[1]])).toEqual([[1000, 0.75]]);
      expect((await ask(`mlmodel metric ${report.batch} loss | where step >= 500`, 'alice')).rows).toEqual([]);
    });

    it('sends text that needs quoting as it is: it comes back exactly, numbers and booleans as numbers and booleans', async (ctx) => {
      if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
      const report = reportOf();
      const row = record(await ask(`mlmodel runs batches | where id = ${report.batch} | fields tags, params, status`, 'alice'));
      expect(row.tags).toEqual(report.hostile);
      expect(row.params).toEqual({ comment: report.hostile.note, lr: 0.00001, epochs: 3, neg: -2.5, flag: false });
      // The hostile `; mlmodel run end 1` stayed text: run 1 ended as its with-block ended it, FINISHED, and this one too.
      expect(row.status).toBe('FINISHED');
      expect(report.hostile_back).toEqual({ tags: row.tags, params: row.params });
    });
  });
}

describe('the two trackers agree', () => {
  it("a refusal through the CLI is the same QueryError (code, message) as the server's", (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    // Both registries are fresh and the script starts its runs in the same order: the same ids, the same messages.
    expect(cliReport.run).toBe(report.run);
    // (Another user's run is the exception: FORBIDDEN over HTTP, NOT_FOUND from the console, checked above.)
    for (const name of ['ended_twice', 'log_after_end', 'param_changed', 'bad_param_name', 'option_named_param']) {
      expect([name, cliReport.errors[name][0], cliReport.errors[name][2]]).toEqual([name, report.errors[name][0], report.errors[name][2]]);
    }
  });
});

describe('the Python tracking client over HTTP only', () => {
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

  it("tells the server's refusals of what the client would not send", (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const e = report.errors;
    expect(e.server_text_value.slice(0, 2)).toEqual(['INVALID_ARGUMENT', 400]);
    expect(e.server_text_value[2]).toMatch(/"0.5" is not a number/);
    expect(e.fractional_step.slice(0, 2)).toEqual(['INVALID_ARGUMENT', 400]);
    // The server logged each request under its token's user and printed no token.
    expect(serveLog).toMatch(/POST \/runs 200 \d+ms user=alice\n/);
    expect(serveLog).not.toContain(TOKENS.alice);
    expect(serveLog).not.toContain(TOKENS.bob);
  });

  it('names the Tracker\'s user on every request: "user" in each POST body, ?user= on each GET', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const seen = report.seen as { method: string; path: string; query: Record<string, string[]>; body: Record<string, unknown> | null }[];
    const id = report.acting;
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /runs',
      `POST /runs/${id}/params`,
      `POST /runs/${id}/tags`,
      `POST /runs/${id}/metrics`,
      `GET /runs/${id}/metrics/loss`,
      'GET /runs',
      'GET /runs',
      `POST /runs/${id}/metrics`,
      `POST /runs/${id}/metrics`,
      `POST /runs/${id}/end`,
    ]);
    for (const r of seen) {
      if (r.method === 'POST') expect([r.path, r.body?.user]).toEqual([r.path, 'alice']);
      else expect([r.path, r.query.user]).toEqual([r.path, ['alice']]);
    }
    // The GET's own parameters are kept beside it.
    expect(seen[5]!.query).toEqual({ experiment: ['acting'], user: ['alice'] });
    // And the server took them: the run, its values and its reads are there, as alice's.
    expect(report.acting_history).toEqual([0.5]);
    expect(report.acting_listed).toEqual([id]);
    expect(report.acting_all_listed).toBe(true);
    const row = record(await query(`mlmodel runs acting | where id = ${id} | fields user, status, params, tags`, 'bob'));
    expect(row).toEqual({ user: 'alice', status: 'FINISHED', params: { alpha: 0.5, epochs: 2 }, tags: { who: 'alice' } });
  });

  it('says a request lost on the wire may have been carried out, and how many points were written before it', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const [code, message, written] = report.lost;
    expect(code).toBe('UNREACHABLE');
    expect(written).toBe(500);
    expect(message).toMatch(/; 500 of the batch's 1200 points were written before this failure \(the failed request, its points, may have been carried out too\)$/);
    // The relay dropped it without passing it on: exactly the first request's points are in the store.
    const t = await query(`mlmodel metric ${report.acting} val`, 'alice');
    expect(t.rows.map((r) => r[0])).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
