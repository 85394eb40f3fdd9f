import { spawn, type ChildProcess } from 'node:child_process';

/** The built CLI, run as a real subprocess. */
export const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;

export interface CliRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock start and end (Date.now()). */
  readonly started: number;
  readonly ended: number;
}

/** Runs `mlmodel ARGS` to its end (a hang bound kills it after `timeoutMs`). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliRun> {
  return finished(startCli(args, env), timeoutMs);
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a started CLI's output until it exits. */
export function finished(child: ChildProcess, timeoutMs = 120_000): Promise<CliRun> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mlmodel ${child.spawnargs.slice(2).join(' ')} still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    // 'close' comes after the exit, once the output pipes have drained.
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, started, ended: Date.now() });
    });
  });
}
