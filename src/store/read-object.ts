import type { ObjectStore } from './objects.js';

/** An object's bytes, whole, in memory: for objects known to be small (a config file, a request body, a model file); OBJECT_NOT_FOUND if missing. */
export async function readObject(store: Pick<ObjectStore, 'get'>, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
