import type { Command, Query, Stage } from '../../grammar/ast.js';
import type { FilterDoc, ModelQuery, SortSpec } from '../store/filter.js';
import { keepFields, listFilter, listingFilter, listingSort, type ListingView } from './listing.js';
import { planRunStages, type PushedRunStages } from './runs.js';

/**
 * A query split in two: what the metadata store does (filter, sort, limit,
 * for `mlmodel list`), and the stages left to run, in order.
 */
export interface Plan {
  readonly command: Command;
  /** The stages folded into the store query, and the rest of a list's stages; null when the command is not a list. */
  readonly pushed: PushedStages | null;
  /** The stages a runs listing folds into the tracking store's query or runs over run records; absent for other commands. */
  readonly runs?: PushedRunStages;
  /** Stages to run on the table the command returns: none for a list, whose stages all run over model records. */
  readonly stages: readonly Stage[];
}

export interface PushedStages {
  /** The folded `where` stages, compiled; the store ANDs them with "latest and live". */
  readonly filters: readonly FilterDoc[];
  /** The folded sort's keys; null for none (records then come by id). */
  readonly sort: SortSpec | null;
  readonly limit: number | null;
  /** The names the remaining stages may use (a folded `fields` narrows it). */
  readonly view: ListingView;
  /** The stages after the folded ones: run in memory, in order, over whole model records (stage/records.ts). */
  readonly rest: readonly Stage[];
}

/** A plain list: nothing folded, nothing left. */
export const WHOLE_LIST: PushedStages = { filters: [], sort: null, limit: null, view: null, rest: [] };

/**
 * Folds the leading stages of a list into the store query for as long as
 * that keeps their meaning: filters commute with a sort, and a sort orders
 * completely (ties by id), so it replaces an earlier one; neither commutes
 * with a head, so a `where` or `sort` after a head ends it. A `fields` stage
 * only narrows the names later stages may use, so it folds anywhere.
 * Every folded stage is compiled here, in order, so a bad one fails before
 * anything runs and with the error the in-memory stages would give.
 */
export function planQuery(query: Query): Plan {
  if (query.command.kind === 'runs') {
    const { pushed, rest } = planRunStages(query.stages);
    return { command: query.command, pushed: null, runs: pushed, stages: rest };
  }
  if (query.command.kind !== 'list') return { command: query.command, pushed: null, stages: query.stages };
  const filters: FilterDoc[] = [];
  let sort: SortSpec | null = null;
  let limit: number | null = null;
  let view: ListingView = null;
  let i = 0;
  for (; i < query.stages.length; i++) {
    const s = query.stages[i]!;
    if (s.kind === 'where' && limit === null) filters.push(listingFilter(s.condition, view));
    else if (s.kind === 'sort' && limit === null) sort = listingSort(s.keys, view);
    else if (s.kind === 'head') limit = limit === null ? s.count : Math.min(limit, s.count);
    else if (s.kind === 'fields') view = keepFields(s.fields, view);
    else break;
  }
  return { command: query.command, pushed: { filters, sort, limit, view, rest: query.stages.slice(i) }, stages: [] };
}

/** The store query for a list: the latest, live version of each model, then the folded stages. */
export function listQuery(pushed: PushedStages): ModelQuery {
  return { filter: listFilter(pushed.filters), sort: [...(pushed.sort ?? [])], ...(pushed.limit === null ? {} : { limit: pushed.limit }) };
}
