import type { Command, Condition, Query, SortKey, Stage } from '../../grammar/ast.js';
import { F, type FilterDoc, type ModelQuery, type SortSpec } from '../store/filter.js';
import { compileCondition } from './condition.js';
import { MODEL_SCHEMA } from './schema.js';

/**
 * A query split in two: what the metadata store does (filter, sort, limit,
 * for `mlmodel list`), and the stages left to run, in order, on the table it
 * returns.
 */
export interface Plan {
  readonly command: Command;
  /** The stages folded into the store query; null when the command is not a list. */
  readonly pushed: PushedStages | null;
  readonly stages: readonly Stage[];
}

export interface PushedStages {
  readonly conditions: readonly Condition[];
  readonly sort: readonly SortKey[] | null;
  readonly limit: number | null;
}

/**
 * Folds the leading `where`, `sort` and `head` stages of a list into the
 * store query, for as long as doing so keeps their meaning: filters commute
 * with a sort but not with a head; a second sort or a `fields` ends it.
 */
export function planQuery(query: Query): Plan {
  if (query.command.kind !== 'list') return { command: query.command, pushed: null, stages: query.stages };
  const conditions: Condition[] = [];
  let sort: readonly SortKey[] | null = null;
  let limit: number | null = null;
  let i = 0;
  for (; i < query.stages.length; i++) {
    const s = query.stages[i]!;
    if (s.kind === 'where' && limit === null) conditions.push(s.condition);
    else if (s.kind === 'sort' && sort === null && limit === null) sort = s.keys;
    else if (s.kind === 'head') limit = limit === null ? s.count : Math.min(limit, s.count);
    else break;
  }
  return { command: query.command, pushed: { conditions, sort, limit }, stages: query.stages.slice(i) };
}

/** The store query for a list: the latest, live version of each model, then the user's stages. */
export function listQuery(pushed: PushedStages): ModelQuery {
  const filter: FilterDoc = F.and(
    F.eq('latest', true),
    F.eq('state', 'ACTIVE'),
    ...pushed.conditions.map((c) => compileCondition(c, MODEL_SCHEMA)),
  );
  const sort: SortSpec = (pushed.sort ?? []).map((k) => [MODEL_SCHEMA.resolve(k.field).path, k.direction === 'desc' ? -1 : 1]);
  return { filter, sort, ...(pushed.limit === null ? {} : { limit: pushed.limit }) };
}
