import type { ObjectStore } from './objects.js';

/** Deletes every object under a prefix; the listing is read to the end first, so it is never changed while it runs. */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<number> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  for (const key of keys) await store.delete(key);
  return keys.length;
}
