/**
 * mingo, loaded on first use. Importing it costs about 200 ms of start-up
 * (hundreds of modules) and most queries never need it: the stores and a
 * list's stages filter with store/match.ts. Only a `where` stage on another
 * command's table (versions, summary, …) loads it. Its CommonJS
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
