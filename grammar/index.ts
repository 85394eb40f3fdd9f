/**
 * The mlmodel language: pure and synchronous, no I/O. `parse` turns one
 * query into its typed AST or throws a `ParseError`; `print` turns an AST
 * back into canonical text.
 */
export type * from './ast.js';
export { parse, MAX_NESTING, MAX_QUERY_LENGTH } from './parse.js';
export { ParseError, isParseError, renderIssue, type ParseIssue } from './errors.js';
export { print, printCommand, printStage, printCondition, printLiteral, printModelRef, quote } from './printer.js';
export { readModelRef } from './visitor.js';
export { splitScript, type Statement } from './script.js';
export { displayWidth, charWidth } from './text-width.js';
export { ACTION_KEYWORDS, STAGE_KEYWORDS, COMMAND_KEYWORDS, isKeyword } from './tokens.js';
