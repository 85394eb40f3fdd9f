import { MlmodelError } from '../errors.js';
import type { EngineContext } from './context.js';
import { acquireLease } from './lease.js';

const LOCK_SCOPE = 'lock';

export interface LockOptions {
  /** A holder that has not renewed its lock in this long has died; its lock may be taken over. */
  staleMs?: number;
  /** How long to wait for the lock before giving up with CONFLICT. */
  waitMs?: number;
  /** What the lock protects, for the CONFLICT message. */
  what: string;
}

/**
 * Runs `fn` while holding the lock `name`, claimed by inserting a document
 * under a unique index — the one primitive that is exclusive on MongoDB and
 * on every MongoDB-compatible server (FerretDB v1 applies a conditional
 * update as read-then-write, so compare-and-set loses updates there; see
 * docs/reliability.md). The holder renews it while `fn` runs (engine/lease.ts), so a
 * long delete keeps it; a lock left by a process that died is taken over once
 * not renewed for `staleMs`.
 */
export async function withLock<T>(ctx: EngineContext, name: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lease = await acquireLease(ctx, LOCK_SCOPE, name, { ttlMs: opts.staleMs ?? 30_000, waitMs: opts.waitMs ?? 60_000, what: opts.what });
  let out: T;
  try {
    out = await fn();
  } finally {
    await lease.release();
  }
  // Another command took the lock over because this one stalled past staleMs:
  // what fn did may have interleaved with it, so it is not acknowledged.
  if (lease.lost) {
    throw new MlmodelError('CONFLICT', `${opts.what}: this command stalled and lost its lock to another; its change may be incomplete — check and run it again`, {});
  }
  return out;
}

/** The lock of a user's model name: delete, import, deploy, stop and rename of one (user, name) take it. */
const modelNameLock = (user: string, name: string) => `name:${JSON.stringify([user, name])}`;

export interface ModelLockOptions {
  /** How long to wait for each lock (default 60 s); 0 fails at once if it is held. */
  waitMs?: number;
}

/**
 * Runs `fn` holding the locks of `names` of `user`'s models, taken in sorted
 * order so two commands that need the same two names (renames a→b and b→a)
 * cannot each hold one and wait for the other. Keyed by (user, name), not by
 * model uid, so an import of a name that does not exist yet serialises with a
 * delete of a model of that name.
 */
export async function withModelLock<T>(ctx: EngineContext, user: string, names: readonly string[], fn: () => Promise<T>, opts: ModelLockOptions = {}): Promise<T> {
  const sorted = [...new Set(names)].sort();
  const step = (i: number): Promise<T> =>
    i === sorted.length
      ? fn()
      : withLock(ctx, modelNameLock(user, sorted[i]!), { what: `${user}/${sorted[i]!}`, ...(opts.waitMs === undefined ? {} : { waitMs: opts.waitMs }) }, () => step(i + 1));
  return step(0);
}
