/**
 * Import from MLflow: a registry MLflow's own API builds in the test's cached
 * venv (test/exchange/mlflow-registry.py: scikit-learn models logged and
 * registered, with params, metrics, descriptions, tags, an alias, and a model
 * whose name mlmodel refuses), read from its SQLite tracking database. Every
 * fact the page promises is checked on the imported versions, the archive is
 * MLflow's model directory byte for byte, a rerun is idempotent, and the
 * model mlmodel cannot name is reported, not imported. Runs on both store
 * pairs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeWithServer } from '../servers/servers.js';
import { mlflowPython } from './mlflow-env.js';
import { column, embeddedRegistry, serverRegistry, tarFiles, type TestRegistry } from './stores.js';

const run = promisify(execFile);
let db: string;
let work: string;

beforeAll(async () => {
  const python = await mlflowPython((m) => process.stderr.write(`${m}\n`));
  work = await mkdtemp(join(tmpdir(), 'mlmodel-mlflow-'));
  db = join(work, 'mlflow.db');
  const out = await run(python, [new URL('./mlflow-registry.py', import.meta.url).pathname, db, join(work, 'artifacts')], { cwd: work, timeout: 600_000 });
  expect(out.stdout.trim().split('\n').at(-1)).toBe('ok');
}, 900_000);

function mlflowSuite(open: () => Promise<TestRegistry>) {
  it('imports the registry, says what it could not carry, and a rerun changes nothing', async () => {
    const t = await open();
    try {
      const first = await t.reg.run(`mlmodel mlflow db=${db}`);
      const rows = first.rows.map((r) => [r[0], r[1], r[2], r[3]]);
      expect(rows.filter((r) => r[0] !== 'note')).toEqual([
        ['imported', 'iris', 'iris', 1],
        ['imported', 'iris', 'iris', 2],
        ['skipped', 'skops_model', 'skops_model', 1],
        ['skipped', 'skops_model', null, null],
        ['skipped', 'spaced name', null, null],
      ]);
      expect(String(first.rows.find((r) => r[1] === 'skops_model')![5])).toMatch(/^not carried over: its artifacts are not a sklearn model archive: .*model\.pkl/);
      expect((await t.reg.run('mlmodel list')).rows.map((r) => r[2])).toEqual(['iris']);
      expect(String(first.rows.find((r) => r[1] === 'spaced name')![5])).toMatch(/^not carried over: the name is not one mlmodel accepts/);
      expect(first.rows.filter((r) => r[0] === 'note').map((r) => String(r[5]))).toEqual([
        "the registered model's tags and description are on every version (options mlflow_model_tags, mlflow_model_description)",
        'run params and latest metrics are options parameter and evaluation (metric history, datasets and other run artifacts are not carried over); MLflow tags are options mlflow_tags',
      ]);

      const versions = await t.reg.run('mlmodel versions iris');
      expect(column(versions, 'aliases')).toEqual(['champion', '']);
      // summary shows structured options as JSON text.
      const json = (v: unknown): unknown => (typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v);
      const summary = async (v: number) => Object.fromEntries((await t.reg.run(`mlmodel summary iris@${v}`)).rows.map((r) => [r[0], json(r[1])]));
      const [one, two] = [await summary(1), await summary(2)];
      expect([one.type, one.format, one.filename]).toEqual(['sklearn', 'pickle', 'model.pkl']);
      expect(one.description).toBe('first cut');
      expect(one.parameter).toEqual({ C: '0.5', max_iter: '300' });
      expect(two.parameter).toEqual({ C: '1.0', max_iter: '300' });
      expect(typeof (one.evaluation as { accuracy: number }).accuracy).toBe('number');
      // The options summary does not show, as the records' bundle carries them.
      const out = join(work, `iris-${Math.random().toString(36).slice(2)}.tar`);
      await t.reg.run(`mlmodel bundle iris to=${out} all=true`);
      const bundled = await tarFiles(out);
      const options = (v: number) => (JSON.parse(bundled.get(`versions/${v}/record.json`)!.toString()) as { options: Record<string, unknown> }).options;
      expect(options(2).mlflow_tags).toEqual({ validated: 'yes' });
      expect(options(1).mlflow_model_tags).toEqual({ team: 'ml' });
      expect(options(1).mlflow_model_description).toBe('iris classifier');
      expect(String(options(1).mlflow_run_id)).toMatch(/^[0-9a-f]{32}$/);
      expect(options(1).mlflow_run_id).not.toBe(options(2).mlflow_run_id);

      // The archive holds MLflow's model directory, file for file.
      const files = await t.reg.run('mlmodel files iris@1');
      const paths = column(files, 'path').map(String);
      expect(paths).toContain('MLmodel');
      expect(paths).toContain('model.pkl');
      const pulled = join(work, `pulled-${Math.random().toString(36).slice(2)}`);
      await t.reg.run(`mlmodel pull iris@1 to=${pulled}`);
      const mlmodelFile = await readFile(join(pulled, 'MLmodel'), 'utf8');
      expect(mlmodelFile).toContain('sklearn');

      const again = await t.reg.run(`mlmodel mlflow db=${db} model=iris`);
      expect(again.rows.filter((r) => r[0] !== 'note').map((r) => [r[0], r[3]])).toEqual([['present', 1], ['present', 2]]);
      // The refused name comes over under a name given for it.
      const renamed = await t.reg.run(`mlmodel mlflow db=${db} model='spaced name' name=spaced_name`);
      expect(renamed.rows.filter((r) => r[0] !== 'note').map((r) => [r[0], r[2], r[3]])).toEqual([['imported', 'spaced_name', 1]]);
      expect((await t.reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
    } finally {
      await t.close();
    }
  }, 120_000);
}

describe('from MLflow into the embedded stores', () => {
  mlflowSuite(embeddedRegistry);
});

describeWithServer('mongodb', 'from MLflow into FerretDB', (mongoUrl) => {
  describeWithServer('minio', '+ MinIO', (minioUrl) => {
    mlflowSuite(() => serverRegistry(mongoUrl, minioUrl));
  });
});
