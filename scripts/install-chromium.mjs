#!/usr/bin/env node
// Debian's chromium for the browser tests (test/web/) and bench:web: installed with apt-get when
// /usr/bin/chromium is missing (a clean CI machine), skipped when it is there. Needs root, as apt does.
//   node scripts/install-chromium.mjs        installs if needed, prints the path
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { aptGetInstall } from './apt-install.mjs';

export const CHROMIUM = '/usr/bin/chromium';

/** The path of a usable chromium, installing Debian's package first if it is missing. */
export function ensureChromium(log = (m) => process.stderr.write(`[chromium] ${m}\n`)) {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  aptGetInstall(['chromium'], `${CHROMIUM} is missing`, log);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

/**
 * Chromium's flags for this closed network: headless, no sandbox (root in a
 * container), and none of its own connections (without the background
 * networking flags they are refused and slow it down), in a fresh profile
 * (userDataDir; null when the driver makes one).
 */
export function chromiumArgs(userDataDir) {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    // playwright makes a fresh profile itself and refuses this flag: it passes null.
    ...(userDataDir ? [`--user-data-dir=${userDataDir}`] : []),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(ensureChromium());
}
