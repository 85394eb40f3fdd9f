#!/usr/bin/env node
/**
 * Test servers for the store suites: a MongoDB-wire server and MinIO, real
 * ones, on free loopback ports with throw-away data directories.
 *
 *   node scripts/test-servers.mjs build          build (or find) the binaries
 *   node scripts/test-servers.mjs start          start both, print their URLs, stop on Ctrl-C
 *   node scripts/test-servers.mjs run -- CMD …   start both, run CMD with
 *                                                MLMODEL_TEST_MONGODB_URL / MLMODEL_TEST_MINIO_URL set, stop
 *   … start --postgres / run --postgres -- CMD   also FerretDB on PostgreSQL (MLMODEL_TEST_FERRETDB_PG_URL)
 *   node scripts/test-servers.mjs minio-cluster  a four-node distributed MinIO, print its URLs, stop on Ctrl-C
 *
 * Which servers (first that applies):
 *   MongoDB wire: $MLMODEL_TEST_MONGODB_URL (a running server) · `mongod` on PATH ·
 *                 FerretDB v1.24.2 on its SQLite backend, built here from source
 *   MinIO:        $MLMODEL_TEST_MINIO_URL (http://ACCESS:SECRET@host:port) ·
 *                 MinIO built here from source
 *   FerretDB on PostgreSQL (only when asked for: ferretdbPg / --postgres):
 *                 $MLMODEL_TEST_FERRETDB_PG_URL · the same FerretDB binary on a
 *                 throw-away cluster of the machine's PostgreSQL (initdb +
 *                 postgres; as `nobody` when run as root)
 *
 * The binaries are built with the Go toolchain from the Go module proxy and
 * cached outside the clone ($MLMODEL_TEST_BIN_DIR, else
 * ${XDG_CACHE_HOME:-~/.cache}/mlmodel/bin), so only the first run on a machine
 * builds them (about 1 min for FerretDB and 2.5 min for MinIO on 2 cores).
 * vitest's global setup (test/servers/global-setup.ts) calls startServers().
 */
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, createWriteStream } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { aptGetInstall } from './apt-install.mjs';

export const FERRETDB_VERSION = 'v1.24.2';
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
const MINIO_MODULE = 'github.com/minio/minio';

/** @param {NodeJS.ProcessEnv} env */
export function binDir(env = process.env) {
  if (env.MLMODEL_TEST_BIN_DIR) return env.MLMODEL_TEST_BIN_DIR;
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'mlmodel', 'bin');
}

export function ferretdbPath(env = process.env) {
  return join(binDir(env), `ferretdb-${FERRETDB_VERSION}`);
}

export function minioPath(env = process.env) {
  return join(binDir(env), `minio-${MINIO_VERSION}`);
}

