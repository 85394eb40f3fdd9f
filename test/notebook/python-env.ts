import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REQUIREMENTS = new URL('./requirements.txt', import.meta.url).pathname;

/**
 * The Python the notebook tests use: a virtualenv with IPython and pandas
 * (test/notebook/requirements.txt), made with the machine's python3 on first
 * use and cached under ~/.cache/mlmodel/ (MLMODEL_CACHE_DIR), keyed by the
 * requirements and the Python version, so later runs start at once.
 * Throws with the reason when it cannot be had.
 */
export async function notebookPython(log: (m: string) => void = () => undefined): Promise<string> {
  return cachedPython({ name: 'notebook', requirements: REQUIREMENTS, what: 'IPython, pandas' }, log);
}

export interface PythonEnv {
  /** Names the cached virtualenv: `<name>-venv-<key>`. */
  readonly name: string;
  /** A pip requirements file; its content is part of the cache key. */
  readonly requirements: string;
  /** Said in the log line while it is made. */
  readonly what: string;
  /** More pip install arguments (e.g. --no-deps for a package whose dependencies are not needed). */
  readonly pipArgs?: readonly string[];
}

/** A virtualenv with `env.requirements`, made once per machine and cached like the notebook's; returns its python. */
export async function cachedPython(env: PythonEnv, log: (m: string) => void = () => undefined): Promise<string> {
  const base = process.env.MLMODEL_PYTHON ?? 'python3';
  let version: string;
  try {
    version = (await run(base, ['-c', 'import sys; print(sys.version)'])).stdout.trim();
  } catch (e) {
    throw new Error(`no usable ${base} on PATH (set MLMODEL_PYTHON): ${(e as Error).message}`, { cause: e });
  }
  const key = createHash('sha256').update(readFileSync(env.requirements)).update(version).update((env.pipArgs ?? []).join(' ')).digest('hex').slice(0, 12);
  const cache = process.env.MLMODEL_CACHE_DIR ?? join(homedir(), '.cache', 'mlmodel');
  const venv = join(cache, `${env.name}-venv-${key}`);
  const python = join(venv, 'bin', 'python');
  const ready = join(venv, '.ready');
  if (existsSync(ready)) return python;

  mkdirSync(cache, { recursive: true });
  const lock = `${venv}.lock`;
  await acquire(lock);
  try {
    if (existsSync(ready)) return python;
    rmSync(venv, { recursive: true, force: true });
    log(`creating ${venv} (${env.what}; once per machine)`);
    const started = Date.now();
    await run(base, ['-m', 'venv', venv]);
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', ...(env.pipArgs ?? []), '-r', env.requirements], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 540_000,
    });
    writeFileSync(ready, `${new Date().toISOString()}\n`);
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return python;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`could not set up ${venv}: ${err.message}${err.stderr ? `\n${err.stderr.slice(-2000)}` : ''}`, { cause: e });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A directory as a lock between processes; one left behind by a dead run is taken over after 10 minutes. */
async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
