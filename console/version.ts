import { readFileSync } from 'node:fs';

/** mlmodel's version, from its package.json (`mlmodel --version`, the prediction protocols' server metadata). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
