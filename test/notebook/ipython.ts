import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { notebookPython } from './python-env.js';

/**
 * Real IPython for the notebook tests: the extension in notebook/ installed
 * with pip (from a copy, as a user would: pip install ./notebook) beside a
 * cached virtualenv with IPython and pandas, and cells run in a fresh
 * IPython process by driver.py, the way a notebook kernel runs them.
 */
export const ROOT = new URL('../../', import.meta.url).pathname;
export const CLI = join(ROOT, 'dist/console/cli.js');
const DRIVER = join(ROOT, 'test/notebook/driver.py');
const run = promisify(execFile);

export interface CellReport {
  source: string;
  success: boolean;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>[];
  /** Progress displays (display_id outputs and their updates), in order, apart from the cell's outputs. */
  progress: { data: Record<string, string>; update: boolean }[];
  error?: { type: string; code: string | null; rendered: string };
  result?: { type: string; mime: string[]; html?: string; plain?: string; dtypes?: Record<string, string>; frame?: { columns: string[]; data: unknown[][] } };
}

export interface Notebook {
  readonly python: string;
  /** Where the extension is installed (PYTHONPATH). */
  readonly site: string;
  /** A scratch directory for the suite. */
  readonly root: string;
}

let setup: Promise<Notebook | Error> | null = null;

/** The venv and the installed extension, once per test file; an Error says why there is no Python. */
export function notebook(): Promise<Notebook | Error> {
  setup ??= (async () => {
    let python: string;
    try {
      python = await notebookPython((m) => process.stderr.write(`[notebook] ${m}\n`));
    } catch (e) {
      process.stderr.write(`[notebook] SKIPPING the IPython magic tests: ${(e as Error).message}\n`);
      return e as Error;
    }
    const root = mkdtempSync(join(tmpdir(), 'mlmodel-notebook-'));
    const site = join(root, 'site');
    // From a copy, since building leaves build/ and *.egg-info behind.
    const source = join(root, 'notebook-src');
    cpSync(join(ROOT, 'notebook'), source, { recursive: true, filter: (p) => !/(__pycache__|\.egg-info|\/build)$/.test(p) });
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '--no-deps', '--no-build-isolation', '--target', site, source]);
    return { python, site, root };
  })();
  return setup;
}

/** The notebook, or the test skipped (a failure under CI=true, where Python is required). */
export function needNotebook(nb: Notebook | Error | undefined, ctx: { skip: (note?: string) => void }): Notebook {
  if (nb && !(nb instanceof Error)) return nb;
  if (process.env.CI === 'true') throw new Error(`IPython is required under CI: ${nb?.message}`);
  ctx.skip(`no IPython: ${nb?.message}`);
  throw new Error('unreachable');
}

export interface RunningIPython {
  readonly child: ChildProcess;
  /** What each cell produced, once the process has run them all. */
  readonly report: Promise<CellReport[]>;
}

/** Starts one fresh IPython process running `cells`. */
export function startIPython(nb: Notebook, cells: string[], env: Record<string, string>): RunningIPython {
  const dir = mkdtempSync(join(nb.root, 'ipy-'));
  const file = join(dir, 'cells.json');
  writeFileSync(file, JSON.stringify(cells));
  const child = spawn(nb.python, ['-m', 'IPython', '--quick', '--no-banner', '--colors=NoColor', DRIVER, file], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, IPYTHONDIR: join(dir, '.ipython'), PYTHONPATH: nb.site, TZ: 'UTC', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const report = new Promise<CellReport[]>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // IPython exits with 1 when the last cell failed; the report is what counts.
      const line = stdout.split('\n').find((l) => l.startsWith('@@REPORT@@'));
      if (!line) reject(new Error(`no report from IPython (status ${code}, signal ${signal}):\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      else resolve(JSON.parse(line.slice('@@REPORT@@'.length)) as CellReport[]);
    });
  });
  report.catch(() => undefined);
  return { child, report };
}

/** Runs the cells in one fresh IPython process and returns what each produced. */
export function ipython(nb: Notebook, cells: string[], env: Record<string, string>): Promise<CellReport[]> {
  return startIPython(nb, cells, env).report;
}
