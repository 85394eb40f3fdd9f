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

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
