import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Chevrotain, loaded from the one-file bundle its package ships beside the
 * package entry. The entry is split across several hundred modules (its
 * lodash-es dependency), which cost a command-line run more start-up time
 * than everything else it does; the bundle is the same library in one file.
 * The package's `exports` do not list the bundle, so it is found next to the
 * entry. Every runtime value the project uses comes from here, so classes
 * compared with `instanceof` are the bundle's own.
 */
const require = createRequire(import.meta.url);
const entry = require.resolve('chevrotain');
const bundle = (await import(pathToFileURL(entry.replace(/src[\\/]api\.js$/, 'chevrotain.min.mjs')).href)) as typeof import('chevrotain');

export const {
  createToken,
  createTokenInstance,
  Lexer,
  CstParser,
  LLkLookaheadStrategy,
  EOF,
  tokenMatcher,
  Alternation,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Terminal,
  generateCstDts,
} = bundle;
