import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { NODE_FLAGS } from './node-flags.js';

/**
 * The `mlmodel` bin restored from a V8 startup snapshot (Node 20's
 * `--build-snapshot`), built by `npm run build` after the ESM bundle:
 *
 *   dist/bin/snapshot-bundle.cjs   console/snapshot.ts and what a one-shot query runs, one CommonJS file
 *   dist/bin/snapshot-builder.cjs  what `node --build-snapshot` runs (scripts/snapshot-builder.ts)
 *   dist/bin/mlmodel.blob          the snapshot: the language built, the modules evaluated
 *   dist/bin/mlmodel               package.json's bin: a /bin/sh launcher
 *
 * A snapshot belongs to one node binary and its V8 flags; restored by another
 * it fails before running a line. So the launcher uses it only with the node
 * that built it (the same path, not modified since) and no NODE_OPTIONS, and
 * otherwise runs the ESM bin (dist/bin/mlmodel.js) with whatever node is on
 * PATH, as `#!/usr/bin/env node` did. A build whose snapshot does not answer
 * `--version` as the ESM bin does leaves no blob, so the launcher falls back.
 */
const root = new URL('../../', import.meta.url);
const bin = new URL('dist/bin/', root).pathname;
const require = createRequire(import.meta.url);
const CHEVROTAIN_MODULE = new URL('dist/grammar/chevrotain.js', root).pathname;

/**
 * Packages the snapshot leaves out, loaded after it is restored when a path
 * needs them: onnxruntime's native addon (a snapshot cannot hold one), the REPL's
 * Ink and React (ES modules; the REPL runs the ESM bin), and the drivers and
 * parsers a one-shot query on the embedded store does not load.
 */
const EXTERNAL = /^(onnxruntime-node|ink|react|mongodb|minio|mingo|yaml)(\/|$)/;

const snapshotModules: Plugin = {
  name: 'mlmodel-snapshot',
  setup(b) {
    // better-sqlite3's JavaScript is in the snapshot; its addon is loaded when
    // the first database opens: the one built beside the JavaScript the
    // snapshot holds (found where this build found the package, relative to
    // the bin, so a tree moved whole still finds it), loaded directly; where
    // it is not, `bindings` searches the package's directory, which is asked
    // for once restored (it would otherwise look from the bundle). bindings'
    // own search tries two other places first, each a failed require, and
    // the resolve needs a require made from the bin: ~5 ms of every start.
    b.onResolve({ filter: /^bindings$/ }, (a) =>
      a.importer.includes('/better-sqlite3/') ? { path: 'bindings', namespace: 'mlmodel-bindings', pluginData: a.resolveDir } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'mlmodel-bindings' }, (a) => ({
      contents:
        // (`runtime`: esbuild would warn of a require.resolve it leaves alone; leaving it is the point.)
        "const { existsSync } = require('node:fs');\nconst { dirname, resolve } = require('node:path');\nconst runtime = require;\n" +
        `const BUILT = ${JSON.stringify(relative(bin, join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release')))};\n` +
        'module.exports = (name) => {\n' +
        '  const built = resolve(dirname(__mlmodelMeta.path), BUILT, name);\n' +
        '  if (existsSync(built)) {\n' +
        '    const addon = { exports: {} };\n' +
        '    process.dlopen(addon, built);\n' +
        '    return addon.exports;\n' +
        '  }\n' +
        "  return require('bindings')({ bindings: name, module_root: dirname(runtime.resolve('better-sqlite3/package.json')) });\n" +
        '};',
      loader: 'js',
      resolveDir: a.pluginData as string,
    }));
    b.onResolve({ filter: EXTERNAL }, (a) => ({ path: a.path, external: true }));
    // The REPL and serve run the ESM bin (console/snapshot.ts), so the snapshot need not hold them.
    b.onResolve({ filter: /^\.\/(repl\/index|serve\/main)\.js$/ }, (a) =>
      a.importer.endsWith('/console/main.js') ? { path: 'mlmodel-runs-the-esm-bin', external: true } : undefined,
    );
    // grammar/chevrotain.ts imports Chevrotain's one-file bundle with a top-level
    // await, which CommonJS cannot hold; here the bundle is bundled directly.
    b.onResolve({ filter: /\/chevrotain\.js$/ }, (a) =>
      resolve(a.resolveDir, a.path) === CHEVROTAIN_MODULE ? { path: a.path, namespace: 'mlmodel-chevrotain' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'mlmodel-chevrotain' }, () => ({
      contents: `export * from ${JSON.stringify(require.resolve('chevrotain').replace(/src[\\/]api\.js$/, 'chevrotain.min.mjs'))};`,
      loader: 'js',
      resolveDir: bin,
    }));
    // createRequire(import.meta.url) at a module's top level would be bound
    // while the snapshot is built; every caller asks from the bin's place, so
    // they get the builder's require, which resolves from the bin once restored.
    b.onResolve({ filter: /^node:module$/ }, (a) => (a.importer.includes('/dist/') ? { path: 'node:module', namespace: 'mlmodel-module' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'mlmodel-module' }, () => ({
      contents: 'export const createRequire = () => require;',
      loader: 'js',
    }));
  },
};

