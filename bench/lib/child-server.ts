import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port free on loopback now (the kernel's pick; released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** The servers started as leaders of their own process group. */
const leaders = new WeakSet<ChildProcess>();

export interface ServerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Start it as the leader of its own process group, so stopServer signals
   * every worker it forks too (mlflow server runs uvicorn workers under it).
   */
  readonly group?: boolean;
}

/** Spawns a server and waits for `GET ready` to answer 200; returns it and the ms from spawn to ready. */
export async function startServer(cmd: string, args: string[], ready: string, options: ServerOptions = {}): Promise<{ child: ChildProcess; ms: number }> {
  const t = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env, cwd: options.cwd, detached: options.group ?? false });
  if (options.group) leaders.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const deadline = Date.now() + 180_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}: ${err}`);
      if (Date.now() > deadline) throw new Error(`${cmd} not ready after 180 s: ${err}`);
      const ok = await fetch(ready).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { child, ms: performance.now() - t };
      await new Promise((r) => setTimeout(r, 10));
    }
  } catch (e) {
    await stopServer(child);
    throw e;
  }
}

/** SIGTERM (to its whole group when it leads one), SIGKILL after 10 s; resolves when it has exited. */
export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (leaders.has(child)) process.kill(-child.pid!, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    child.once('exit', () => {
      // The leader gone, its workers may linger: the group gets the last word.
      if (leaders.has(child)) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // None left.
        }
      }
      res();
    });
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), 10_000).unref();
  });
}
