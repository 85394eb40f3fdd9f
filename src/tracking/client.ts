/**
 * The library's tracking API: log a training run from the process that
 * trains, into an open registry. Each call is one statement of the language
 * (tracking/statements.ts) run by `registry.run`, the same path a query, an
 * HTTP request or the REPL takes, so it gets the same checks and errors.
 *
 *   const run = await startRun(registry, { experiment: 'mnist', params: { lr: 0.01 } });
 *   await run.logMetrics({ loss: 0.25, acc: 0.91 }, 3);
 *   await run.end();
 */
import type { Registry, RunOptions } from '../engine/registry.js';
import type { ResultTable } from '../result/table.js';
import type { EndStatus } from './store.js';
import {
  endRunStatement,
  logMetricsStatement,
  logParamsStatement,
  logTagsStatement,
  logValuesStatement,
  metricStatement,
  startRunStatement,
} from './statements.js';

/** A point of `logBatch`; `time` defaults to when the batch is written. */
export interface LoggedPoint {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  readonly time?: Date | string | number;
}

export interface TrackedRun {
  readonly id: number;
  logParams(params: Readonly<Record<string, string | number | boolean>>): Promise<void>;
  setTags(tags: Readonly<Record<string, string>>): Promise<void>;
  /** Several metrics at one step, all or none. */
  logMetrics(values: Readonly<Record<string, number>>, step: number): Promise<void>;
  /** Points at any steps, 5000 per statement, each statement written together (one transaction on SQLite), all or none. */
  logBatch(points: readonly LoggedPoint[]): Promise<void>;
  history(key: string): Promise<ResultTable>;
  /** Ends the run (FINISHED unless told); CONFLICT if it has ended already. */
  end(status?: EndStatus): Promise<void>;
}

/** Points per statement: a query holds at most 1 MB of text. */
const BATCH_POINTS = 5000;

export async function startRun(
  registry: Registry,
  start: { experiment?: string; name?: string; params?: Readonly<Record<string, string | number | boolean>> } = {},
  opts: RunOptions = {},
): Promise<TrackedRun> {
  const started = await registry.run(startRunStatement(start), opts);
  return trackedRun(registry, started.rows[0]![0] as number, opts);
}

/** A run started elsewhere, to log to (it must be the user's, or the user an admin). */
export function trackedRun(registry: Registry, id: number, opts: RunOptions = {}): TrackedRun {
  const run = async (text: string) => {
    await registry.run(text, opts);
  };
  return {
    id,
    logParams: (params) => run(logParamsStatement(id, params)),
    setTags: (tags) => run(logTagsStatement(id, tags)),
    logMetrics: (values, step) => run(logValuesStatement(id, values, step)),
    async logBatch(points) {
      for (let i = 0; i < points.length; i += BATCH_POINTS) {
        const chunk = points.slice(i, i + BATCH_POINTS).map((p) => ({ ...p, ...(p.time instanceof Date ? { time: p.time.toISOString() } : {}) }));
        await run(logMetricsStatement(id, chunk));
      }
    },
    history: (key) => registry.run(metricStatement(id, key), opts),
    end: (status) => run(endRunStatement(id, status)),
  };
}
