import { MODEL_TYPES } from '../../src/archive/types.js';
import type { Registry } from '../../src/engine/registry.js';
import { LIST_COLUMNS } from '../../src/commands/list.js';
import { SUMMARY_FIELDS } from '../../src/commands/summary.js';
import { commandWrites, parse } from '../../src/language.js';
import { tableOf } from '../../src/engine/runner.js';
import type { ResultTable } from '../../src/result/table.js';
import { describeError } from '../errors.js';
import type { ProgressReport } from '../progress.js';
import type { Catalog } from './complete.js';
import { registryLookups } from './lookups.js';

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

/** How many model names completion reads; a registry larger than this completes from the first ones. */
const CATALOG_LIMIT = 5000;

export function registryBackend(registry: Registry): ReplBackend {
  const secrets = registry.config.secrets;
  return {
    run(text, request) {
      return tableOf(registry.runStatements([{ text, line: 1 }], { signal: request.signal, onProgress: request.onProgress }));
    },
    async catalog() {
      const names = await registry.run(`mlmodel list | fields name | head ${CATALOG_LIMIT}`).catch(() => null);
      const models = names ? [...new Set(names.rows.map((r) => String(r[0])))] : [];
      return {
        models,
        fields: [...new Set([...LIST_COLUMNS.map((c) => c.name), ...SUMMARY_FIELDS])],
        summaryFields: [...SUMMARY_FIELDS],
        modelTypes: [...MODEL_TYPES],
        connectors: Object.keys(registry.config.connectors).sort(),
        lookups: registryLookups(registry),
      };
    },
    describeError(e) {
      return describeError(e, secrets);
    },
  };
}

/** Whether a query may change which models exist (so completion should read names again); text that does not parse changes nothing. */
export function changesModels(text: string): boolean {
  try {
    return commandWrites(parse(text).command);
  } catch {
    return false;
  }
}
