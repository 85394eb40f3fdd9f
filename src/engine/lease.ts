import { MlmodelError } from '../errors.js';
import type { NameClaim } from '../store/metadata.js';
import type { EngineContext } from './context.js';

/**
 * A claim (unique index, docs/reliability.md) that its holder keeps alive with a
 * heartbeat: every `ttlMs / 5` it moves the claim's `at` to now. A claim not
 * renewed for `ttlMs` belongs to a process that died or stalled, and may be
 * taken over. Work in flight is told from dead work this way, whatever its
 * age: a 10 GiB import streaming for an hour renews its lease all along.
 */
export interface Lease {
  /** True once a renewal found the claim gone or taken: someone decided this holder was dead. */
  readonly lost: boolean;
  /** Renews now; false (and `lost`) if the claim is no longer this holder's. */
  renew(): Promise<boolean>;
  /** Stops the heartbeat and releases the claim; false if it was no longer this holder's. */
  release(): Promise<boolean>;
}

/** Where in-flight imports and deploys keep their leases. */
export const LEASE_SCOPE = 'lease';
/** A lease not renewed for this long is dead. Renewed every fifth of it. */
export const LEASE_TTL_MS = 20_000;

/**
 * A lease's writes need no flush of their own (store/metadata.ts,
 * ClaimWriteOptions): a power loss ends every holder, and a lease only speaks
 * for a living one. An import's lease was a durable commit of its own, about
 * one fsync per import beside its group's.
 */
const LEASE_WRITE = { durable: false } as const;

/** The lease of an import writing the objects of version `uid` (claimed before the first byte). */
export const uploadLease = (uid: string) => `upload:${uid}`;
/** The lease of a deploy writing serving version `version` of a model. */
export const deployLease = (modelUid: string, version: number) => `deploy:${modelUid}:${version}`;

/** Whether a claim was renewed within `ttlMs`: its holder is alive. */
export function isFresh(claim: NameClaim | null, ttlMs = LEASE_TTL_MS): boolean {
  return claim !== null && Date.now() - claim.at.getTime() <= ttlMs;
}

/** Claims `name` in `scope` for a new owner and keeps it alive; null if someone holds it. */
export async function tryLease(ctx: EngineContext, scope: string, name: string, ttlMs = LEASE_TTL_MS): Promise<Lease | null> {
  const owner = ctx.newUid();
  if (!(await ctx.meta.claimName(scope, name, owner, LEASE_WRITE))) return null;
  return heartbeat(ctx, scope, name, owner, ttlMs);
}

/**
 * Claims `name` if it is free or its holder's lease is dead (not renewed for
 * `ttlMs`); null while a live holder has it. A dead holder's claim is
 * released only if that holder still has it, so two takers never both win.
 */
export async function takeOverLease(ctx: EngineContext, scope: string, name: string, ttlMs = LEASE_TTL_MS): Promise<Lease | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const lease = await tryLease(ctx, scope, name, ttlMs);
    if (lease) return lease;
    const holder = await ctx.meta.getClaim(scope, name);
    if (holder && isFresh(holder, ttlMs)) return null;
    if (holder) await ctx.meta.releaseName(scope, name, holder.owner, LEASE_WRITE);
  }
  return null;
}

/** Waits (with backoff) until `name` can be claimed or taken over; CONFLICT after `waitMs`. */
export async function acquireLease(ctx: EngineContext, scope: string, name: string, opts: { ttlMs: number; waitMs: number; what: string }): Promise<Lease> {
  const deadline = Date.now() + opts.waitMs;
  for (let attempt = 0; ; attempt++) {
    const lease = await takeOverLease(ctx, scope, name, opts.ttlMs);
    if (lease) return lease;
    if (Date.now() >= deadline) throw new MlmodelError('CONFLICT', `${opts.what} is busy (another command holds it); try again`, {});
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random())));
  }
}

function heartbeat(ctx: EngineContext, scope: string, name: string, owner: string, ttlMs: number): Lease {
  let lost = false;
  let released = false;
  const renew = async (): Promise<boolean> => {
    if (lost) return false;
    if (!(await ctx.meta.renewClaim(scope, name, owner, LEASE_WRITE))) lost = true;
    return !lost;
  };
  // A failed renewal (the store briefly down) is retried at the next beat; if
  // the store stays away longer than ttlMs, others may take over and the next
  // renewal that gets through reports the loss.
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(50, Math.floor(ttlMs / 5)));
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    renew,
    async release() {
      clearInterval(timer);
      if (released) return !lost;
      released = true;
      const ok = await ctx.meta.releaseName(scope, name, owner, LEASE_WRITE);
      if (!ok) lost = true;
      return ok;
    },
  };
}
