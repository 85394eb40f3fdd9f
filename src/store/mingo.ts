/**
 * mingo, loaded on first use. Importing it costs about 200 ms of start-up
 * (hundreds of modules) and most queries never need it: the embedded store
 * pushes filter, sort and limit into SQL, and the MongoDB store sends them to
 * the server. Only a residual filter (options.*, tags), a sort SQL cannot do,
 * or an in-memory `where` stage after a projection loads it. Its CommonJS
 * build (what Node resolves it to) is required synchronously, so callers stay
 * synchronous.
 */
import { createRequire } from 'node:module';
import type * as Mingo from 'mingo';

const require = createRequire(import.meta.url);
let loaded: typeof Mingo | undefined;

export function mingo(): typeof Mingo {
  return (loaded ??= require('mingo') as typeof Mingo);
}
