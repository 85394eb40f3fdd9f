/**
 * The mlmodel engine, for embedding: open a registry, run queries, get typed
 * result tables. The language alone (parse, print, the AST types) is also
 * available without any store driver from `mlmodel/grammar`.
 */
export * from './language.js';
export { COMMANDS, type CommandModule } from './commands/index.js';
export { MlmodelError, isMlmodelError, type ErrorCode } from './errors.js';
export { openRegistry, type Registry, type RegistryOptions, type RunOptions, type StatementResult } from './engine/registry.js';
export type { Progress } from './engine/context.js';
export type { BatchOutcome } from './executor/import-batch.js';
export type { ResultTable, Column, ColumnType, Cell } from './result/table.js';
export { loadConfig, redact, type Config, type ConfigOptions } from './config/index.js';
export { startRun, trackedRun, type TrackedRun, type LoggedPoint } from './tracking/client.js';
export type { RunRecord, RunStatus, MetricPoint, Experiment, CheckpointRecord } from './tracking/store.js';
