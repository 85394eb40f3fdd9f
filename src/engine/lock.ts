import { MlmodelError } from '../errors.js';
import type { EngineContext } from './context.js';

const LOCK_SCOPE = 'lock';

export interface LockOptions {
  /** A holder that has not finished in this long has died; its lock may be taken over. */
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
 * DESIGN §6). A lock left by a process that died is taken over once stale.
 */
export async function withLock<T>(ctx: EngineContext, name: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const owner = ctx.newUid();
  const staleMs = opts.staleMs ?? 30_000;
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    if (await ctx.meta.claimName(LOCK_SCOPE, name, owner)) break;
    const holder = await ctx.meta.getClaim(LOCK_SCOPE, name);
    if (holder && Date.now() - holder.at.getTime() > staleMs) {
      // Released only if that stale holder still has it: a fresh holder keeps its lock.
      await ctx.meta.releaseName(LOCK_SCOPE, name, holder.owner);
      continue;
    }
    if (Date.now() > deadline) throw new MlmodelError('CONFLICT', `${opts.what} is busy (another command holds it); try again`, {});
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random())));
  }
  try {
    return await fn();
  } finally {
    await ctx.meta.releaseName(LOCK_SCOPE, name, owner);
  }
}
