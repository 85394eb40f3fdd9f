// Bundles the web page (web/src/main.ts, uPlot and its CSS) into dist/web/app.js, app.css and
// chunk-*.js, minified: everything the page needs is served by `mlmodel serve` itself, nothing
// from a CDN. The runs pages (and uPlot) are a chunk of their own, so the model list loads without them.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Chunk names carry a hash: old ones would pile up.
rmSync(`${root}/dist/web`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.ts' },
  bundle: true,
  minify: true,
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: 'es2022',
  outdir: 'dist/web',
  legalComments: 'none',
  logLevel: 'warning',
});
