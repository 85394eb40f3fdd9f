import type { Stage } from '../../grammar/ast.js';
import { keepFields, listingFilter, listingSort, type ListingView } from '../planner/listing.js';
import { withTieBreak } from '../store/filter.js';
import { recordTest } from '../store/match.js';
import { checkStreamSignal, pagesOf, type ModelRecord } from '../store/metadata.js';
import { sortRecords } from '../store/order.js';

/** A model listing read a page at a time: the records, and the names its later stages may use. */
export interface StreamedListing {
  readonly pages: AsyncGenerator<ModelRecord[], void, undefined>;
  readonly view: ListingView;
}

type Step = (pages: AsyncGenerator<ModelRecord[], void, undefined>) => AsyncGenerator<ModelRecord[], void, undefined>;

/**
 * applyRecordStages (records.ts) over a stream of pages: the same stages,
 * compiled the same way and in the same order — so a bad one fails before
 * the first record is read — each a transform that passes pages on as they
 * come. `where` and `head` stream (a head stops reading, which closes the
 * store's cursor); `fields` only changes the view; a `sort` needs every
 * record before its first, so it reads them all, sorts, and gives them out
 * in pages again — the one stage whose memory grows with the result.
 */
export function streamRecordStages(listing: StreamedListing, stages: readonly Stage[], signal?: AbortSignal): StreamedListing {
  let view = listing.view;
  const steps: Step[] = [];
  for (const s of stages) {
    switch (s.kind) {
      case 'where': {
        const test = recordTest(listingFilter(s.condition, view));
        steps.push(async function* (pages) {
          for await (const page of pages) {
            const kept = page.filter(test);
            if (kept.length > 0) yield kept;
          }
        });
        break;
      }
      case 'sort': {
        const spec = withTieBreak(listingSort(s.keys, view));
        steps.push(async function* (pages) {
          const all: ModelRecord[] = [];
          for await (const page of pages) for (const r of page) all.push(r);
          yield* pagesOf(sortRecords(all, spec), { signal });
        });
        break;
      }
      case 'head': {
        const count = s.count;
        steps.push(async function* (pages) {
          if (count === 0) return;
          let left = count;
          for await (const page of pages) {
            const kept = page.length <= left ? page : page.slice(0, left);
            left -= kept.length;
            yield kept;
            if (left <= 0) return;
          }
        });
        break;
      }
      case 'fields':
        view = keepFields(s.fields, view);
        break;
    }
  }
  const pages = steps.reduce((acc, step) => step(acc), listing.pages);
  return { pages: steps.length > 0 ? checked(pages, signal) : pages, view };
}

/** Passes pages on, CANCELLED between them once the signal fires (a sort's reading is in the store's pages, checked there). */
async function* checked(pages: AsyncGenerator<ModelRecord[], void, undefined>, signal: AbortSignal | undefined): AsyncGenerator<ModelRecord[], void, undefined> {
  for await (const page of pages) {
    checkStreamSignal(signal);
    yield page;
  }
}
