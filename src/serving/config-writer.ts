import type { EngineContext } from '../engine/context.js';
import { withLock } from '../engine/lock.js';
import type { ServingRecord } from '../store/serving-records.js';
import { renderModelsConfig, type ServedModel } from './models-config.js';
import { readOnnxSignature } from './onnx-graph.js';
import { renderTritonConfig, TRITON_CONFIG } from './triton-config.js';

/** The file an onnx version directory holds: Triton's and KServe's default model file name. */
export const ONNX_MODEL_FILE = 'model.onnx';

/** A holder that has not renewed the lock in this long has died; it may be taken over. */
const STALE_MS = 60_000;
const WAIT_MS = 120_000;

/**
 * Rewrites `<serving base>/models.config` (TF Serving's: the tf models) and
 * the config.pbtxt of onnx models (Triton's, one per serving name) from the
 * serving records, under a lock claimed through a unique index: two deploys
 * finishing together must not each write a config that lacks the other's
 * version. `servingNames` limits the config.pbtxt rewritten to those models'
 * (a deploy or stop changes one model; reading every model's graph would
 * read every model file); without it every onnx model's is rewritten (fsck).
 */
export async function rewriteModelsConfig(ctx: EngineContext, servingNames?: readonly string[]): Promise<void> {
  // The engine's one lock (engine/lock.ts), renewed while the config is written.
  await withLock(ctx, 'models.config', { staleMs: STALE_MS, waitMs: WAIT_MS, what: 'models.config (another deploy or stop is rewriting it)' }, async () => {
    const all = await ctx.meta.findServings({});
    const onnx = await onnxRecords(ctx, all);
    const available = all.filter((r) => r.state === 'AVAILABLE');
    await ctx.serving.writeConfig(renderModelsConfig(servedModels(ctx, available.filter((r) => !onnx.has(r.record_uid)))));
    const names = new Set(all.filter((r) => onnx.has(r.record_uid) && (servingNames === undefined || servingNames.includes(r.serving_name))).map((r) => r.serving_name));
    for (const name of [...names].sort()) {
      const versions = available.filter((r) => r.serving_name === name && onnx.has(r.record_uid)).map((r) => r.version);
      if (versions.length === 0) {
        await ctx.serving.writeModelFile(name, TRITON_CONFIG, null);
        continue;
      }
      const newest = Math.max(...versions);
      const signature = readOnnxSignature(await ctx.serving.readVersionFile(name, newest, ONNX_MODEL_FILE));
      await ctx.serving.writeModelFile(name, TRITON_CONFIG, renderTritonConfig(name, versions, signature));
    }
  });
}

/** The record uids among `servings` whose model version is an onnx model (served from config.pbtxt, not models.config). */
async function onnxRecords(ctx: EngineContext, servings: readonly ServingRecord[]): Promise<Set<string>> {
  const uids = [...new Set(servings.map((s) => s.record_uid))];
  if (uids.length === 0) return new Set();
  const records = await ctx.meta.findModels({ filter: { uid: { $in: uids }, type: 'onnx' } });
  return new Set(records.map((r) => r.uid));
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
