/**
 * The mlmodel language's machinery: pure and synchronous, no I/O. A
 * `Language` is built from a list of command syntaxes (`createLanguage`);
 * the engine's one language, with `parse` and `print`, is src/language.ts
 * (the package's `mlmodel/grammar` entry).
 */
export type * from './ast.js';
export { createLanguage, type Language } from './language.js';
export {
  kindsOf,
  readOptionValue,
  describeOptionType,
  type CommandSyntax,
  type ArgSyntax,
  type OptionSyntax,
  type OptionType,
  type CommandAst,
  type OptionValues,
} from './command-syntax.js';
export { MAX_NESTING, MAX_QUERY_LENGTH } from './parse.js';
export { ParseError, isParseError, renderIssue, type ParseIssue } from './errors.js';
export { printModelRef, quote } from './printer.js';
export { readModelRef, readsAsNumber, readsTypedBare } from './visitor.js';
export { scanScript, splitScript, withImplicitCommand, type Statement, type ScannedScript } from './script.js';
export { displayWidth, charWidth } from './text-width.js';
export { STAGE_KEYWORDS } from './tokens.js';
