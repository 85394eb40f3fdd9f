/**
 * Reads a batch of tar archives with GNU tar, Python's tarfile and
 * mlmodel's own reader, and says what each would put on disk: a tree of
 * relative paths with their kind and size. One Python process reads the
 * whole batch (test/archive/other-readers.py), so thousands of archives
 * cost one interpreter start, not thousands.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { resolveLimits } from '../../src/archive/types.js';
import { ArchiveScanner } from '../../src/archive/scan.js';
import { isMlmodelError } from '../../src/errors.js';

const run = promisify(execFile);
const HELPER = fileURLToPath(new URL('./other-readers.py', import.meta.url));

/** path -> "file <size>" | "dir" | "other": what lands under the destination. */
export type Tree = Record<string, string>;

export interface PythonReading {
  error?: string;
  members?: Array<[string, string, number]>;
  /** Members whose extraction target lies outside the destination. */
  escapes?: string[];
  tree?: Record<string, [string, number]> | null;
}

export interface GnuReading {
  status: number | string;
  stderr: string;
  tree: Record<string, [string, number]>;
}

export interface OtherReadings {
  python: PythonReading;
  gnu: GnuReading;
}

export type OurReading = { ok: true; tree: Tree } | { ok: false; reason: string; message: string };

export function treeOf(raw: Record<string, [string, number]>): Tree {
  const out: Tree = {};
  for (const [path, [kind, size]] of Object.entries(raw)) out[path] = kind === 'file' ? `file ${size}` : kind;
  return out;
}

/** Same keys and values, key order ignored. */
export function sameTree(a: Tree, b: Tree): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** Thousands of small extractions: on a disk-backed /tmp, removing their directories costs more than reading the archives. */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export async function otherReaders(archives: Buffer[]): Promise<OtherReadings[]> {
  const dir = await mkdtemp(join(SCRATCH, 'mlmodel-readers-'));
  try {
    await Promise.all(archives.map((a, i) => writeFile(join(dir, `${i}.tar`), a)));
    const { stdout } = await run('python3', [HELPER, dir, String(archives.length)], { maxBuffer: 1 << 30 });
    const lines = stdout.trim().split('\n');
    if (lines.length !== archives.length) throw new Error(`other-readers.py answered ${lines.length} of ${archives.length} archives`);
    return lines.map((l) => JSON.parse(l) as OtherReadings);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What mlmodel's tar-level checks (the ones import and extraction share) accept, as a tree; no model type is required. */
export function ourReading(archive: Buffer): OurReading {
  const dirs: string[] = [];
  const scanner = new ArchiveScanner(resolveLimits(), undefined, {
    directory: (p) => dirs.push(p),
    fileStart: () => {},
    fileData: () => {},
    fileEnd: () => {},
  });
  try {
    // Odd-sized pieces: every header and body boundary falls inside a write somewhere.
    for (let i = 0; i < archive.length; i += 333) scanner.write(archive.subarray(i, i + 333));
    const { manifest } = scanner.finish();
    const tree: Tree = {};
    const addParents = (p: string): void => {
      const segs = p.split('/');
      for (let i = 1; i < segs.length; i++) tree[segs.slice(0, i).join('/')] = 'dir';
    };
    for (const d of dirs) {
      addParents(d);
      tree[d] = 'dir';
    }
    for (const f of manifest) {
      addParents(f.path);
      tree[f.path] = `file ${f.size}`;
    }
    return { ok: true, tree };
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    return { ok: false, reason: String(e.details['reason'] ?? e.code), message: e.message };
  }
}

/** Why GNU tar and Python's tarfile do not read `r` as one archive, or undefined when they agree. */
export function othersDisagree(r: OtherReadings): string | undefined {
  const { python, gnu } = r;
  if (python.error !== undefined) return `Python fails: ${python.error}`;
  if ((python.escapes ?? []).length > 0) return `Python extracts outside the destination: ${JSON.stringify(python.escapes)}`;
  if (python.tree === null || python.tree === undefined) return `Python extracts links or other non-files: ${JSON.stringify(python.members)}`;
  if (gnu.status !== 0) return `GNU tar exits ${gnu.status}: ${gnu.stderr}`;
  const py = treeOf(python.tree);
  const gn = treeOf(gnu.tree);
  if (!sameTree(py, gn)) return `Python and GNU tar extract different trees: ${JSON.stringify(py)} vs ${JSON.stringify(gn)}`;
  return undefined;
}
