// node what-loads.mjs SPECIFIER: imports SPECIFIER (resolved from inside this
// package, so `mlmodel/grammar` is the package's own export) and prints, as
// JSON, every module URL that was loaded to do so.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const loaded = [];
port1.on('message', (url) => loaded.push(url));
register('./load-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
const specifier = process.argv[2];
const mod = await import(specifier);
// Messages arrive in order: once a sentinel loaded after the import is reported, every load before it is too.
const SENTINEL = 'data:text/javascript,export const sentinel = 1;';
await import(SENTINEL);
while (!loaded.includes(SENTINEL)) await new Promise((r) => setTimeout(r, 5));
port1.close();
process.stdout.write(JSON.stringify({ exports: Object.keys(mod).sort(), loaded: loaded.filter((u) => u !== SENTINEL) }) + '\n');
