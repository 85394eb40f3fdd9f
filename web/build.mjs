// Bundles the web page (web/src/main.ts, uPlot and its CSS) into dist/web/app.js and app.css,
// minified: everything the page needs is served by `mlmodel serve` itself, nothing from a CDN.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.ts' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: 'dist/web',
  legalComments: 'none',
  logLevel: 'warning',
});
