/**
 * Real servers that a test can SIGKILL and start again on the same port and
 * data directory, and the console as a child process (issue 9.5/9.6).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
// @ts-expect-error -- a plain .mjs script without type declarations
import { ensureFerretdb, ensureMinio, freePort } from '../../scripts/test-servers.mjs';

export const CLI = resolve(import.meta.dirname, '../../dist/console/cli.js');

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** A server process with a fixed port and data directory: kill -9 it, start it again. */
export class KillableServer {
  child: ChildProcess | undefined;
  kills = 0;
  starts = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly bin: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly ready: () => Promise<boolean>,
  ) {}

  async start(timeoutMs = 60_000): Promise<void> {
    const out = createWriteStream(this.logFile, { flags: 'a' });
    await new Promise((r) => out.once('open', r));
    const child = spawn(this.bin, this.args, { env: this.env, stdio: ['ignore', out, out] });
    this.child = child;
    this.starts++;
    let gone = false;
    this.exited = new Promise((r) =>
      child.once('exit', () => {
        gone = true;
        out.end();
        r();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`${this.name} exited while starting (see ${this.logFile})`);
      if (await this.ready().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${this.name} did not become ready in ${timeoutMs} ms (see ${this.logFile})`);
  }

  async kill9(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    this.kills++;
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

export interface FaultServers {
  ferret: KillableServer;
  minio: KillableServer;
  mongoUrl: string;
  /** http://USER:PASSWORD@127.0.0.1:PORT */
  minioBase: string;
  stop(): Promise<void>;
}

export async function startKillableServers(dir: string): Promise<FaultServers> {
  const ferretBin: string = await ensureFerretdb({});
  const minioBin: string = await ensureMinio({});
  await mkdir(join(dir, 'ferret'), { recursive: true });
  await mkdir(join(dir, 'minio'), { recursive: true });
  const [fport, mport, cport] = [(await freePort()) as number, (await freePort()) as number, (await freePort()) as number];
  const mongoUrl = `mongodb://127.0.0.1:${fport}/`;
  const { MongoClient } = await import('mongodb');
  const ferret = new KillableServer(
    'FerretDB',
    ferretBin,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${join(dir, 'ferret')}/`,
      `--listen-addr=127.0.0.1:${fport}`,
      '--telemetry=disable',
      '--debug-addr=-',
      `--state-dir=${join(dir, 'ferret')}`,
      '--log-level=warn',
    ],
    process.env,
    join(dir, 'ferret.log'),
    async () => {
      if (!(await tcpOpen(fport))) return false;
      const c = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 2000 });
      try {
        await c.db('admin').command({ ping: 1 });
        return true;
      } finally {
        await c.close().catch(() => undefined);
      }
    },
  );
  const user = 'mlmodelfaults';
  const password = randomBytes(18).toString('base64url');
  const minio = new KillableServer(
    'MinIO',
    minioBin,
    ['server', join(dir, 'minio'), '--address', `127.0.0.1:${mport}`, '--console-address', `127.0.0.1:${cport}`, '--quiet'],
    { ...process.env, MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off', MINIO_CONFIG_ENV_FILE: '' },
    join(dir, 'minio.log'),
    async () => (await fetch(`http://127.0.0.1:${mport}/minio/health/ready`, { signal: AbortSignal.timeout(2000) })).ok,
  );
  await Promise.all([ferret.start(), minio.start()]);
  return {
    ferret,
    minio,
    mongoUrl,
    minioBase: `http://${user}:${password}@127.0.0.1:${mport}`,
    async stop() {
      await Promise.allSettled([ferret.stop(), minio.stop()]);
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `mlmodel --format json -c QUERY` as a child. `killAfterMs` SIGKILLs it
 * that long after it started (the console dying mid-command); `timeoutMs`
 * does the same to one that hangs.
 */
export function runCli(
  query: string,
  env: NodeJS.ProcessEnv,
  opts: { killAfterMs?: number; timeoutMs?: number; args?: string[]; /** Runs this script (`-f`) instead of the query. */ script?: string } = {},
): Promise<CliResult & { killed: boolean }> {
  return new Promise((res) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, '--format', 'json', ...(opts.args ?? []), ...(opts.script ? ['-f', opts.script] : ['-c', query])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const timers = [
      ...(opts.killAfterMs !== undefined ? [setTimeout(kill, opts.killAfterMs)] : []),
      setTimeout(kill, opts.timeoutMs ?? 120_000),
    ];
    child.once('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      res({ code, signal, stdout, stderr, ms: Date.now() - started, killed });
    });
  });
}

/** The rows of a successful json-format result, or null. */
/** fsck(8)'s statuses: 0 nothing found, 1 all corrected, 4 problems left — each with its rows. */
export const FSCK_STATUSES = [0, 1, 4] as const;

export function jsonRows(r: CliResult, ok: readonly number[] = [0]): unknown[][] | null {
  if (r.code === null || !ok.includes(r.code)) return null;
  try {
    const parsed = JSON.parse(r.stdout.trim().split('\n').filter(Boolean).at(-1) ?? '') as { rows?: unknown[][] };
    return parsed.rows ?? null;
  } catch {
    return null;
  }
}

/** mulberry32, for a campaign that can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
