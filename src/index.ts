/**
 * The mlmodel engine, for embedding. The language itself (parse, print, the
 * AST types) is re-exported here and also available alone, without any store
 * driver, from `mlmodel/grammar`.
 */
export * from '../grammar/index.js';
export { MlmodelError, isMlmodelError, type ErrorCode } from './errors.js';