/** Runs a command; rejects with its exact output when it fails. */
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(
          `\`${cmd} ${args.join(' ')}\` failed (${err.code ?? err.signal ?? 'error'}):\n${String(stderr).trim() || String(stdout).trim() || err.message}`,
        );
        reject(e);
      } else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function isExecutable(path) {
  try {
    const st = await stat(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** One builder at a time per cache dir (two test runs may start together). */
async function withLock(dir, fn, log) {
  await mkdir(dir, { recursive: true });
  const lock = join(dir, '.build-lock');
  const deadline = Date.now() + 30 * 60_000;
  for (let waited = false; ; ) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const st = await stat(lock).catch(() => null);
      // A lock older than 30 minutes belongs to a build that died.
      if (st && Date.now() - st.mtimeMs > 30 * 60_000) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      if (!waited) log(`waiting for another build (lock ${lock})`);
      waited = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function makeWritable(dir) {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(p);
    else if (entry.isFile()) await chmod(p, 0o644);
  }
}

/**
 * FerretDB v1.24.2: `go install …@v1.24.2` is refused here (its deprecation
 * look-up fails) and a plain build panics at start without a version file,
 * so: download the module, copy it, add build/version/version.txt, build.
 */
export async function ensureFerretdb({ env = process.env, log = () => {} } = {}) {
  const target = ferretdbPath(env);
  if (await isExecutable(target)) return target;
  return withLock(binDir(env), async () => {
    if (await isExecutable(target)) return target;
    const started = Date.now();
    log(`building FerretDB ${FERRETDB_VERSION} into ${target} (about 1 min)`);
    const { stdout } = await run('go', ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], { env });
    const info = JSON.parse(stdout);
    if (info.Error || !info.Dir) throw new Error(`go mod download ${FERRETDB_MODULE}@${FERRETDB_VERSION}: ${info.Error ?? 'no Dir'}`);
    const work = await mkdtemp(join(tmpdir(), 'mlmodel-ferretdb-src-'));
    try {
      const src = join(work, 'src');
      await cp(info.Dir, src, { recursive: true });
      await makeWritable(src);
      await mkdir(join(src, 'build', 'version'), { recursive: true });
      await writeFile(join(src, 'build', 'version', 'version.txt'), FERRETDB_VERSION);
      const tmp = `${target}.tmp-${process.pid}`;
      await run('go', ['build', '-trimpath', '-o', tmp, './cmd/ferretdb'], { cwd: src, env });
      await rename(tmp, target);
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => {});
    }
    log(`built FerretDB in ${Math.round((Date.now() - started) / 1000)} s`);
    return target;
  }, log);
}

/** MinIO by `go install` of a pseudo-version (its RELEASE tags are not Go versions). */
export async function ensureMinio({ env = process.env, log = () => {} } = {}) {
  const target = minioPath(env);
  if (await isExecutable(target)) return target;
  return withLock(binDir(env), async () => {
    if (await isExecutable(target)) return target;
    const started = Date.now();
    log(`building MinIO ${MINIO_VERSION} into ${target} (about 2.5 min)`);
    const gobin = await mkdtemp(join(binDir(env), '.gobin-'));
    try {
      await run('go', ['install', `${MINIO_MODULE}@${MINIO_VERSION}`], { env: { ...env, GOBIN: gobin } });
      await rename(join(gobin, 'minio'), target);
    } finally {
      await rm(gobin, { recursive: true, force: true }).catch(() => {});
    }
    log(`built MinIO in ${Math.round((Date.now() - started) / 1000)} s`);
    return target;
  }, log);
}

function onPath(name, env = process.env) {
  for (const dir of (env.PATH || '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** A free port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function tail(file, lines = 30) {
  try {
    return (await readFile(file, 'utf8')).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts a server process with its output in DIR/server.log and waits until
 * `ready()` is true. Returns { stop() }, which kills it and removes DIR.
 */
async function startProcess({ name, bin, args, env, dir, ready, timeoutMs = 90_000, spawnOptions = {} }) {
  const logFile = join(dir, 'server.log');
  const out = createWriteStream(logFile);
  await new Promise((r) => out.once('open', r));
  const child = spawn(bin, args, { env, stdio: ['ignore', out, out], detached: false, ...spawnOptions });
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([
        new Promise((r) => child.once('exit', () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!done && exited === null) child.kill('SIGKILL');
    }
    out.end();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  watchdog(process.pid, child.pid, dir);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null) {
      const log = await tail(logFile);
      await stop();
      throw new Error(`${name} exited during start (${exited.code ?? exited.signal}):\n${log}`);
    }
    if (await ready().catch(() => false)) return { stop, pid: child.pid, logFile };
    if (Date.now() > deadline) {
      const log = await tail(logFile);
      await stop();
      throw new Error(`${name} did not answer within ${timeoutMs / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A tiny detached process that stops the server and removes its data dir if
 * the process that started it dies without stopping it (a killed test run),
 * so no server outlives its run.
 */
function watchdog(parentPid, childPid, dir) {
  const code = `
    const [pp, cp, dir] = process.argv.slice(1);
    const alive = (p) => { try { process.kill(Number(p), 0); return true; } catch { return false; } };
    setInterval(() => {
      if (!alive(cp)) process.exit(0);
      if (!alive(pp)) {
        try { process.kill(Number(cp), 'SIGKILL'); } catch {}
        setTimeout(() => { require('fs').rmSync(dir, { recursive: true, force: true }); process.exit(0); }, 500);
      }
    }, 1000);`;
  const w = spawn(process.execPath, ['-e', code, String(parentPid), String(childPid), dir], { detached: true, stdio: 'ignore' });
  w.unref();
}

async function mongoPing(url) {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } finally {
    await client.close().catch(() => {});
  }
}

/** What every MinIO server here runs with: its root user, no browser console, no update checks, no config file. */
function minioEnv(env, user, password) {
  return { ...env, MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off', MINIO_CONFIG_ENV_FILE: '' };
}

/** FerretDB on SQLite in its own data dir, or, given `postgresqlUrl`, on that PostgreSQL. */
export async function startFerretdb({ env = process.env, log = () => {}, postgresqlUrl = null } = {}) {
  const bin = await ensureFerretdb({ env, log });
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-ferretdb-'));
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/`;
  const proc = await startProcess({
    name: 'FerretDB',
    bin,
    args: [
      ...(postgresqlUrl ? ['--handler=postgresql', `--postgresql-url=${postgresqlUrl}`] : ['--handler=sqlite', `--sqlite-url=file:${dir}/`]),
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--debug-addr=-',
      `--state-dir=${dir}`,
      '--log-level=warn',
    ],
    env,
    dir,
    ready: async () => (await tcpOpen(port)) && mongoPing(url),
  });
  log(`FerretDB ${FERRETDB_VERSION} (${postgresqlUrl ? 'PostgreSQL' : 'SQLite'} backend) on 127.0.0.1:${port}`);
  return { url, kind: `FerretDB ${FERRETDB_VERSION}${postgresqlUrl ? ' on PostgreSQL' : ''}`, ...proc };
}

export async function startMongod({ bin, env = process.env, log = () => {} }) {
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-mongod-'));
  await mkdir(join(dir, 'db'));
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/`;
  const proc = await startProcess({
    name: 'mongod',
    bin,
    args: ['--dbpath', join(dir, 'db'), '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'],
    env,
    dir,
    ready: async () => (await tcpOpen(port)) && mongoPing(url),
  });
  log(`mongod (${bin}) on 127.0.0.1:${port}`);
  return { url, kind: 'mongod', ...proc };
}

export async function startMinio({ env = process.env, log = () => {} } = {}) {
  const bin = await ensureMinio({ env, log });
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const user = 'mlmodeltest';
  const password = randomBytes(18).toString('base64url');
  const proc = await startProcess({
    name: 'MinIO',
    bin,
    args: ['server', join(dir, 'data'), '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    env: minioEnv(env, user, password),
    dir,
    ready: async () => {
      const res = await fetch(`http://127.0.0.1:${port}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    },
  });
  log(`MinIO on 127.0.0.1:${port}`);
  return { url: `http://${user}:${password}@127.0.0.1:${port}`, kind: 'MinIO', ...proc };
}

/**
 * PostgreSQL is not built here: it is the machine's own (Debian's
 * `postgresql` package, or any install with initdb and postgres on PATH),
 * installed with apt-get when the machine has none.
 * Returns the real directory of its binaries (pg_isready sits beside them).
 */
export async function findPostgres(env = process.env) {
  const found = await postgresBinaries(env);
  if (found) return found;
  // A clean Debian machine without it: the project installs it, as it does chromium.
  aptGetInstall(['postgresql'], 'no PostgreSQL server found (initdb, postgres and pg_isready on PATH or in /usr/lib/postgresql/N/bin)', (m) => process.stderr.write(`[test-servers] ${m}\n`));
  const installed = await postgresBinaries(env);
  if (!installed) throw new Error('apt-get installed postgresql but no initdb, postgres and pg_isready are in /usr/lib/postgresql/N/bin');
  return installed;
}

async function postgresBinaries(env) {
  const candidates = [];
  const initdb = onPath('initdb', env);
  if (initdb) candidates.push(await realpath(initdb).then((p) => dirname(p)));
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian) ? (await readdir(debian)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  return candidates.find((d) => ['initdb', 'postgres', 'pg_isready'].every((b) => existsSync(join(d, b))));
}

/**
 * PostgreSQL refuses to run as root, so as root its processes run as the
 * unprivileged `nobody` ($MLMODEL_TEST_POSTGRES_USER names another user);
 * otherwise as whoever runs this.
 */
async function postgresIds(env = process.env) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const user = env.MLMODEL_TEST_POSTGRES_USER || 'nobody';
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.split(':')[0] === user);
  if (!line) throw new Error(`running as root, and there is no user ${user} to run PostgreSQL as (it refuses to run as root); set MLMODEL_TEST_POSTGRES_USER`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A throw-away PostgreSQL cluster on a free loopback port: initdb into a
 * fresh directory, then postgres, in a process group of its own so that
 * kill() can SIGKILL the postmaster and every backend at once, the way a
 * crash of the machine's database would (only the OS page cache survives).
 * start() starts it again on the same data and port; crash recovery replays
 * the WAL. fsync and synchronous_commit stay on, as in production.
 */
export async function startPostgres({ env = process.env, log = () => {} } = {}) {
  const bin = await findPostgres(env);
  const ids = await postgresIds(env);
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-postgres-'));
  const data = join(dir, 'data');
  // cwd: a directory the unprivileged user can enter (postgres checks it).
  const as = { cwd: dir, ...(ids ?? {}) };
  const pgEnv = { ...env, LC_ALL: 'C', LANG: 'C' };
  let version;
  try {
    if (ids) await chown(dir, ids.uid, ids.gid);
    version = (await run(join(bin, 'postgres'), ['--version'], { env: pgEnv })).stdout.trim().replace(/^postgres \(PostgreSQL\) /, '').split(' ')[0];
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
      env: pgEnv,
      ...as,
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'];
  const ready = async () => {
    await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { env: pgEnv });
    return true;
  };
  let proc = null;
  const pg = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kind: `PostgreSQL ${version}`,
    port,
    dataDir: data,
    starts: 0,
    kills: 0,
    async start() {
      // Just after a kill the old cluster's last processes may still hold
      // its shared memory for a moment; postgres then refuses to start.
      for (let attempt = 1; ; attempt++) {
        const logs = await mkdtemp(join(dir, 'run-'));
        try {
          proc = await startProcess({ name: 'PostgreSQL', bin: join(bin, 'postgres'), args, env: pgEnv, dir: logs, ready, spawnOptions: { ...as, detached: true } });
          pg.starts++;
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    },
    /** SIGKILL of the whole cluster (postmaster and backends), no shutdown of any kind. */
    async kill() {
      if (!proc) return;
      const { pid } = proc;
      // The postmaster leads a process group of its own (detached): the group is the whole cluster.
      process.kill(-pid, 'SIGKILL');
      pg.kills++;
      await proc.stop();
      proc = null;
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(-pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      if (await tcpOpen(port)) throw new Error(`PostgreSQL on port ${port} still answers after SIGKILL of its process group ${pid}`);
    },
    async restart() {
      await pg.kill();
      await pg.start();
    },
    async stop() {
      if (proc) {
        // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
        try {
          process.kill(proc.pid, 'SIGINT');
        } catch {}
        await proc.stop();
        proc = null;
      }
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
  try {
    await pg.start();
  } catch (e) {
    await pg.stop();
    throw e;
  }
  log(`${pg.kind} on 127.0.0.1:${port}${ids ? ` (as uid ${ids.uid}: it refuses root)` : ''}`);
  return pg;
}

/**
 * FerretDB on its PostgreSQL backend: a second MongoDB-wire server whose
 * storage is PostgreSQL's. `postgres` is the cluster's handle (kill, start,
 * restart); stop() stops FerretDB, then PostgreSQL.
 */
export async function startFerretdbPostgres({ env = process.env, log = () => {} } = {}) {
  await ensureFerretdb({ env, log });
  const postgres = await startPostgres({ env, log });
  try {
    const ferretdb = await startFerretdb({ env, log, postgresqlUrl: postgres.url });
    return {
      url: ferretdb.url,
      kind: `FerretDB ${FERRETDB_VERSION} on ${postgres.kind}`,
      postgres,
      ferretdb,
      async stop() {
        await ferretdb.stop();
        await postgres.stop();
      },
    };
  } catch (e) {
    await postgres.stop();
    throw e;
  }
}

/**
 * A signed request to MinIO's admin REST API (`/minio/admin/v3/…`), as `mc
 * admin` sends it: SigV4 by the `minio` client's own signer. PATH carries
 * its query already URI-encoded (it is signed as given). Answers
 * { status, text, json } (json null when the body is not JSON).
 */
export async function minioAdmin({ port, user, password }, method, path, body = '') {
  const { signV4 } = await import('minio/dist/esm/signing.mjs');
  const date = new Date();
  const sha = createHash('sha256').update(body).digest('hex');
  const headers = {
    host: `127.0.0.1:${port}`,
    'x-amz-date': date.toISOString().replace(/[:-]|\.\d{3}/g, ''),
    'x-amz-content-sha256': sha,
  };
  headers.authorization = signV4({ protocol: 'http:', method, path, headers }, user, password, 'us-east-1', date, sha, 's3');
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // An S3 error document or an empty body: the caller reads text.
  }
  return { status: res.status, text, json };
}

/**
 * One node of a distributed MinIO: its own drive directory and port, told
 * every node's endpoint. kill9() SIGKILLs it; start() brings it back on the
 * same drive and port.
 */
function clusterNode({ index, bin, port, consolePort, drive, endpoints, env, dir, user, password }) {
  const logFile = join(dir, `node${index}.log`);
  let child = null;
  let exited = Promise.resolve();
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  const node = {
    index,
    port,
    drive,
    logFile,
    url: `http://${user}:${password}@127.0.0.1:${port}`,
    kills: 0,
    starts: 0,
    get running() {
      return running();
    },
    async start(timeoutMs = 90_000) {
      if (running()) return;
      await mkdir(drive, { recursive: true });
      const out = createWriteStream(logFile, { flags: 'a' });
      await new Promise((r) => out.once('open', r));
      const proc = spawn(
        bin,
        ['server', '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet', ...endpoints],
        {
          env: {
            ...minioEnv(env, user, password),
            // The drives are directories on the machine's root disk, which MinIO refuses outside CI/CD mode.
            MINIO_CI_CD: '1',
            // Inside a container MinIO will not take a loopback endpoint as its own unless told which one is.
            _MINIO_SERVER_LOCAL: `127.0.0.1:${port}`,
          },
          stdio: ['ignore', out, out],
        },
      );
      child = proc;
      node.starts++;
      let gone = false;
      exited = new Promise((r) =>
        proc.once('exit', () => {
          gone = true;
          out.end();
          r();
        }),
      );
      watchdog(process.pid, proc.pid, dir);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (gone) throw new Error(`MinIO node ${index} exited during start:\n${await tail(logFile)}`);
        const res = await fetch(`http://127.0.0.1:${port}/minio/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        if (res?.ok) return;
        if (Date.now() > deadline) throw new Error(`MinIO node ${index} did not answer within ${timeoutMs / 1000} s:\n${await tail(logFile)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async kill9() {
      if (!running()) return;
      child.kill('SIGKILL');
      node.kills++;
      await exited;
    },
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  return node;
}

/**
 * A distributed, erasure-coded MinIO on loopback: COUNT `minio server`
 * processes (4 by default: one erasure set of 4 drives, parity EC:2, so
 * reads need 2 drives and writes 3), each with its own drive directory
 * and port, each listing all of them. Resolves once every node is up and
 * every drive written to. Returns the nodes (url, port, drive, kill9(),
 * start()), admin(method, path, body), waitOnline(), heal(bucket) and
 * stop(), which stops every node and removes the data.
 */
/** The distributed MinIO's own bucket for the probes of waitOnline(). */
const PROBE_BUCKET = 'cluster-probe';

export async function startDistributedMinio({ nodes: count = 4, env = process.env, log = () => {} } = {}) {
  const bin = await ensureMinio({ env, log });
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-minio-cluster-'));
  const ports = new Set();
  while (ports.size < count * 2) ports.add(await freePort());
  const [api, consoles] = [[...ports].slice(0, count), [...ports].slice(count)];
  const user = 'mlmodelcluster';
  const password = randomBytes(18).toString('base64url');
  const drives = api.map((_, i) => join(dir, `drive${i + 1}`));
  const endpoints = api.map((port, i) => `http://127.0.0.1:${port}${drives[i]}`);
  const nodes = api.map((port, i) =>
    clusterNode({ index: i + 1, bin, port, consolePort: consoles[i], drive: drives[i], endpoints, env, dir, user, password }),
  );
  /** An admin request to the first node that is running (or to NODE). */
  const admin = async (method, path, body = '', node = nodes.find((n) => n.running)) => {
    if (!node) throw new Error('no MinIO node is running');
    return minioAdmin({ port: node.port, user, password }, method, path, body);
  };
  const cluster = {
    nodes,
    dir,
    user,
    password,
    /** The first node's URL with the credentials: http://USER:PASSWORD@127.0.0.1:PORT. */
    get url() {
      return nodes[0].url;
    },
    admin,
    /**
     * Waits until every running node writes to every running node's drive.
     * MinIO's admin info and health checks add up what each node says of its
     * own drives, not whether its peers have reconnected to a restarted one
     * (they look for lost peers every 15 s): so each node writes a small probe object, and
     * the probe must appear on every running drive. With fewer nodes running
     * than a write needs, it waits for those to answer only.
     */
    async waitOnline(timeoutMs = 90_000) {
      const { Client } = await import('minio');
      const up = nodes.filter((x) => x.running);
      if (up.length < Math.floor(count / 2) + 1) return;
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 0; ; attempt++) {
        const missing = [];
        for (const node of up) {
          const client = new Client({ endPoint: '127.0.0.1', port: node.port, useSSL: false, accessKey: user, secretKey: password, pathStyle: true, retryOptions: { disableRetry: true } });
          const key = `node${node.index}-${Date.now()}-${attempt}`;
          const put = await Promise.race([
            client.putObject(PROBE_BUCKET, key, Buffer.from(key)).then(() => true, () => false),
            new Promise((r) => setTimeout(() => r(false), 10_000)),
          ]);
          const on = put ? up.filter((d) => existsSync(join(d.drive, PROBE_BUCKET, key, 'xl.meta'))).length : 0;
          if (on < up.length) missing.push(`node ${node.index} wrote to ${on} of ${up.length} drives`);
        }
        if (missing.length === 0) return;
        if (Date.now() > deadline) throw new Error(`distributed MinIO not whole after ${timeoutMs / 1000} s: ${missing.join('; ')}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    /**
     * Heals BUCKET with MinIO's own heal sequence (what `mc admin heal -r`
     * starts) and waits for it to finish. Answers { summary, detail, items },
     * items as madmin's HealResultItem (type, object, before/after drives).
     */
    async heal(bucket, timeoutMs = 120_000) {
      const node = nodes.find((x) => x.running);
      const path = `/minio/admin/v3/heal/${encodeURIComponent(bucket)}`;
      const started = await admin('POST', `${path}?forceStart=true`, JSON.stringify({ recursive: true, scanMode: 1 }), node);
      if (started.status !== 200 || !started.json?.clientToken) throw new Error(`heal ${bucket}: HTTP ${started.status}: ${started.text}`);
      const token = encodeURIComponent(started.json.clientToken);
      const items = [];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await admin('POST', `${path}?clientToken=${token}`, '', node);
        if (r.status !== 200 || !r.json) throw new Error(`heal ${bucket} status: HTTP ${r.status}: ${r.text}`);
        items.push(...(r.json.Items ?? r.json.items ?? []));
        const summary = r.json.Summary ?? r.json.summary;
        if (summary !== 'running') return { summary, detail: r.json.Detail ?? r.json.detail ?? '', items };
        if (Date.now() > deadline) throw new Error(`heal ${bucket} still running after ${timeoutMs / 1000} s`);
        await new Promise((res) => setTimeout(res, 300));
      }
    },
    async stop() {
      await Promise.allSettled(nodes.map((x) => x.stop()));
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
  try {
    await Promise.all(nodes.map((x) => x.start()));
    const { Client } = await import('minio');
    const client = new Client({ endPoint: '127.0.0.1', port: api[0], useSSL: false, accessKey: user, secretKey: password, pathStyle: true, retryOptions: { disableRetry: true } });
    for (const deadline = Date.now() + 90_000; ; ) {
      // A fresh cluster answers 503 until its drives are formatted.
      const made = await client.makeBucket(PROBE_BUCKET).then(
        () => true,
        (e) => e.code === 'BucketAlreadyOwnedByYou' || (Date.now() > deadline ? Promise.reject(e) : false),
      );
      if (made) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await cluster.waitOnline();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  log(`distributed MinIO: ${count} nodes on 127.0.0.1:${api.join(',')} (one erasure set of ${count} drives)`);
  return cluster;
}

/**
 * Starts what is needed and not given by env. Never throws for a server that
 * cannot be had: its error text is returned instead, so each test file can
 * decide (under CI=true such a test fails; elsewhere it is skipped, loudly).
 */
export async function startServers({ env = process.env, log = () => {}, mongodb = true, minio = true, ferretdbPg = false } = {}) {
  const result = {
    mongodbUrl: null,
    minioUrl: null,
    mongodbKind: null,
    minioKind: null,
    ferretdbPgUrl: null,
    ferretdbPgKind: null,
    errors: {},
    stops: [],
    async stop() {
      await Promise.allSettled(this.stops.map((s) => s()));
      this.stops = [];
    },
  };
  const tasks = [];
  if (mongodb) {
    tasks.push(
      (async () => {
        if (env.MLMODEL_TEST_MONGODB_URL) {
          result.mongodbUrl = env.MLMODEL_TEST_MONGODB_URL;
          result.mongodbKind = 'MLMODEL_TEST_MONGODB_URL';
          return;
        }
        const mongod = onPath('mongod', env);
        const srv = mongod ? await startMongod({ bin: mongod, env, log }) : await startFerretdb({ env, log });
        result.stops.push(srv.stop);
        result.mongodbUrl = srv.url;
        result.mongodbKind = srv.kind;
      })().catch((e) => {
        result.errors.mongodb = e.message;
      }),
    );
  }
  if (minio) {
    tasks.push(
      (async () => {
        if (env.MLMODEL_TEST_MINIO_URL) {
          result.minioUrl = env.MLMODEL_TEST_MINIO_URL;
          result.minioKind = 'MLMODEL_TEST_MINIO_URL';
          return;
        }
        // Build one binary after the other: two Go builds at once on two
        // cores take as long and fight over the module cache.
        if (mongodb && !env.MLMODEL_TEST_MONGODB_URL && !onPath('mongod', env)) {
          await ensureFerretdb({ env, log }).catch(() => {});
        }
        const srv = await startMinio({ env, log });
        result.stops.push(srv.stop);
        result.minioUrl = srv.url;
        result.minioKind = srv.kind;
      })().catch((e) => {
        result.errors.minio = e.message;
      }),
    );
  }
  if (ferretdbPg) {
    tasks.push(
      (async () => {
        if (env.MLMODEL_TEST_FERRETDB_PG_URL) {
          result.ferretdbPgUrl = env.MLMODEL_TEST_FERRETDB_PG_URL;
          result.ferretdbPgKind = 'MLMODEL_TEST_FERRETDB_PG_URL';
          return;
        }
        const srv = await startFerretdbPostgres({ env, log });
        result.stops.push(srv.stop);
        result.ferretdbPgUrl = srv.url;
        result.ferretdbPgKind = srv.kind;
      })().catch((e) => {
        result.errors.ferretdbPg = e.message;
      }),
    );
  }
  await Promise.all(tasks);
  return result;
}

async function main(argv) {
  const log = (m) => process.stderr.write(`[test-servers] ${m}\n`);
  const [cmd, ...rest] = argv;
  if (cmd === 'build') {
    let failed = false;
    for (const [name, fn] of [
      ['FerretDB', ensureFerretdb],
      ['MinIO', ensureMinio],
    ]) {
      try {
        log(`${name}: ${await fn({ log })}`);
      } catch (e) {
        failed = true;
        log(`${name} build failed: ${e.message}`);
      }
    }
    return failed ? 1 : 0;
  }
  if (cmd === 'minio-cluster') {
    const cluster = await startDistributedMinio({ log });
    for (const node of cluster.nodes) process.stdout.write(`${node.url}\n`);
    log('running; Ctrl-C stops it');
    await new Promise((r) => {
      process.once('SIGINT', r);
      process.once('SIGTERM', r);
    });
    await cluster.stop();
    return 0;
  }
  if (cmd === 'start' || cmd === 'run') {
    const ferretdbPg = rest.includes('--postgres') && (rest.indexOf('--') < 0 || rest.indexOf('--postgres') < rest.indexOf('--'));
    const servers = await startServers({ log, ferretdbPg });
    for (const [k, v] of Object.entries(servers.errors)) log(`${k}: ${v}`);
    const vars = {
      ...(servers.mongodbUrl ? { MLMODEL_TEST_MONGODB_URL: servers.mongodbUrl } : {}),
      ...(servers.minioUrl ? { MLMODEL_TEST_MINIO_URL: servers.minioUrl } : {}),
      ...(servers.ferretdbPgUrl ? { MLMODEL_TEST_FERRETDB_PG_URL: servers.ferretdbPgUrl } : {}),
    };
    const stopAll = async () => servers.stop();
    if (cmd === 'start') {
      for (const [k, v] of Object.entries(vars)) process.stdout.write(`export ${k}='${v}'\n`);
      log('running; Ctrl-C stops them');
      await new Promise((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      });
      await stopAll();
      return Object.keys(servers.errors).length ? 1 : 0;
    }
    const sep = rest.indexOf('--');
    const command = sep >= 0 ? rest.slice(sep + 1) : rest;
    if (command.length === 0) {
      await stopAll();
      log('usage: test-servers.mjs run -- COMMAND [ARGS…]');
      return 2;
    }
    const code = await new Promise((resolve) => {
      const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, ...vars } });
      child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
      child.once('error', (e) => {
        log(e.message);
        resolve(127);
      });
    });
    await stopAll();
    return code;
  }
  log('usage: node scripts/test-servers.mjs build | start [--postgres] | run [--postgres] -- COMMAND [ARGS…] | minio-cluster');
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`[test-servers] ${e.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