export async function buildSnapshot(): Promise<void> {
  const blob = `${bin}mlmodel.blob`;
  const bundle = `${bin}snapshot-bundle.cjs`;
  const builder = `${bin}snapshot-builder.cjs`;
  const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' } as const;
  await build({
    ...common,
    entryPoints: [new URL('dist/console/snapshot.js', root).pathname],
    outfile: bundle,
    define: { 'import.meta.url': '__mlmodelMeta.url' },
    // Restoring costs about 5 ms per MB of heap: no comments or white space in the source it keeps.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    plugins: [snapshotModules],
  });
  await build({ ...common, entryPoints: [new URL('dist/scripts/snapshot-builder.js', root).pathname], outfile: builder });
  rmSync(blob, { force: true });
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const made = spawnSync(process.execPath, [...NODE_FLAGS, '--snapshot-blob', blob, '--build-snapshot', builder, bundle], { env, encoding: 'utf8' });
  if (made.status === 0 && !answersAsTheBin(blob, env)) rmSync(blob, { force: true });
  if (made.status !== 0) {
    rmSync(blob, { force: true });
    process.stderr.write(`mlmodel: the start-up snapshot was not built (the bin runs without it):\n${made.stderr}`);
  }
  writeLauncher();
}

function answersAsTheBin(blob: string, env: NodeJS.ProcessEnv): boolean {
  const esm = spawnSync(process.execPath, [...NODE_FLAGS, `${bin}mlmodel.js`, '--version'], { env, encoding: 'utf8' });
  const restored = spawnSync(process.execPath, [...NODE_FLAGS, '--snapshot-blob', blob, `${bin}mlmodel.js`, '--version'], { env, encoding: 'utf8' });
  const same = restored.status === esm.status && restored.stdout === esm.stdout && restored.stderr === esm.stderr;
  if (!same) process.stderr.write(`mlmodel: the start-up snapshot answers --version otherwise than the bin; not used:\n${restored.stderr}\n`);
  return same;
}

/**
 * /bin/sh, not node: deciding costs a shell's start (a millisecond or two)
 * instead of a second node's. `readlink -f` only when the bin is reached
 * through a link (npm's node_modules/.bin), to find the files beside it, and
 * when the node on PATH is not the building one's path as written (a link to
 * it, as /usr/bin/node may be, is the same node; process.execPath is the
 * real path).
 */
function writeLauncher(): void {
  const file = `${bin}mlmodel`;
  const flags = NODE_FLAGS.map(shellQuote).join(' ');
  writeFileSync(
    file,
    `#!/bin/sh
# mlmodel: restored from dist/bin/mlmodel.blob when this is the node that built it (scripts/snapshot.ts)
self=$0
if [ -L "$self" ]; then self=$(readlink -f "$self"); fi
dir=\${self%/*}
node=${shellQuote(process.execPath)}
found=$(command -v node)
if [ "$found" != "$node" ] && [ -n "$found" ]; then found=$(readlink -f "$found"); fi
if [ -z "\${NODE_OPTIONS-}" ] && [ -f "$dir/mlmodel.blob" ] && [ "$found" = "$node" ] && ! [ "$node" -nt "$dir/mlmodel.blob" ]; then
  exec "$node" ${flags} --snapshot-blob "$dir/mlmodel.blob" "$dir/mlmodel.js" "$@"
fi
exec node ${flags} "$dir/mlmodel.js" "$@"
`,
  );
  chmodSync(file, 0o755);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
