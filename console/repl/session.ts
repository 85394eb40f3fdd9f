import { parse, ParseError } from '../../grammar/index.js';
import type { Query } from '../../grammar/ast.js';
import { MODEL_TYPES } from '../../src/archive/types.js';
import { redact } from '../../src/config/redact.js';
import type { Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { DEPLOY_COLUMNS } from '../../src/executor/deploy.js';
import { EXPORT_COLUMNS } from '../../src/executor/export.js';
import { IMPORT_COLUMNS } from '../../src/executor/import.js';
import { LIST_COLUMNS } from '../../src/executor/list.js';
import { SERVING_STATUS_COLUMNS } from '../../src/executor/serving-status.js';
import { SUMMARY_FIELDS } from '../../src/executor/summary.js';
import { OPTION_FIELDS } from '../../src/planner/schema.js';
import type { ResultTable } from '../../src/result/table.js';
import type { ProgressReport } from '../progress.js';
import type { Catalog } from './complete.js';

export interface RunRequest {
  readonly signal: AbortSignal;
  readonly onProgress: (p: ProgressReport) => void;
}

/**
 * What the REPL needs from the engine. The REPL's components know only this,
 * so they can be tested with a stand-in; `registryBackend` is the real one,
 * over the same `registry.execute` the batch mode uses.
 */
export interface ReplBackend {
  /** Parses and runs one query. Throws ParseError or MlmodelError (CANCELLED when the signal fires). */
  run(query: string, request: RunRequest): Promise<ResultTable>;
  /** Names for completion, read from the store. */
  catalog(): Promise<Catalog>;
  /** One message for the screen, secrets removed. */
  describeError(e: unknown): string;
}

/** Option keys per action, as the executors accept them (a test holds these to the engine's own lists). */
export const OPTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  import: ['name', 'type', 'path', 'category', 'algorithm', 'format', ...OPTION_FIELDS],
  export: ['name', 'path', 'expires', 'overwrite'],
  deploy: ['label'],
};

/** Result columns of commands that do not return model rows (for completing stages after them). */
export const RESULT_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  summary: ['name', 'value'],
  import: IMPORT_COLUMNS.map((c) => c.name),
  export: EXPORT_COLUMNS.map((c) => c.name),
  deploy: DEPLOY_COLUMNS.map((c) => c.name),
  stop: ['result'],
  'serving status': SERVING_STATUS_COLUMNS.map((c) => c.name),
};

/** How many model names completion reads; a registry larger than this completes from the first ones. */
const CATALOG_LIMIT = 5000;

export function registryBackend(registry: Registry): ReplBackend {
  const secrets = registry.config.secrets;
  const learned: Record<string, readonly string[]> = {};
  return {
    async run(text, request) {
      const query: Query = parse(text);
      const table = await registry.execute(query, { signal: request.signal, onProgress: request.onProgress });
      // Commands beyond those known here teach completion their columns as they run.
      if (query.stages.length === 0) {
        const action = actionOf(text);
        if (action && !(action in RESULT_COLUMNS) && action !== 'list') learned[action] = table.columns.map((c) => c.name);
      }
      return table;
    },
    async catalog() {
      const names = await registry.run(`mlmodel list | fields name | head ${CATALOG_LIMIT}`).catch(() => null);
      const models = names ? [...new Set(names.rows.map((r) => String(r[0])))] : [];
      return {
        models,
        fields: [...new Set([...LIST_COLUMNS.map((c) => c.name), ...SUMMARY_FIELDS])],
        summaryFields: [...SUMMARY_FIELDS],
        optionKeys: OPTION_KEYS,
        resultColumns: { ...RESULT_COLUMNS, ...learned },
        modelTypes: [...MODEL_TYPES],
        connectors: Object.keys(registry.config.connectors).sort(),
      };
    },
    describeError(e) {
      return describeError(e, secrets);
    },
  };
}

export function describeError(e: unknown, secrets: Parameters<typeof redact>[1] = []): string {
  if (e instanceof ParseError) return e.render();
  if (isMlmodelError(e)) {
    if (e.code === 'CANCELLED') return 'cancelled';
    return `error: ${redact(e.message, secrets)} (${e.code})`;
  }
  const message = e instanceof Error ? e.message : String(e);
  return `internal error: ${redact(message, secrets)}`;
}

/** The action word of a query (`import`, `serving status`, …), lower-case. */
export function actionOf(text: string): string | undefined {
  const m = /^\s*(?:\*\s*\|\s*)?(mlmodel|serving)\b\s*([^\s|]*)/i.exec(text);
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'serving') return 'serving status';
  return m[2] ? m[2].toLowerCase() : 'list';
}

/** Whether a query may change which models exist (so completion should read names again). */
export function changesModels(text: string): boolean {
  const action = actionOf(text);
  return action !== undefined && !['list', 'summary', 'serving status', 'versions', 'files', 'verify', 'export'].includes(action);
}
