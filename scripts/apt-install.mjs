// Debian packages a test needs and a clean machine may lack (chromium for
// the browser tests, postgresql for FerretDB's second backend): one apt-get
// install per machine, as root, as apt requires.
import { spawnSync } from 'node:child_process';

/** Installs Debian's PACKAGES with apt-get (update first); throws with apt's own message when it fails or when not root. */
export function aptGetInstall(packages, why, log = (m) => process.stderr.write(`[apt] ${m}\n`)) {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${why} and installing it needs root: run apt-get install -y ${packages.join(' ')} as root`);
  }
  log(`installing Debian's ${packages.join(', ')} (once per machine): ${why}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000 });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${r.error?.message ?? `status ${r.status}`}): ${(r.stderr ?? '').slice(-2000)}`);
  }
}
