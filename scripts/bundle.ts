import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { buildSnapshot } from './snapshot.js';

/**
 * The command line as one bundled file, dist/bin/mlmodel.js: our own modules
 * (about 150 of them behind `mlmodel -c`) cost a one-shot run more to resolve
 * and read one by one than to run, so the `mlmodel` bin is tsc's output
 * bundled. What a run may not need stays out of the main file: every dynamic
 * import (the REPL with Ink and React, `serve`, the store drivers, the
 * executors of commands, YAML) becomes a chunk beside it, loaded when first
 * used, and the packages in node_modules are left to Node's resolution
 * (native better-sqlite3 and onnxruntime-node cannot be bundled, and the
 * others load only on the paths that use them). dist/console/cli.js stays the
 * same program, unbundled, for the tests and the library. Then the start-up
 * snapshot and the launcher that package.json's bin names (scripts/snapshot.ts).
 *
 *   node dist/scripts/bundle.js      (run by `npm run build`, after tsc)
 */
const root = new URL('../../', import.meta.url);
const outdir = new URL('dist/bin/', root).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { mlmodel: new URL('dist/console/cli.js', root).pathname },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});
await buildSnapshot();
