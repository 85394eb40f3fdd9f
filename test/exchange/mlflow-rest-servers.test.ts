/**
 * Import from a running MLflow tracking server (`mlflow server` in the test's
 * cached venv, on a free loopback port, SQLite backend, --serve-artifacts
 * with its artifact store in the test's MinIO through MLflow's S3 store),
 * populated by MLflow's own client (test/exchange/mlflow-rest-registry.py):
 * url= reads it over the REST API and the artifact proxy; s3= reads the
 * model whose artifacts the client wrote straight to S3, through a
 * connector on MLflow's bucket, both over REST and from the tracking
 * database. The same artifacts give the same archive either way; what
 * cannot be read is a row per version and per model; a password in url=
 * never prints. The server is MLflow's basic-auth app (`mlflow server
 * --app-name basic-auth`, with an authorization function that also takes a
 * bearer token, test/exchange/mlflow_test_auth.py): mlmodel reaches it with
 * the credentials MLflow's clients take from the environment. Runs on both
 * store pairs.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseS3Url } from '../../src/config/location.js';
import { objectStoreAt } from '../../src/store/open.js';
import { describeWithServer } from '../servers/servers.js';
import { mlflowPython } from './mlflow-env.js';
import { column, embeddedRegistry, serverRegistry, tarFiles, type TestRegistry } from './stores.js';

const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describeWithServer('minio', 'from an MLflow tracking server with S3 artifacts in MinIO', (minioUrl) => {
  const minio = new URL(minioUrl);
  const base = minioUrl.replace(/\/+$/, '');
  const bucket = `mlflow-${randomBytes(4).toString('hex')}`;
  const connector = { MLMODEL_CONNECTOR_MLFLOW_S3: `${base}/${bucket}` };
  let server: ChildProcess | undefined;
  let url = '';
  let db = '';
  let work = '';
  const password = `Pw-${randomBytes(8).toString('hex')}-9x`;
  const token = `tok-${randomBytes(12).toString('hex')}`;
  const creds = { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: password };

  beforeAll(async () => {
    const python = await mlflowPython((m) => process.stderr.write(`${m}\n`));
    const store = await objectStoreAt(parseS3Url(`${base}/${bucket}`, 'test'));
    await store.init();
    await store.close();
    work = await mkdtemp(join(tmpdir(), 'mlmodel-mlflow-rest-'));
    db = join(work, 'mlflow.db');
    const env = {
      ...process.env,
      MLFLOW_S3_ENDPOINT_URL: `${minio.protocol}//${minio.host}`,
      AWS_ACCESS_KEY_ID: decodeURIComponent(minio.username),
      AWS_SECRET_ACCESS_KEY: decodeURIComponent(minio.password),
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    const authConfig = join(work, 'basic_auth.ini');
    await writeFile(
      authConfig,
      ['[mlflow]', 'default_permission = READ', `database_uri = sqlite:///${join(work, 'basic_auth.db')}`, 'admin_username = admin', 'authorization_function = mlflow_test_auth:authenticate', ''].join('\n'),
    );
    const serverEnv = {
      ...env,
      MLFLOW_AUTH_CONFIG_PATH: authConfig,
      MLFLOW_AUTH_ADMIN_PASSWORD: password,
      MLFLOW_FLASK_SERVER_SECRET_KEY: randomBytes(16).toString('hex'),
      MLMODEL_TEST_MLFLOW_TOKEN: token,
      PYTHONPATH: new URL('.', import.meta.url).pathname,
    };
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const mlflow = join(python, '..', 'mlflow');
    server = spawn(mlflow, ['server', '--app-name', 'basic-auth', '--backend-store-uri', `sqlite:///${db}`, '--artifacts-destination', `s3://${bucket}/proxied`, '--serve-artifacts', '--host', '127.0.0.1', '--port', String(port), '--workers', '1'], {
      env: serverEnv,
      cwd: work,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const deadline = Date.now() + 300_000;
    for (;;) {
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`mlflow server did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const out = await run(python, [new URL('./mlflow-rest-registry.py', import.meta.url).pathname, url, bucket], { cwd: work, env: { ...env, ...creds }, timeout: 600_000 });
    expect(out.stdout.trim().split('\n').at(-1)).toBe('ok');
  }, 900_000);

  afterAll(async () => {
    // Its own process group: the server and its workers; killed if they have not gone after a while.
    const s = server;
    if (s?.pid === undefined || s.exitCode !== null) return;
    const gone = new Promise((r) => s.once('exit', r));
    process.kill(-s.pid, 'SIGTERM');
    if ((await Promise.race([gone.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))])) === false) process.kill(-s.pid, 'SIGKILL');
  }, 30_000);

  function restSuite(open: () => Promise<TestRegistry>) {
    it('imports over REST (artifact proxy and S3), reports what it cannot read, and db= gives the same archives', async () => {
      const t = await open();
      try {
        const withoutS3 = await t.reg.run(`mlmodel mlflow url=${url}`);
        const rows = (r: typeof withoutS3) => r.rows.filter((x) => x[0] !== 'note').map((x) => [x[0], x[1], x[2], x[3]]);
        expect(rows(withoutS3)).toEqual([
          ['skipped', 'elsewhere', 'elsewhere', 1],
          ['skipped', 'elsewhere', 'elsewhere', 2],
          ['skipped', 'elsewhere', null, null],
          ['imported', 'iris', 'iris', 1],
          ['imported', 'iris', 'iris', 2],
          ['skipped', 'iris_s3', 'iris_s3', 1],
          ['skipped', 'iris_s3', null, null],
        ]);
        // Stores mlmodel does not read: each version's row names the store and its scheme.
        const elsewhere = withoutS3.rows.filter((r) => r[1] === 'elsewhere' && r[3] !== null).map((r) => String(r[5]));
        expect(elsewhere[0]).toBe(
          "not carried over: its artifacts are at gs://mlflow-bucket/models/elsewhere/1, in Google Cloud Storage (gs:), which mlmodel does not read: only a file store on this machine, an S3 store (s3=) or an MLflow server's artifact proxy (url=)",
        );
        expect(elsewhere[1]).toMatch(/^not carried over: its artifacts are at wasbs:\/\/models@mlflowaccount\.blob\.core\.windows\.net\/elsewhere\/2, in Azure Blob Storage \(wasbs:\)/);
        expect(String(withoutS3.rows.find((r) => r[1] === 'iris_s3')![5])).toMatch(new RegExp(`^not carried over: its artifacts are at s3://${bucket}/direct/.*give s3=CONNECTOR`));

        const versions = await t.reg.run('mlmodel versions iris');
        expect(column(versions, 'aliases')).toEqual(['champion', '']);
        const out = join(work, `iris-${randomBytes(4).toString('hex')}.tar`);
        await t.reg.run(`mlmodel bundle iris to=${out} all=true`);
        const bundled = await tarFiles(out);
        const options = (v: number) => (JSON.parse(bundled.get(`versions/${v}/record.json`)!.toString()) as { options: Record<string, unknown> }).options;
        expect(options(1).description).toBe('first cut');
        expect(options(1).parameter).toEqual({ C: '0.5' });
        expect(options(2).parameter).toEqual({ C: '1.0' });
        expect(typeof (options(2).evaluation as { accuracy: number }).accuracy).toBe('number');
        expect(options(2).mlflow_tags).toEqual({ validated: 'yes' });
        expect(options(1).mlflow_model_tags).toEqual({ team: 'ml' });
        expect(options(1).mlflow_model_description).toBe('iris classifier');
        expect(String(options(1).mlflow_run_id)).toMatch(/^[0-9a-f]{32}$/);
        const paths = column(await t.reg.run('mlmodel files iris@2'), 'path').map(String);
        expect(paths).toEqual(expect.arrayContaining(['MLmodel', 'model.pkl', 'requirements.txt']));

        // From the tracking database: the proxied model's artifacts are only reachable through the server; the S3 one through the connector.
        const fromDb = await t.reg.run(`mlmodel mlflow db=${db} s3=mlflow_s3`);
        expect(rows(fromDb)).toEqual([
          ['skipped', 'elsewhere', 'elsewhere', 1],
          ['skipped', 'elsewhere', 'elsewhere', 2],
          ['skipped', 'elsewhere', null, null],
          ['skipped', 'iris', 'iris', 1],
          ['skipped', 'iris', 'iris', 2],
          ['skipped', 'iris', null, null],
          ['imported', 'iris_s3', 'iris_s3', 1],
        ]);
        expect(String(fromDb.rows.find((r) => r[1] === 'iris')![5])).toMatch(/behind an MLflow server's artifact proxy: import with url=/);
        expect((await t.reg.run('mlmodel summary iris_s3@1')).rows.find((r) => r[0] === 'filename')?.[1]).toBe('model.pkl');

        // Over REST with s3= and the password in url=: the same bytes either way (present), and the password is nowhere.
        const secret = password;
        const again = await t.reg.run(`mlmodel mlflow url=http://admin:${secret}@127.0.0.1:${new URL(url).port} s3=MLFLOW_S3`);
        expect(rows(again)).toEqual([
          ['skipped', 'elsewhere', 'elsewhere', 1],
          ['skipped', 'elsewhere', 'elsewhere', 2],
          ['skipped', 'elsewhere', null, null],
          ['present', 'iris', 'iris', 1],
          ['present', 'iris', 'iris', 2],
          ['present', 'iris_s3', 'iris_s3', 1],
        ]);
        expect(JSON.stringify(again.rows)).not.toContain(secret);
        const dead = await freePort();
        const refused = await t.reg.run(`mlmodel mlflow url=http://someone:${secret}@127.0.0.1:${dead}`).then(
          () => null,
          (e: unknown) => e as Error & { code?: string },
        );
        expect(refused?.code).toBe('STORE_UNAVAILABLE');
        expect(`${refused!.message} ${JSON.stringify(refused)}`).not.toContain(secret);
        expect(refused!.message).toContain(`127.0.0.1:${dead}`);
        expect((await t.reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
      } finally {
        await t.close();
      }
    }, 180_000);
  }

  /** `mlmodel mlflow url=… model=iris` in a fresh embedded registry with `env`: its rows, or the error, and what it left. */
  async function importWith(env: Record<string, string>, target = url) {
    const t = await embeddedRegistry(env);
    try {
      const got = await t.reg.run(`mlmodel mlflow url=${target} model=iris`).then(
        (r) => ({ rows: r.rows.filter((x) => x[0] !== 'note').map((x) => [x[0], x[3]]), error: null }),
        (e: unknown) => ({ rows: null, error: e as Error & { code?: string } }),
      );
      return { ...got, models: column(await t.reg.run('mlmodel list'), 'name') };
    } finally {
      await t.close();
    }
  }

  it("takes MLflow's client credentials from the environment, and says clearly when they are missing or wrong, never what they were", async () => {
    const imported = [['imported', 1], ['imported', 2]];
    expect((await importWith(creds)).rows).toEqual(imported);
    expect((await importWith({ MLFLOW_TRACKING_TOKEN: token })).rows).toEqual(imported);
    // The URI MLFLOW_TRACKING_URI names, as a client would write it: the credentials are for it.
    expect((await importWith({ ...creds, MLFLOW_TRACKING_URI: `${url}/` })).rows).toEqual(imported);

    const none = await importWith({});
    expect(none.error?.code).toBe('STORE_ERROR');
    expect(none.error!.message).toBe(
      `the MLflow server at ${url} asks for credentials (HTTP 401): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN, as for MLflow's own client`,
    );
    expect(none.models).toEqual([]);

    const wrong = `${password}-not`;
    const refused = await importWith({ ...creds, MLFLOW_TRACKING_PASSWORD: wrong });
    expect(refused.error?.code).toBe('STORE_ERROR');
    expect(refused.error!.message).toBe(`the MLflow server at ${url} did not accept the credentials from MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (HTTP 401)`);
    expect(refused.models).toEqual([]);
    const badToken = await importWith({ MLFLOW_TRACKING_TOKEN: `${token}x` });
    expect(badToken.error!.message).toBe(`the MLflow server at ${url} did not accept the credentials from MLFLOW_TRACKING_TOKEN (HTTP 401)`);
    const inUrl = await importWith({}, `http://admin:${encodeURIComponent(wrong)}@127.0.0.1:${new URL(url).port}`);
    expect(inUrl.error!.message).toBe(`the MLflow server at ${url} did not accept the credentials from the user and password in url= (HTTP 401)`);
    for (const e of [refused.error, badToken.error, inUrl.error]) {
      const said = `${e!.message} ${JSON.stringify(e)} ${String(e!.stack)}`;
      for (const s of [wrong, encodeURIComponent(wrong), password, token]) expect(said).not.toContain(s);
    }

    // Credentials for another server (MLFLOW_TRACKING_URI) are not handed to the one url= names.
    const elsewhere = await importWith({ ...creds, MLFLOW_TRACKING_URI: 'http://127.0.0.1:1' });
    expect(elsewhere.error!.message).toContain('asks for credentials (HTTP 401)');

    const half = await importWith({ MLFLOW_TRACKING_USERNAME: 'admin' });
    expect(half.error?.code).toBe('INVALID_ARGUMENT');
    expect(half.error!.message).toContain('MLFLOW_TRACKING_USERNAME is set without MLFLOW_TRACKING_PASSWORD');
  }, 180_000);

  describe('into the embedded stores', () => {
    restSuite(() => embeddedRegistry({ ...connector, ...creds }));
  });
  describeWithServer('mongodb', 'into FerretDB + MinIO', (mongoUrl) => {
    restSuite(() => serverRegistry(mongoUrl, minioUrl, { ...connector, ...creds }));
  });
});
