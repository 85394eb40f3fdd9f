import type { EngineContext } from '../engine/context.js';
import { withLock } from '../engine/lock.js';
import type { ServingRecord } from '../store/serving-records.js';
import { renderModelsConfig, type ServedModel } from './models-config.js';

/** A holder that has not renewed the lock in this long has died; it may be taken over. */
const STALE_MS = 60_000;
const WAIT_MS = 120_000;

/**
 * Rewrites `<serving base>/models.config` from the serving records, under a
 * lock claimed through a unique index: two deploys finishing together must
 * not each write a config that lacks the other's version.
 */
export async function rewriteModelsConfig(ctx: EngineContext): Promise<void> {
  // The engine's one lock (engine/lock.ts), renewed while the config is written.
  await withLock(ctx, 'models.config', { staleMs: STALE_MS, waitMs: WAIT_MS, what: 'models.config (another deploy or stop is rewriting it)' }, async () => {
    const available = await ctx.meta.findServings({ states: ['AVAILABLE'] });
    await ctx.serving.writeConfig(renderModelsConfig(servedModels(ctx, available)));
  });
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
