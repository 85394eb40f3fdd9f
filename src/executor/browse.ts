import { posix } from 'node:path';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { objectStoreAt } from '../store/open.js';
import type { ObjectInfo, ObjectStore, PrefixInfo } from '../store/objects.js';
import { checkLocalRoots, parsePathOption } from './location.js';

/** One line of a browse: an object (with its size and time) or a level below (a common prefix, ending in '/'). */
export type BrowseEntry =
  | { readonly kind: 'object'; readonly key: string; readonly size: number; readonly modified: Date }
  | { readonly kind: 'prefix'; readonly key: string };

/** What a browse lists: the store, the prefix inside it, and how a key inside it is shown. */
interface Browsed {
  readonly store: ObjectStore;
  readonly prefix: string;
  /** The key as the listing shows it: a connector's key as is, a local entry as its absolute path. */
  readonly show: (key: string) => string;
  /** Wraps BUCKET_NOT_FOUND with what the person typed. */
  readonly owner: string;
  readonly close: () => Promise<void>;
}

/**
 * Lists what is under `text` — `OBJECTSTORAGE.<CONNECTOR>:<PREFIX>`, or a
 * local `/dir/prefix` (FILE: too) — the way `mc ls` and `aws s3 ls` do: one
 * level (objects, and a prefix for each level below), or with `recursive`
 * every object under it. The prefix is a string prefix, as in S3: `models/`
 * lists inside models, `mod` lists what starts with mod. Local paths obey
 * the context's local roots, as imports do; a link is never followed.
 */
export async function* browseLocation(ctx: EngineContext, text: string, recursive: boolean): AsyncGenerator<BrowseEntry> {
  const browsed = await open(ctx, text);
  try {
    const entries = untilAborted(browsed.store.browse(browsed.prefix, recursive), ctx.signal);
    for await (const e of entries) yield entryOf(e, browsed.show);
  } catch (e) {
    throw isMlmodelError(e, 'BUCKET_NOT_FOUND') ? ownedBy(browsed.owner, e) : e;
  } finally {
    await browsed.close();
  }
}

/**
 * BUCKET_NOT_FOUND, naming `owner`, when the store's bucket (directory) does
 * not exist: what a missing object is checked for before it is reported as
 * missing, since a HEAD on a bucket that is not there says only "not found".
 */
export async function checkBucket(store: ObjectStore, owner: string): Promise<void> {
  try {
    for await (const _ of store.browse('', false)) break;
  } catch (e) {
    // Anything else is for the caller's own error to report.
    if (isMlmodelError(e, 'BUCKET_NOT_FOUND')) throw ownedBy(owner, e);
  }
}

/** `p`, with a BUCKET_NOT_FOUND saying whose bucket it is (`connector LAKE`): the store knows only its URL. */
export async function namingBucket<T>(owner: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw isMlmodelError(e, 'BUCKET_NOT_FOUND') ? ownedBy(owner, e) : e;
  }
}

function ownedBy(owner: string, e: MlmodelError): MlmodelError {
  return new MlmodelError('BUCKET_NOT_FOUND', `${owner}: ${e.message}`, { ...e.details }, { cause: e });
}

async function open(ctx: EngineContext, text: string): Promise<Browsed> {
  const target = parsePathOption(text, { prefix: true });
  if (target.kind === 'connector') {
    // The registry keeps its connectors open: closing one here would close it for the next query.
    const store = await ctx.connector(target.connector);
    return { store, prefix: target.key, show: (key) => key, owner: `connector ${target.connector}`, close: async () => {} };
  }
  // `/srv/data/` lists inside /srv/data; `/srv/data/mo` what in it starts with mo.
  const slash = target.path.lastIndexOf('/');
  const dir = target.path.slice(0, slash) || '/';
  const prefix = target.path.slice(slash + 1);
  await checkLocalRoots(dir, ctx.localRoots, text);
  const store = await objectStoreAt({ kind: 'file', path: dir });
  return { store, prefix, show: (key) => posix.join(dir, key), owner: 'local path', close: () => store.close() };
}

function entryOf(e: ObjectInfo | PrefixInfo, show: (key: string) => string): BrowseEntry {
  if ('prefix' in e) return { kind: 'prefix', key: show(e.prefix) };
  return { kind: 'object', key: show(e.key), size: e.size, modified: e.modified };
}

/**
 * The items of `source` until `signal` fires: a store that stops answering
 * mid-listing cannot hold a cancelled query (or a completion's short
 * timeout) past the moment it fired.
 */
async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  if (signal === undefined) {
    yield* { [Symbol.asyncIterator]: () => it };
    return;
  }
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new MlmodelError('CANCELLED', 'the query was cancelled'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // Observed here, so a rejection nobody races against is never reported as unhandled.
  aborted.catch(() => undefined);
  let done = false;
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted]);
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited: a store that hangs must not hang the way out too.
    if (!done) void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
