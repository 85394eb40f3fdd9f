#!/usr/bin/env node
// Debian's wrk, the HTTP load generator bench:serving drives every server with: a C program with
// its own event loop, so the load it makes costs the 2 cores it shares with the server under test
// far less than a node client does. Installed with apt-get when missing; needs root, as apt does.
//   node scripts/install-wrk.mjs        installs if needed, prints the path
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { aptGetInstall } from './apt-install.mjs';

/** wrk on PATH, or null. */
function whichWrk() {
  const r = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

/** The path of a usable wrk, installing Debian's package first if it is missing. */
export function ensureWrk(log = (m) => process.stderr.write(`[wrk] ${m}\n`)) {
  const found = whichWrk();
  if (found) return found;
  aptGetInstall(['wrk'], 'wrk (the HTTP load generator of bench:serving) is missing', log);
  const installed = whichWrk();
  if (!installed) throw new Error('apt-get installed wrk but it is not on PATH');
  return installed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(ensureWrk());
