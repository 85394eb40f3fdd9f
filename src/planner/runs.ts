/**
 * What the stages of `mlmodel runs` mean over run records, and how much of
 * them the tracking store runs. Leading where/sort/head stages fold into the
 * store query as for `mlmodel list` (filters commute with a sort; a sort
 * orders completely, ties by id; neither commutes with a head). The stages
 * after those that still name only stored run fields run over the records
 * in memory with the store's semantics (applyRunStages); from the first
 * stage that names a computed column (idle, stale, trend) or a `fields`
 * stage on, they run on the result table.
 */
import type { Stage } from '../../grammar/ast.js';
import { isMlmodelError } from '../errors.js';
import { F, withTieBreak, type FilterDoc, type SortSpec } from '../store/filter.js';
import { recordTest } from '../store/match.js';
import { sortRecords } from '../store/order.js';
import { checkRunQuery, runFieldType, RUN_FIELDS, type RunQuery, type RunRecord } from '../tracking/store.js';
import { compileCondition } from './condition.js';
import { unknownField, type Schema } from './schema.js';

/** Runs as a query names them: their stored fields and `params.<name>`, `metrics.<name>`, `tags.<name>`. */
export const RUN_SCHEMA: Schema = {
  resolve(name) {
    try {
      return { path: name, type: runFieldType(name) };
    } catch (e) {
      if (isMlmodelError(e, 'FILTER_INVALID')) throw unknownField(name, [...Object.keys(RUN_FIELDS), 'params.<name>', 'metrics.<name>', 'tags.<name>']);
      throw e;
    }
  },
};

export interface PushedRunStages {
  readonly filters: readonly FilterDoc[];
  readonly sort: SortSpec | null;
  readonly limit: number | null;
  /** Stages after the folded ones that run over run records in memory. */
  readonly records: readonly Stage[];
}

export const WHOLE_RUNS: PushedRunStages = { filters: [], sort: null, limit: null, records: [] };

/** A stage as it applies to run records, or null if it names something only the table has. */
function compiled(s: Stage): { filter: FilterDoc } | { sort: SortSpec } | { head: number } | null {
  try {
    if (s.kind === 'where') return { filter: compileCondition(s.condition, RUN_SCHEMA) };
    if (s.kind === 'sort') return { sort: s.keys.map((k) => [RUN_SCHEMA.resolve(k.field).path, k.direction === 'desc' ? -1 : 1] as [string, 1 | -1]) };
    if (s.kind === 'head') return { head: s.count };
    return null;
  } catch (e) {
    if (isMlmodelError(e, 'INVALID_ARGUMENT')) return null;
    throw e;
  }
}

/** Splits a runs query's stages: folded into the store query, run over records, and left for the table. */
export function planRunStages(stages: readonly Stage[]): { pushed: PushedRunStages; rest: readonly Stage[] } {
  const filters: FilterDoc[] = [];
  let sort: SortSpec | null = null;
  let limit: number | null = null;
  let i = 0;
  for (; i < stages.length; i++) {
    const c = compiled(stages[i]!);
    if (c === null) break;
    if ('filter' in c && limit === null) filters.push(c.filter);
    else if ('sort' in c && limit === null) sort = c.sort;
    else if ('head' in c) limit = limit === null ? c.head : Math.min(limit, c.head);
    else break;
  }
  let j = i;
  while (j < stages.length && compiled(stages[j]!) !== null) j++;
  // Checked now, so a bad filter fails before anything runs.
  checkRunQuery({ filter: F.and({}, ...filters), ...(sort ? { sort } : {}) });
  return { pushed: { filters, sort, limit, records: stages.slice(i, j) }, rest: stages.slice(j) };
}

/** The store query for a runs listing: `base` (the experiments named) and the folded stages. */
export function runQuery(pushed: PushedRunStages, base: FilterDoc | null): RunQuery {
  const filters = [...(base ? [base] : []), ...pushed.filters];
  return {
    ...(filters.length > 0 ? { filter: F.and(...filters) } : {}),
    ...(pushed.sort ? { sort: pushed.sort } : {}),
    ...(pushed.limit === null ? {} : { limit: pushed.limit }),
  };
}

/** Where/sort/head over run records with the stores' semantics (match.ts, order.ts with ties by id). */
export function applyRunStages(records: readonly RunRecord[], stages: readonly Stage[]): RunRecord[] {
  let out = [...records];
  for (const s of stages) {
    const c = compiled(s);
    if (c === null) throw new Error(`stage ${s.kind} does not apply to run records`);
    if ('filter' in c) out = out.filter(recordTest(checkRunQuery({ filter: c.filter }).filter));
    else if ('sort' in c) out = sortRecords(out, withTieBreak(checkRunQuery({ sort: c.sort }).sort));
    else out = out.slice(0, c.head);
  }
  return out;
}
