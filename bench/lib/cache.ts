import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where benches keep what is slow to make (peers' installs, seeded registries): outside the clone. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'mlmodel');
}

export const benchCache = (...parts: string[]) => join(cacheRoot(), 'bench', ...parts);

/** The repository root (dist/bench/lib/cache.js → ../../..). */
export const repoRoot = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

/** package.json's bin (the launcher restoring the start-up snapshot): the `mlmodel` a person or a script runs. */
export const BIN = join(repoRoot, (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: { mlmodel: string } }).bin.mlmodel);

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
