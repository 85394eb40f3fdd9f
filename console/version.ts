import { existsSync, readFileSync } from 'node:fs';

/**
 * mlmodel's version, from its package.json (`mlmodel --version`, the
 * prediction protocols' server metadata): two levels up from dist/console/,
 * one from console/ when run from source (the tests).
 */
export function packageVersion(): string {
  const file = [new URL('../../package.json', import.meta.url), new URL('../package.json', import.meta.url)].find((u) => existsSync(u) && readFileSync(u, 'utf8').includes('"name": "mlmodel"'));
  const pkg = JSON.parse(readFileSync(file ?? new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
