/**
 * The Python tracking client (notebook/src/mlmodel_magic/tracking.py) in a
 * real virtualenv with scikit-learn, against a real HTTP server on a socket
 * (the server `mlmodel serve` runs, with tokens): a small SGDClassifier
 * training loop on iris logs its epochs; then the registry is asked what
 * arrived, and the bad inputs must have written nothing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedPython } from '../notebook/python-env.js';
import { startHarness, TOKENS, type Harness } from '../http/harness.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const REQUIREMENTS = new URL('./python-requirements.txt', import.meta.url).pathname;
const SCRIPT = new URL('./train_iris.py', import.meta.url).pathname;

let python: string | null = null;
let unavailable: Error | null = null;
let h: Harness;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the script's JSON report, asserted below
let report: any;

beforeAll(async () => {
  try {
    python = await cachedPython({ name: 'tracking-sklearn', requirements: REQUIREMENTS, what: 'scikit-learn, IPython' }, (m) => process.stderr.write(`[tracking] ${m}\n`));
  } catch (e) {
    unavailable = e as Error;
    if (process.env.CI === 'true') throw e;
    process.stderr.write(`[tracking] SKIPPING the Python client test: ${unavailable.message}\n`);
    return;
  }
  h = await startHarness();
  const { stdout } = await run(python, [SCRIPT], {
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: `${ROOT}notebook/src`, MLMODEL_URL: h.url, ALICE_TOKEN: TOKENS.alice, BOB_TOKEN: TOKENS.bob },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@REPORT@@'));
  if (!line) throw new Error(`no report from the training script:\n${stdout}`);
  report = JSON.parse(line.slice('@@REPORT@@'.length));
}, 600_000);

afterAll(async () => {
  await h?.close();
});

describe('the Python tracking client against mlmodel serve', () => {
  it('logs a real scikit-learn training loop, epoch by epoch, and ends the run FINISHED', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const t = await h.registry.run(`mlmodel runs iris | where id = ${report.run}`, { user: 'alice' });
    const row = Object.fromEntries(t.columns.map((c, i) => [c.name, t.rows[0]![i]]));
    expect(row).toMatchObject({ experiment: 'iris', name: 'sgd', user: 'alice', status: 'FINISHED', last_step: 14 });
    expect(row.params).toMatchObject({ epochs: 15, learning_rate: 'optimal', steps: 1, verbose: 0, estimator: 'SGDClassifier', loss: 'log_loss', alpha: 0.001 });
    expect(row.tags).toEqual({ model: 'sgd' });
    const metrics = row.metrics as Record<string, number>;
    expect(Object.keys(metrics).sort()).toEqual(['accuracy', 'loss', 'test_score', 'train_accuracy']);
    expect(metrics.test_score).toBeCloseTo(report.score, 12);
    // The history the script read back is the one the store holds: 15 epochs, real accuracies.
    const history = await h.registry.run(`mlmodel metric ${report.run} accuracy`, { user: 'bob' });
    expect(history.rows.map((r) => r[0])).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(history.rows.map((r) => r[1])).toEqual(report.history);
    expect((history.rows.map((r) => r[1]) as number[]).every((a) => a >= 0 && a <= 1)).toBe(true);
    expect(metrics.accuracy).toBe(report.history.at(-1));
    const loss = await h.registry.run(`mlmodel metric ${report.run} loss`, { user: 'alice' });
    expect((loss.rows.map((r) => r[1]) as number[]).every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  });

  it('ends a run FAILED when its with-block raises', async (ctx) => {
    if (!python) return ctx.skip(`no Python: ${unavailable?.message}`);
    const t = await h.registry.run(`mlmodel runs | where id = ${report.crashed} | fields status, last_step`, { user: 'alice' });
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
    expect(e.bobs_write.slice(0, 2)).toEqual(['NOT_FOUND', 404]);
    expect(e.bobs_write[2]).toMatch(/is alice's/);
    expect(e.bobs_end.slice(0, 2)).toEqual(['NOT_FOUND', 404]);
    expect(e.param_changed.slice(0, 2)).toEqual(['CONFLICT', 409]);
    const other = await h.registry.run(`mlmodel runs | where id = ${report.other} | fields status, last_step, metrics, params`, { user: 'alice' });
    expect(other.rows).toEqual([['RUNNING', null, {}, { alpha: 0.1 }]]);
    expect((await h.registry.run(`mlmodel metric ${report.run} loss`, { user: 'alice' })).rows).toHaveLength(15);
    // Bob reads alice's runs.
    expect(report.bob_reads).toEqual(expect.arrayContaining([report.run, report.other]));
  });
});
