import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ServingRecord } from '../store/serving-records.js';
import { renderModelsConfig, type ServedModel } from './models-config.js';

const LOCK_SCOPE = 'lock';
const LOCK_NAME = 'models.config';
/** A holder that has not finished in this long has died; its lock may be taken over. */
const STALE_MS = 60_000;
const WAIT_MS = 120_000;

/**
 * Rewrites `<serving base>/models.config` from the serving records, under a
 * lock claimed through a unique index: two deploys finishing together must
 * not each write a config that lacks the other's version.
 */
export async function rewriteModelsConfig(ctx: EngineContext): Promise<void> {
  const owner = ctx.newUid();
  await acquire(ctx, owner);
  try {
    const available = await ctx.meta.findServings({ states: ['AVAILABLE'] });
    await ctx.serving.writeConfig(renderModelsConfig(servedModels(ctx, available)));
  } finally {
    await ctx.meta.releaseName(LOCK_SCOPE, LOCK_NAME, owner);
  }
}

export function servedModels(ctx: Pick<EngineContext, 'serving'>, records: readonly ServingRecord[]): ServedModel[] {
  const byName = new Map<string, { versions: number[]; labels: Record<string, number> }>();
  for (const r of records) {
    // Labels are user text: a null-prototype map keeps `__proto__` an ordinary key.
    const m = byName.get(r.serving_name) ?? { versions: [], labels: Object.create(null) as Record<string, number> };
    m.versions.push(r.version);
    // One version per label: the newest deployment that carries it.
    if (r.label !== null && (m.labels[r.label] ?? 0) < r.version) m.labels[r.label] = r.version;
    byName.set(r.serving_name, m);
  }
  return [...byName].map(([name, m]) => ({ name, basePath: ctx.serving.basePath(name), versions: m.versions, labels: m.labels }));
}

async function acquire(ctx: EngineContext, owner: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    if (await ctx.meta.claimName(LOCK_SCOPE, LOCK_NAME, owner)) return;
    const holder = await ctx.meta.getClaim(LOCK_SCOPE, LOCK_NAME);
    if (holder && Date.now() - holder.at.getTime() > STALE_MS) {
      await ctx.meta.releaseName(LOCK_SCOPE, LOCK_NAME, holder.owner);
      continue;
    }
    if (Date.now() > deadline) {
      throw new MlmodelError('CONFLICT', 'another deploy or stop is still rewriting models.config; try again', {});
    }
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random())));
  }
}
