/**
 * The tracking commands end to end through a real registry, on one store
 * pair (the embedded and the server test files each run it): a training
 * walk-through, the push-down of `runs` held to an in-memory evaluation on
 * random stages, bad input with nothing half-written, ownership, a model
 * version naming its run, and charts.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ParseError } from '../../grammar/index.js';
import { loadConfig, type Env } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { applyRunStages } from '../../src/planner/runs.js';
import { parse } from '../../src/language.js';
import type { ResultTable } from '../../src/result/table.js';
import { openTrackingStore } from '../../src/tracking/open.js';
import { metadataStoreFor, objectStoreFor } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/objects.js';
import type { TrackingStore } from '../../src/tracking/store.js';
import { archives } from '../integration/archives.js';

const column = (t: ResultTable, name: string) => t.rows.map((r) => r[t.columns.findIndex((c) => c.name === name)]);

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isMlmodelError(e) || e instanceof ParseError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the query to fail');
}

export function trackingCommandsSuite(env: () => Promise<Env>): void {
  let reg: Registry;
  let tracking: TrackingStore;
  let closeMeta: () => Promise<void>;
  let objects: ObjectStore;
  const alice = (q: string) => reg.run(q, { user: 'alice' });
  const bob = (q: string) => reg.run(q, { user: 'bob' });

  beforeAll(async () => {
    const config = loadConfig(await env());
    reg = await openRegistry({ config });
    // A second, independent view of the same database, to look at what was (not) written.
    const meta = await metadataStoreFor(config);
    await meta.init();
    tracking = await openTrackingStore(config, meta);
    objects = await objectStoreFor(config);
    await objects.init();
    closeMeta = async () => {
      await objects.close();
      await tracking.close();
      await meta.close();
    };
  });
  afterAll(async () => {
    await reg?.close();
    await closeMeta?.();
  });

  it('starts, logs to and ends runs, and lists them with where/sort/head', async () => {
    const started = await alice('mlmodel run start experiment=mnist name=baseline lr=0.01 epochs=10 optimizer=sgd');
    expect(started.columns.map((c) => c.name)).toEqual(['id', 'experiment', 'name', 'user', 'status', 'start', 'end', 'params']);
    const id = started.rows[0]![0] as number;
    expect(started.rows[0]!.slice(1, 5)).toEqual(['mnist', 'baseline', 'alice', 'RUNNING']);
    expect(started.rows[0]![7]).toEqual({ lr: 0.01, epochs: 10, optimizer: 'sgd' });
    for (let step = 0; step < 5; step++) await alice(`mlmodel log metrics ${id} step=${step} loss=${1 / (step + 1)} acc=${0.5 + step / 10}`);
    await alice(`mlmodel log tags ${id} team=vision`);
    await alice(`mlmodel log params ${id} batch_size=64`);
    const fast = (await alice('mlmodel run start experiment=mnist name=fast lr=0.1 epochs=10')).rows[0]![0] as number;
    await alice(`mlmodel log metrics ${fast} step=0 loss=0.9 acc=0.95`);
    const other = (await bob('mlmodel run start experiment=iris lr=0.001')).rows[0]![0] as number;
    await bob(`mlmodel log metrics ${other} step=7 acc=0.97`);

    const listed = await alice('mlmodel runs mnist');
    expect(column(listed, 'id')).toEqual([id, fast]);
    expect(listed.rows[0]!.slice(7)).toEqual([4, expect.any(Date), expect.any(Number), false, { lr: 0.01, epochs: 10, optimizer: 'sgd', batch_size: 64 }, { loss: 0.2, acc: 0.9 }, { team: 'vision' }]);
    // The query: where on a param and a metric, sorted by the metric, limited.
    const best = await alice('mlmodel runs | where params.lr < 0.05 and metrics.acc > 0.85 | sort -metrics.acc | head 5');
    expect(column(best, 'id')).toEqual([other, id]);
    expect(column(await alice('mlmodel runs mnist, iris | where user = bob'), 'id')).toEqual([other]);

    const ended = await alice(`mlmodel run end ${id}`);
    expect(ended.rows[0]![4]).toBe('FINISHED');
    expect(ended.rows[0]![6]).toBeInstanceOf(Date);
    await alice(`mlmodel run end ${fast} status=FAILED`);
    expect(column(await alice('mlmodel runs mnist'), 'status')).toEqual(['FINISHED', 'FAILED']);
    expect(column(await alice('mlmodel runs mnist'), 'idle')).toEqual([null, null]);

    const history = await bob(`mlmodel metric ${id} loss`);
    expect(history.columns.map((c) => c.name)).toEqual(['step', 'value', 'time']);
    expect(history.rows.map((r) => [r[0], r[1]])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3],
      [3, 0.25],
      [4, 0.2],
    ]);
    const experiments = await alice('mlmodel experiments');
    expect(experiments.rows.map((r) => [r[0], r[3], r[4]])).toEqual([
      ['iris', 1, 1],
      ['mnist', 2, 0],
    ]);
  });

  it('shows a RUNNING run stale once its writer has sent nothing for the time stale= gives (10 minutes unless given)', async () => {
    // A second registry on the same stores whose clock the test moves: a writer that stops, and readers later on.
    let clock = Date.UTC(2030, 0, 1, 12, 0, 0);
    const timed = await openRegistry({ config: loadConfig(await env()), now: () => new Date(clock) });
    try {
      const as = (q: string) => timed.run(q, { user: 'alice' });
      const id = (await as('mlmodel run start experiment=stale-check name=writer')).rows[0]![0] as number;
      const quiet = (await as('mlmodel run start experiment=stale-check name=silent')).rows[0]![0] as number;
      const done = (await as('mlmodel run start experiment=stale-check name=done')).rows[0]![0] as number;
      clock += 30_000;
      await as(`mlmodel log metrics ${id} step=0 loss=1`);
      await as(`mlmodel run end ${done}`);
      const look = async (after: number, opts = '') => {
        clock += after;
        const t = await as(`mlmodel runs stale-check${opts} | sort id | fields id, status, last_step, idle, stale`);
        return t.rows;
      };
      // 40 s after the last point: idle counts from it (the silent run from its start), nothing stale yet.
      expect(await look(40_000)).toEqual([
        [id, 'RUNNING', 0, 40, false],
        [quiet, 'RUNNING', null, 70, false],
        [done, 'FINISHED', null, null, null],
      ]);
      expect(await look(0, ' stale=1m')).toEqual([
        [id, 'RUNNING', 0, 40, false],
        [quiet, 'RUNNING', null, 70, true],
        [done, 'FINISHED', null, null, null],
      ]);
      // The writer sends again: it is fresh; then it stops for longer than the default.
      await as(`mlmodel log metrics ${id} step=1 loss=0.5`);
      expect((await look(0, ' stale=1m')).map((r) => r[4])).toEqual([false, true, null]);
      expect(await look(10 * 60_000 + 1000)).toEqual([
        [id, 'RUNNING', 1, 601, true],
        [quiet, 'RUNNING', null, 671, true],
        [done, 'FINISHED', null, null, null],
      ]);
      expect((await look(0, ' stale=1h')).map((r) => r[4])).toEqual([false, false, null]);
      // stale is a column like any other: where runs on it.
      expect((await as('mlmodel runs stale-check | where stale = true | fields id')).rows).toEqual([[id], [quiet]]);
      // Ending a stale run makes it neither idle nor stale.
      await as(`mlmodel run end ${id} status=KILLED`);
      expect((await look(0)).map((r) => [r[1], r[3], r[4]])).toEqual([
        ['KILLED', null, null],
        ['RUNNING', 671, true],
        ['FINISHED', null, null],
      ]);
    } finally {
      await timed.close();
    }
  });

  it('compares runs side by side and marks what changed', async () => {
    const ids = column(await alice('mlmodel runs mnist'), 'id') as number[];
    const t = await alice(`mlmodel compare ${ids.join(', ')}`);
    expect(t.columns.map((c) => c.name)).toEqual(['field', String(ids[0]), String(ids[1]), 'changed']);
    expect(t.columns.at(-1)).toMatchObject({ type: 'BOOLEAN', display: 'marks-row' });
    const rows = new Map(t.rows.map((r) => [r[0] as string, r.slice(1)]));
    expect(rows.get('params.lr')).toEqual([0.01, 0.1, true]);
    expect(rows.get('params.epochs')).toEqual([10, 10, false]);
    expect(rows.get('params.batch_size')).toEqual([64, null, true]);
    expect(rows.get('metrics.loss.best')).toEqual([0.2, 0.9, true]);
    expect(rows.get('metrics.acc.best')).toEqual([0.9, 0.95, true]);
    expect(rows.get('metrics.acc.last')).toEqual([0.9, 0.95, true]);
    expect(rows.get('experiment')).toEqual(['mnist', 'mnist', false]);
    // Rows: the run's fields, then params, then metrics, each by name.
    const fields = t.rows.map((r) => r[0] as string);
    expect(fields.indexOf('status')).toBeLessThan(fields.indexOf('params.batch_size'));
    expect(fields.filter((f) => f.startsWith('params.'))).toEqual(['params.batch_size', 'params.epochs', 'params.lr', 'params.optimizer']);
    expect((await alice(`mlmodel compare ${ids.join(', ')} | where changed = true`)).rows.every((r) => r.at(-1) === true)).toBe(true);
    expect((await failure(alice(`mlmodel compare ${ids[0]}, ${ids[0]}`))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(alice('mlmodel compare 424242'))).code).toBe('NOT_FOUND');
  });

  it('refuses bad input with a clear error and writes nothing of it', async () => {
    const id = (await alice('mlmodel run start experiment=bad')).rows[0]![0] as number;
    await alice(`mlmodel log metrics ${id} step=0 loss=1`);
    const before = await tracking.getRun(id);
    const cases: Array<[string, string, RegExp]> = [
      [`mlmodel log metrics ${id} step=1 loss=abc`, 'INVALID_ARGUMENT', /loss: "abc" is not a number/],
      [`mlmodel log metrics ${id} step=1 loss=0.5 acc=nan`, 'INVALID_ARGUMENT', /acc: NaN is not a finite number/],
      [`mlmodel log metrics ${id} step=1 loss=inf`, 'INVALID_ARGUMENT', /Infinity is not a finite number/],
      [`mlmodel log metrics ${id} step=1.5 loss=1`, 'PARSE_ERROR', /step=1\.5 is not a whole number/],
      [`mlmodel log metrics ${id} step=-1 loss=1`, 'PARSE_ERROR', /out of range|not a whole number/],
      [`mlmodel log metrics ${id} loss=1`, 'INVALID_ARGUMENT', /needs step=N/],
      [`mlmodel log metrics ${id} step=1 bad.key=1`, 'INVALID_ARGUMENT', /metric name "bad.key" is not allowed/],
      [`mlmodel log metrics ${id} batch='[{"key":"loss","value":0.1,"step":2},{"key":"loss","value":"0.2","step":3}]'`, 'INVALID_ARGUMENT', /"0.2" is not a number/],
      [`mlmodel log metrics ${id} batch='[{"key":"loss","value":0.1,"step":2},{"key":"loss","value":0.2,"step":3.5}]'`, 'INVALID_ARGUMENT', /step 3.5 is not a whole number/],
      [`mlmodel log metrics ${id} batch='not json'`, 'INVALID_ARGUMENT', /not JSON/],
      [`mlmodel log metrics ${id} step=1 loss=1 loss=2`, 'PARSE_ERROR', /given twice/],
      [`mlmodel log metrics x${id} step=1 loss=1`, 'INVALID_ARGUMENT', /not a run id/],
      ['mlmodel log metrics 999999 step=1 loss=1', 'NOT_FOUND', /no run 999999/],
      [`mlmodel log params ${id} step=3 lr=1`, 'INVALID_ARGUMENT', /step= and batch= are for log metrics/],
      // A quoted value is text, and a metric is a number.
      [`mlmodel log metrics ${id} step=1 loss='0.5'`, 'INVALID_ARGUMENT', /loss: '0.5' is quoted text, and a metric is a number: write it bare, loss=0.5/],
      // step and batch are the command's options, so no entry point may name a metric so.
      [`mlmodel log metrics ${id} batch='[{"key":"step","value":1,"step":2}]'`, 'INVALID_ARGUMENT', /step is not a metric name/],
      [`mlmodel log metrics ${id} batch='[{"key":"loss","val":1,"step":2}]'`, 'INVALID_ARGUMENT', /batch point 0 has a field "val"; a point has key, value, step, time/],
      [`mlmodel log metrics ${id} batch='[{"key":"loss","value":1,"step":2,"time":-5}]'`, 'INVALID_ARGUMENT', /time is before 1970/],
      [`mlmodel log metrics ${id} batch='[{"key":7,"value":1,"step":2}]'`, 'INVALID_ARGUMENT', /"key" must be a metric name/],
      [`mlmodel log metrics ${id} batch='[]'`, 'INVALID_ARGUMENT', /batch= is an empty list/],
      // Pairs and a batch together could log one metric twice at one step.
      [`mlmodel log metrics ${id} step=8 loss=1 batch='[{"key":"loss","value":0.4}]'`, 'INVALID_ARGUMENT', /pairs or batch=, not both/],
      [`mlmodel log metrics ${id} batch='[{"key":"loss","value":1,"step":9007199254740993}]'`, 'INVALID_ARGUMENT', /step 9007199254740992 is too large/],
    ];
    for (const [q, code, message] of cases) {
      const f = await failure(alice(q));
      expect(f.code, q).toBe(code);
      expect(f.message, q).toMatch(message);
    }
    // Nothing of any refused call is in the store: the batch with one bad point wrote none of its points.
    expect(await tracking.getRun(id)).toEqual(before);
    expect((await tracking.metricHistory(id, 'loss')).map((p) => p.value)).toEqual([1]);
    expect(await tracking.metricHistory(id, 'acc')).toEqual([]);

    // A param keeps its first value; a quoted value is text, so '0.1' is another value than 0.1.
    await alice(`mlmodel log params ${id} lr=0.1`);
    const changed = await failure(alice(`mlmodel log params ${id} lr=0.2 extra=1`));
    expect(changed.code).toBe('CONFLICT');
    const asText = await failure(alice(`mlmodel log params ${id} lr='0.1'`));
    expect(asText).toMatchObject({ code: 'CONFLICT' });
    expect(asText.message).toMatch(/already has param lr=0.1, not '0.1'/);
    expect((await tracking.getRun(id))!.params).toEqual({ lr: 0.1 });

    // A run ends once; nothing is logged to an ended run.
    await alice(`mlmodel run end ${id} status=KILLED`);
    const twice = await failure(alice(`mlmodel run end ${id}`));
    expect(twice).toMatchObject({ code: 'CONFLICT' });
    expect(twice.message).toMatch(/has ended already \(KILLED\)/);
    expect((await tracking.getRun(id))!.status).toBe('KILLED');
    expect((await failure(alice(`mlmodel log metrics ${id} step=9 loss=1`))).code).toBe('CONFLICT');
    expect((await failure(alice('mlmodel run start 12'))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(alice('mlmodel run end'))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(alice('mlmodel run stop 12'))).code).toBe('PARSE_ERROR');
    expect((await failure(alice("mlmodel run start experiment=' padded '"))).code).toBe('INVALID_ARGUMENT');
  });

  it('lets everyone read a run and only its user or an admin log to it or end it', async () => {
    const id = (await alice('mlmodel run start experiment=owned')).rows[0]![0] as number;
    await alice(`mlmodel log metrics ${id} step=0 loss=1`);
    for (const q of [`mlmodel log metrics ${id} step=1 loss=0.5`, `mlmodel log params ${id} lr=1`, `mlmodel log tags ${id} a=b`, `mlmodel run end ${id}`]) {
      const f = await failure(bob(q));
      expect(f.code, q).toBe('NOT_FOUND');
      expect(f.message).toMatch(/is alice's, and only alice or an admin/);
    }
    expect(await tracking.metricHistory(id, 'loss')).toHaveLength(1);
    expect((await tracking.getRun(id))!.status).toBe('RUNNING');
    // Reading is open: bob lists, reads the history and compares alice's run.
    expect(column(await bob('mlmodel runs owned'), 'user')).toEqual(['alice']);
    expect((await bob(`mlmodel metric ${id} loss`)).rows).toHaveLength(1);
    expect((await bob(`mlmodel compare ${id}`)).rows.length).toBeGreaterThan(0);
    // An admin may.
    await reg.run(`mlmodel log metrics ${id} step=1 loss=0.5`, { user: 'bob', admin: true });
    await reg.run(`mlmodel run end ${id}`, { user: 'bob', admin: true });
    expect((await tracking.getRun(id))!.status).toBe('FINISHED');
  });

  it('gives runs the push-down meaning of an in-memory evaluation, on random stages', async () => {
    // A small population with mixed types and missing values.
    for (let i = 0; i < 12; i++) {
      const params = [`lr=${[0.001, 0.01, 0.1][i % 3]}`, i % 4 === 0 ? "opt='adam'" : "opt='sgd'", i % 5 === 0 ? "tag_text='x'" : ''].join(' ');
      const id = (await reg.run(`mlmodel run start experiment=${i % 2 ? 'pd_a' : 'pd_b'} ${params}`, { user: i % 3 ? 'alice' : 'bob' })).rows[0]![0] as number;
      if (i % 6 !== 5) await reg.run(`mlmodel log metrics ${id} step=${i} acc=${(i * 37) % 10 / 10} loss=${(i * 53) % 7 / 7}`, { user: i % 3 ? 'alice' : 'bob' });
      if (i % 4 === 3) await reg.run(`mlmodel run end ${id}`, { user: i % 3 ? 'alice' : 'bob' });
    }
    const all = await tracking.findRuns({});
    const cond = fc.oneof(
      fc.constantFrom('params.lr < 0.05', 'params.lr = 0.1', 'params.lr >= 0.01', "params.opt = 'adam'", "params.opt like 's%'", 'metrics.acc > 0.4', 'metrics.loss <= 0.5', 'metrics.acc = null'),
      fc.constantFrom("experiment = pd_a", "user = bob", "status = RUNNING", "status != FINISHED", 'last_step >= 3', "experiment in (pd_a, pd_b)", 'id > 3'),
    );
    const where = fc.array(cond, { minLength: 1, maxLength: 3 }).chain((cs) => fc.constantFrom(' and ', ' or ').map((j) => `where ${cs.join(j)}`));
    const sort = fc.constantFrom('sort -metrics.acc', 'sort params.lr, -id', 'sort user, metrics.loss', 'sort -last_step', 'sort status desc, start');
    const head = fc.integer({ min: 0, max: 6 }).map((n) => `head ${n}`);
    const stages = fc.array(fc.oneof(where, sort, head), { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(stages, async (ss) => {
        const q = ['mlmodel runs pd_a, pd_b', ...ss].join(' | ');
        const got = column(await alice(q), 'id');
        const mine = all.filter((r) => r.experiment === 'pd_a' || r.experiment === 'pd_b');
        const want = applyRunStages(mine, parse(q).stages).map((r) => r.id);
        expect(got, q).toEqual(want);
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('lets a model version name its run, and fills summary from it', async () => {
    const id = (await alice('mlmodel run start experiment=iris_sk C=1.5 solver=lbfgs train_cnt=150')).rows[0]![0] as number;
    await alice(`mlmodel log metrics ${id} step=0 loss=0.7 accuracy=0.8`);
    await alice(`mlmodel log metrics ${id} step=1 loss=0.4 accuracy=0.93`);
    await alice(`mlmodel run end ${id}`);
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-trk-'));
    const path = join(dir, 'model.tar.gz');
    await writeFile(path, archives.sklearn());
    // A run that does not exist: refused before anything is stored.
    expect((await failure(alice(`mlmodel import name=iris_lr type=sklearn path=${path} run=987654`))).code).toBe('NOT_FOUND');
    expect((await alice('mlmodel list')).rows.filter((r) => r[2] === 'iris_lr')).toEqual([]);
    await alice(`mlmodel import name=iris_lr type=sklearn path=${path} run=${id}`);
    const summary = new Map((await alice('mlmodel summary iris_lr')).rows.map((r) => [r[0], r[1]]));
    expect(JSON.parse(summary.get('parameter') as string)).toEqual({ C: 1.5, solver: 'lbfgs', train_cnt: 150 });
    expect(JSON.parse(summary.get('evaluation') as string)).toEqual([
      { losses: { loss: 0.7 }, metrics: { accuracy: 0.8 } },
      { losses: { loss: 0.4 }, metrics: { accuracy: 0.93 } },
    ]);
    expect(summary.get('train_cnt')).toBe('150');
    expect(Number(summary.get('elapsed'))).toBeGreaterThanOrEqual(0);
    expect(summary.get('run')).toBe(String(id));
    // What the import gives explicitly wins over the run.
    await alice(`mlmodel import name=iris_lr type=sklearn path=${path} run=${id} parameter='{"C": 2}'`);
    expect((await alice('mlmodel summary iris_lr parameter')).rows).toEqual([['parameter', '{"C":2}']]);
    // compare takes model versions, through their runs.
    const t = await alice(`mlmodel compare iris_lr@1, ${id}`);
    expect(t.rows.every((r) => r.at(-1) === false || r[0] === 'name' )).toBe(true);
    // …and shows what summary shows: version 2's recorded parameter replaces its run's params.
    const both = new Map((await alice(`mlmodel compare iris_lr@2, ${id}`)).rows.map((r) => [r[0], r.slice(1)]));
    expect(both.get('name')).toEqual(['iris_lr@2', 'run-' + id, false]);
    expect(both.get('params.C')).toEqual([2, 1.5, true]);
    expect(both.get('params.solver')).toEqual([null, 'lbfgs', true]);
    expect(both.get('metrics.accuracy.last')).toEqual([0.93, 0.93, false]);
  });

  it('charts metrics as data, reduced with the extremes kept', async () => {
    const id = (await alice('mlmodel run start experiment=charts')).rows[0]![0] as number;
    // One batch through the language (the HTTP API and the library send theirs the same way); a query holds at most 1 MB.
    const points = Array.from({ length: 10_000 }, (_, step) => ({ key: 'loss', step, value: step === 6_345 ? 99 : step === 777 ? -5 : Math.round(Math.sin(step / 1000) * 1000) / 1000 }));
    const t0 = await tracking.getRun(id);
    await alice(`mlmodel log metrics ${id} batch='${JSON.stringify(points)}'`);
    expect((await tracking.getRun(id))!.last_step).toBe(9_999);
    expect(t0!.last_step).toBeNull();
    const chart = await alice(`mlmodel chart ${id} loss points=200`);
    expect(chart.chart).toMatchObject({ series: 'metric', x: 'step', y: 'value' });
    expect(chart.rows.length).toBeLessThanOrEqual(202);
    const values = column(chart, 'value') as number[];
    const steps = column(chart, 'step') as number[];
    expect(Math.max(...values)).toBe(99);
    expect(Math.min(...values)).toBe(-5);
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(9_999);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    // A name the run never logged draws nothing: it is refused, with the nearest logged name.
    const misspelt = await failure(alice(`mlmodel chart ${id} loss, los`));
    expect(misspelt.code).toBe('NOT_FOUND');
    expect(misspelt.message).toMatch(/has no metric los\. Did you mean loss\? It has loss/);
    const trend = await alice('mlmodel runs charts trend=loss');
    expect(trend.columns.at(-1)).toMatchObject({ name: 'trend', display: 'sparkline' });
    expect(Math.max(...(trend.rows[0]!.at(-1) as number[]))).toBe(99);
  });

  it('stores checkpoints by step, inspected as imports are, and exports one by step', async () => {
    const id = (await alice('mlmodel run start experiment=ckpt')).rows[0]![0] as number;
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-ckpt-'));
    const good = join(dir, 'epoch.tar.gz');
    const archive = archives.sklearn();
    await writeFile(good, archive);
    const notSklearn = join(dir, 'tf.tar');
    await writeFile(notSklearn, archives.tfSavedModel());
    for (const step of [5, 0]) {
      const t = await alice(`mlmodel checkpoint add ${id} step=${step} type=sklearn path=${good}`);
      expect(t.rows[0]!.slice(0, 4)).toEqual([id, step, 'ok', archive.length]);
    }
    const listed = await bob(`mlmodel checkpoints ${id}`);
    expect(listed.rows.map((r) => r.slice(0, 5))).toEqual([
      [0, 'sklearn', 'pickle', 'model.pkl', archive.length],
      [5, 'sklearn', 'pickle', 'model.pkl', archive.length],
    ]);
    // Refused: an archive that is not what type= says, a second checkpoint at a step, another user's run.
    expect((await failure(alice(`mlmodel checkpoint add ${id} step=7 type=sklearn path=${notSklearn}`))).code).toBe('ARCHIVE_INVALID');
    expect((await failure(alice(`mlmodel checkpoint add ${id} step=5 type=sklearn path=${good}`))).code).toBe('CONFLICT');
    expect((await failure(bob(`mlmodel checkpoint add ${id} step=8 type=sklearn path=${good}`))).code).toBe('NOT_FOUND');
    expect((await failure(alice(`mlmodel checkpoint add ${id} step=8 path=${good}`))).code).toBe('INVALID_ARGUMENT');
    expect((await tracking.listCheckpoints(id)).map((c) => c.step)).toEqual([0, 5]);
    // The refused adds left no object behind: two checkpoints, two archives.
    const run = await tracking.getRun(id);
    const keys: string[] = [];
    for await (const o of objects.list(`runs/${run!.uid}/`)) keys.push(o.key);
    expect(keys.sort()).toEqual((await tracking.listCheckpoints(id)).map((c) => c.object_key).sort());
    // Export by step, byte for byte; anyone may.
    const out = join(dir, 'out', 'five.tar.gz');
    const exported = await bob(`mlmodel checkpoint export ${id} step=5 path=${out}`);
    expect(exported.rows[0]!.slice(0, 3)).toEqual([id, 5, 'ok']);
    const { readFile } = await import('node:fs/promises');
    expect(Buffer.compare(await readFile(out), archive)).toBe(0);
    expect((await failure(bob(`mlmodel checkpoint export ${id} step=5 path=${out}`))).code).toBe('CONFLICT');
    expect((await failure(bob(`mlmodel checkpoint export ${id} step=6 path=${out}`))).code).toBe('NOT_FOUND');
    // After the run ends, no more checkpoints.
    await alice(`mlmodel run end ${id}`);
    expect((await failure(alice(`mlmodel checkpoint add ${id} step=9 type=sklearn path=${good}`))).code).toBe('CONFLICT');
  });

  it('keeps a quoted param as text and a bare one as a number or boolean, and lists params by name', async () => {
    const id = (await alice(`mlmodel run start experiment=quoting zeta=1 lr='0.01' n="5" m=5 flag=true f2='true'`)).rows[0]![0] as number;
    const want = { zeta: 1, lr: '0.01', n: '5', m: 5, flag: true, f2: 'true' };
    expect((await tracking.getRun(id))!.params).toEqual(want);
    // Text never compares as a number: lr='0.01' is not < 0.1, m=5 is.
    expect(column(await alice('mlmodel runs quoting | where params.lr < 0.1'), 'id')).toEqual([]);
    expect(column(await alice('mlmodel runs quoting | where params.m < 6'), 'id')).toEqual([id]);
    expect(column(await alice("mlmodel runs quoting | where params.n = '5'"), 'id')).toEqual([id]);
    // The same value as text is a no-op; as a number a CONFLICT.
    await alice(`mlmodel log params ${id} n='5'`);
    expect((await failure(alice(`mlmodel log params ${id} n=5`))).code).toBe('CONFLICT');
    // Every table shows the names in one order, whatever order they were given in.
    const shown = Object.keys(want).sort();
    expect(Object.keys((await alice(`mlmodel run start experiment=quoting zeta=1 lr='0.01' n="5" m=5 flag=true f2='true'`)).rows[0]![7] as object)).toEqual(shown);
    expect(Object.keys(column(await alice(`mlmodel runs quoting | where id = ${id}`), 'params')[0] as object)).toEqual(shown);
  });

  it('matches a boolean param or a text tag with = true / false, in and !=', async () => {
    const yes = (await alice('mlmodel run start experiment=flags nesterov=true')).rows[0]![0] as number;
    const no = (await alice('mlmodel run start experiment=flags nesterov=false')).rows[0]![0] as number;
    const text = (await alice("mlmodel run start experiment=flags nesterov='maybe'")).rows[0]![0] as number;
    await alice(`mlmodel log tags ${text} checked=TRUE`);
    expect(column(await alice('mlmodel runs flags'), 'params').map((p) => (p as Record<string, unknown>).nesterov)).toEqual([true, false, 'maybe']);
    expect(column(await alice('mlmodel runs flags | where params.nesterov = true'), 'id')).toEqual([yes]);
    expect(column(await alice("mlmodel runs flags | where params.nesterov = 'FALSE'"), 'id')).toEqual([no]);
    expect(column(await alice('mlmodel runs flags | where params.nesterov != true'), 'id')).toEqual([no, text]);
    expect(column(await alice('mlmodel runs flags | where params.nesterov in (true, maybe)'), 'id')).toEqual([yes, text]);
    expect(column(await alice('mlmodel runs flags | where tags.checked = TRUE'), 'id')).toEqual([text]);
    expect(column(await alice('mlmodel runs flags | where tags.checked = true'), 'id')).toEqual([]);
  });
}
