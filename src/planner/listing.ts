/**
 * What the stages of `mlmodel list` see: whole model records, with every
 * field the store query can name (MODEL_SCHEMA), whether a stage runs in the
 * store or in memory and whatever stands before it. Only a `fields` stage
 * narrows the names later stages may use, to the ones it kept; the display
 * columns are chosen once, at the end. The planner and the in-memory stages
 * (stage/records.ts) compile every stage here, so a stage means the same on
 * either side of the push-down line and fails with the same error.
 */
import type { Condition, SortKey } from '../../grammar/ast.js';
import { F, validateFilter, validateSort, type FilterDoc, type SortSpec } from '../store/filter.js';
import { compileCondition } from './condition.js';
import { MODEL_SCHEMA, unknownField, type Schema } from './schema.js';

/** The names a listing's stages may use: null for every model field, else the names a `fields` stage kept. */
export type ListingView = readonly string[] | null;

/** A JSON field kept whole keeps its nested paths: `fields parameter | where parameter.epochs > 3`. */
function visible(view: readonly string[], name: string): boolean {
  if (view.includes(name)) return true;
  const segments = name.split('.');
  for (let i = 1; i < segments.length; i++) {
    const prefix = segments.slice(0, i).join('.');
    if (view.includes(prefix) && MODEL_SCHEMA.resolve(prefix).type === 'any') return true;
  }
  return false;
}

function listingSchema(view: ListingView): Schema {
  if (view === null) return MODEL_SCHEMA;
  return {
    resolve(name) {
      if (!visible(view, name)) throw unknownField(name, view);
      return MODEL_SCHEMA.resolve(name);
    },
  };
}

/** The records a listing starts from, the latest live version of each model, narrowed by the filters. */
export function listFilter(filters: readonly FilterDoc[]): FilterDoc {
  return F.and(F.eq('latest', true), F.eq('state', 'ACTIVE'), ...filters);
}

/** A `where` stage as a filter over records; refused here, in stage order, if the store would refuse it. */
export function listingFilter(condition: Condition, view: ListingView): FilterDoc {
  const filter = compileCondition(condition, listingSchema(view));
  validateFilter(listFilter([filter]));
  return filter;
}

/** A `sort` stage's keys as record paths (the store, or sortRecords, appends the `id` tie-break). */
export function listingSort(keys: readonly SortKey[], view: ListingView): SortSpec {
  const schema = listingSchema(view);
  return validateSort(keys.map((k) => [schema.resolve(k.field).path, k.direction === 'desc' ? -1 : 1]));
}

/** The view after a `fields` stage: the names it keeps, each one a name the listing knows. */
export function keepFields(names: readonly string[], view: ListingView): ListingView {
  const schema = listingSchema(view);
  for (const name of names) schema.resolve(name);
  return [...names];
}
