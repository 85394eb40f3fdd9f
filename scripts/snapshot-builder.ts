import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startupSnapshot } from 'node:v8';
import vm from 'node:vm';

/**
 * The script `node --build-snapshot` runs (bundled to CommonJS by
 * scripts/snapshot.ts; Node 20 takes a single CommonJS file that may require
 * only built-ins). It evaluates the command line's snapshot bundle
 * (console/snapshot.ts, CommonJS, argv[2]) and names what runs when the
 * snapshot is restored.
 *
 * The bundle is compiled with vm's main-context loader for `import()`: a
 * script in a snapshot has no dynamic import of its own, and the REPL, the
 * packages that are ES modules and the full bin fallback need one. Packages
 * left out of the bundle (the SQLite addon above all) are required after the
 * snapshot is restored, from where the bin lies, as the ESM bin would find
 * them; one required while the snapshot is built is a mistake in the bundle's
 * externals and fails the build.
 */
interface SnapshotBundle {
  runFromSnapshot(argv: readonly string[], entry: string, importModule: (url: string) => Promise<unknown>): Promise<void>;
}

type Require = ((id: string) => unknown) & { resolve(id: string, options?: { paths?: string[] }): string };

/** The bin's path once restored (undefined while the snapshot is built). */
let entry: string | undefined;
let runtime: NodeJS.Require | undefined;
/** A require from the bin's place, made when first needed: a one-shot query on the embedded store needs none. */
function runtimeRequire(what: string): NodeJS.Require {
  if (!entry) throw new Error(`${what} while the snapshot is built; it must load after it is restored`);
  return (runtime ??= createRequire(entry));
}
const requireFor = ((id: string) => {
  if (isBuiltin(id)) return process.getBuiltinModule(id);
  return runtimeRequire(`${id} is required`)(id);
}) as Require;
requireFor.resolve = (id, options) => runtimeRequire(`${id} is resolved`).resolve(id, options);
/**
 * What the bundle reads for import.meta.url (scripts/snapshot.ts defines it
 * so): the bin's URL once restored, made when first read; and `path`, the
 * bin's path, where the SQLite addon's shim looks from.
 */
let entryUrl: string | undefined;
const meta = {
  get url(): string {
    return entry ? (entryUrl ??= pathToFileURL(entry).href) : 'file:///mlmodel-snapshot-is-being-built/';
  },
  get path(): string | undefined {
    return entry;
  },
};

const file = process.argv[2];
if (!file) throw new Error('usage: node --build-snapshot snapshot-builder.cjs BUNDLE');
const wrapped = new vm.Script(`(function (require, module, exports, __mlmodelMeta) {${readFileSync(file, 'utf8')}\n})`, {
  filename: file,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
}).runInThisContext() as (require: Require, module: { exports: object }, exports: object, meta: { readonly url: string }) => void;
const module = { exports: {} };
wrapped(requireFor, module, module.exports, meta);
const bundle = module.exports as SnapshotBundle;
// The bundle's import() of a computed specifier, compiled with the same loader.
const importModule = new vm.Script('(url) => import(url)', { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext() as (
  url: string,
) => Promise<unknown>;

/**
 * Node 20 restores the global console without its Console constructor
 * (typeof console.Console is 'undefined' in a restored process); Ink and
 * others build consoles of their own with it. The constructor itself survives
 * the snapshot, so it is kept here and put back.
 */
const ConsoleConstructor = console.Console;

startupSnapshot.setDeserializeMainFunction(() => {
  if (typeof console.Console !== 'function') Object.defineProperty(console, 'Console', { value: ConsoleConstructor, writable: true, configurable: true, enumerable: true });
  // The launcher runs `node --snapshot-blob mlmodel.blob dist/bin/mlmodel.js ARGS…`: argv[1] is the bin.
  const given = process.argv[1];
  if (!given) throw new Error('mlmodel snapshot: restored without the bin as its first argument');
  entry = resolve(given);
  quietLoaderWarning();
  void bundle.runFromSnapshot(process.argv.slice(2), entry, importModule);
});

/**
 * The main-context loader is marked experimental in Node 20 and says so on
 * stderr the first time it loads a module; the ESM bin prints no such line,
 * so that one warning is dropped and every other passes.
 */
function quietLoaderWarning(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
    (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
