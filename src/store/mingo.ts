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
import type * as MingoUtil from 'mingo/util';
import { regexToLikeTokens, toMingo, type FilterDoc } from './filter.js';
import { likeMatcher } from './like.js';

const require = createRequire(import.meta.url);
let loaded: typeof Mingo | undefined;
let context: Mingo.Context | undefined;

export function mingo(): typeof Mingo {
  return (loaded ??= require('mingo') as typeof Mingo);
}

/**
 * A validated filter as a mingo query, with `$like` (what toMingo makes of a
 * like-regex) evaluated by the linear matcher in ./like.ts. It selects values
 * as mingo's `$regex` does, so the semantics stay the same: a string matches,
 * an array matches when one of its strings does, anything else never.
 */
export function filterQuery(doc: FilterDoc): Mingo.Query {
  const m = mingo();
  // mingo types its operator table as the intersection of all its own operators' signatures.
  context ??= m.Context.init({ query: { $like: likeOperator(require('mingo/util') as typeof MingoUtil) } as never });
  return new m.Query(toMingo(doc), { context });
}

function likeOperator(util: typeof MingoUtil) {
  // Taken once: the CommonJS build exports them through getters.
  const { resolve, flatten } = util;
  return (selector: string, regex: unknown) => {
    const tokens = typeof regex === 'string' ? regexToLikeTokens(regex) : null;
    // toMingo only ever passes validated like-regexes; anything else is our bug.
    if (tokens === null) throw new TypeError(`$like needs a like-regex, got ${JSON.stringify(regex)}`);
    const match = likeMatcher(tokens);
    const test = (v: unknown) => typeof v === 'string' && match(v);
    return (doc: Record<string, unknown>): boolean => {
      const value = resolve(doc, selector, { unwrapArray: true });
      if (!Array.isArray(value)) return test(value);
      return value.some(test) || flatten(value, 1).some(test);
    };
  };
}
