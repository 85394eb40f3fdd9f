import type { Stage } from '../../grammar/ast.js';
import { keepFields, listingFilter, listingSort, type ListingView } from '../planner/listing.js';
import { withTieBreak } from '../store/filter.js';
import { recordTest } from '../store/match.js';
import type { ModelRecord } from '../store/metadata.js';
import { sortRecords } from '../store/order.js';

/** A model listing in memory: whole records, and the names its later stages may use. */
export interface Listing {
  readonly records: readonly ModelRecord[];
  readonly view: ListingView;
}

/**
 * Runs a list's stages, left to right, over whole model records, with the
 * semantics the stores have: the filter the store would run, tested as the
 * SQLite store tests what SQL cannot say (store/match.ts), and MongoDB's
 * sort order with ties by id (store/order.ts). What the planner could not
 * fold into the store query runs here; so does the reference evaluation the
 * push-down is tested against (every stage, over every record).
 */
export function applyRecordStages(listing: Listing, stages: readonly Stage[]): Listing {
  return stages.reduce<Listing>(({ records, view }, s) => {
    switch (s.kind) {
      case 'where': {
        const test = recordTest(listingFilter(s.condition, view));
        return { records: records.filter(test), view };
      }
      case 'sort':
        return { records: sortRecords(records, withTieBreak(listingSort(s.keys, view))), view };
      case 'head':
        return { records: records.slice(0, s.count), view };
      case 'fields':
        return { records, view: keepFields(s.fields, view) };
    }
  }, listing);
}
