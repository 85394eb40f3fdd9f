/** A MinIO server for the benches (scripts/test-servers.mjs builds and starts it), with its buckets. */
import { spawnSync } from 'node:child_process';
import { Agent } from 'node:http';
import { Client } from 'minio';
import { log } from './cache.js';

export interface BenchMinio {
  url: string;
  client: Client;
  stop(): Promise<void>;
}

export async function startBenchMinio(buckets: string[]): Promise<BenchMinio> {
  const servers = (await import(new URL('../../../scripts/test-servers.mjs', import.meta.url).href)) as {
    startServers(o: { mongodb: boolean; minio: boolean; log: (m: string) => void }): Promise<{
      minioUrl: string | null;
      errors: Record<string, string>;
      stop(): Promise<void>;
    }>;
  };
  const srv = await servers.startServers({ mongodb: false, minio: true, log });
  if (!srv.minioUrl) throw new Error(`MinIO could not be started: ${srv.errors.minio ?? 'unknown'}`);
  const u = new URL(srv.minioUrl);
  const client = new Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: decodeURIComponent(u.username),
    secretKey: decodeURIComponent(u.password),
    // No pooled connections: the bench's client sits idle for minutes while
    // mlmodel runs, and a pooled socket the server has closed meanwhile
    // fails the next request with a reset.
    transportAgent: new Agent({ keepAlive: false }),
  });
  for (const b of buckets) if (!(await client.bucketExists(b))) await client.makeBucket(b, '');
  let stopping = false;
  // The client keeps connections alive; when the server goes away at the end, a reset on one of them is expected.
  process.on('uncaughtException', (e: NodeJS.ErrnoException) => {
    if (stopping && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return;
    throw e;
  });
  return {
    url: srv.minioUrl,
    client,
    stop: async () => {
      stopping = true;
      await srv.stop();
    },
  };
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS (MiB) of that process. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; rssMiB: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /RSS_KB=(\d+)/.exec(r.stderr);
  return { seconds, rssMiB: m ? Number(m[1]) / 1024 : NaN, stdout: r.stdout };
}
