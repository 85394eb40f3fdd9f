/**
 * The model store (FATE-Flow's enable_model_store, docs/exchange.md): with
 * `model_store` configured, every deploy pushes the deployed version as a
 * bundle to `<model_store>/<user>/<name>/<version>.tar`, after the deploy has
 * answered. A push is tried up to PUSH_ATTEMPTS times with growing pauses,
 * and what became of it is kept in the registry's object store under
 * `model-store/<record uid>.json` (pending, pushed or failed, attempts, the
 * last error) for `mlmodel remotes` to show. It never holds up or fails the
 * deploy: the deploy's outcome is decided before the push starts.
 */
import { Readable } from 'node:stream';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError } from '../errors.js';
import { F } from '../store/filter.js';
import type { ModelRecord } from '../store/metadata.js';
import { collectBundle, writeBundle } from './write-bundle.js';
import { readObject } from '../store/read-object.js';

export const PUSH_STATUS_PREFIX = 'model-store/';
const statusKey = (uid: string) => `${PUSH_STATUS_PREFIX}${uid}.json`;
export const PUSH_ATTEMPTS = 3;
/** The pause before each attempt after the first. */
const PAUSES_MS = [500, 2000];

export interface PushStatus {
  readonly name: string;
  readonly user: string;
  readonly version: number;
  readonly state: 'pending' | 'pushed' | 'failed';
  readonly attempts: number;
  readonly location: string;
  readonly manifest_sha256: string | null;
  readonly error: string | null;
  readonly at: string;
}

/**
 * Records the push of a version a deploy has just made available as pending
 * (so `remotes` shows it from the moment the deploy answers, and still shows
 * it if this process dies), then runs it in the background. Nothing when no
 * model store is configured; never throws.
 */
export async function pushAfterDeploy(ctx: EngineContext, record: ModelRecord): Promise<void> {
  const base = ctx.modelStore;
  if (!base || !ctx.background) return;
  // The command is over by the time the push runs: its cancellation and progress no longer apply.
  const bg: EngineContext = { ...ctx, signal: undefined, onProgress: undefined };
  const location = `${base.replace(/\/+$/, '')}/${record.user}/${record.name}/${record.version}.tar`;
  const status = (state: PushStatus['state'], attempts: number, manifest: string | null, error: string | null): PushStatus => ({
    name: record.name,
    user: record.user,
    version: record.version,
    state,
    attempts,
    location,
    manifest_sha256: manifest,
    error,
    at: ctx.now().toISOString(),
  });
  try {
    await saveStatus(ctx, record.uid, status('pending', 0, null, null));
  } catch {
    // The push still runs; only its pending mark is missing.
  }
  ctx.background(async () => {
    await saveStatus(bg, record.uid, await pushVersion(bg, record, location, status));
  });
}

/** Up to PUSH_ATTEMPTS tries, each bundling the version as it is then; the final status. */
async function pushVersion(
  ctx: EngineContext,
  record: ModelRecord,
  location: string,
  status: (state: PushStatus['state'], attempts: number, manifest: string | null, error: string | null) => PushStatus,
): Promise<PushStatus> {
  let lastError = '';
  for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, PAUSES_MS[attempt - 2] ?? PAUSES_MS.at(-1)));
    try {
      const [head] = await ctx.meta.findModels({ filter: F.and(F.eq('model_uid', record.model_uid), F.eq('latest', true), F.eq('state', 'ACTIVE')), limit: 1 });
      const current = await ctx.meta.getModel(record.uid);
      if (!head || !current) return status('failed', attempt, null, 'the version was deleted before it was pushed');
      const content = await collectBundle(ctx, head, [current]);
      // Overwrite: a later deploy of the version pushes it again, with its longer serving history.
      await writeBundle(ctx, content, location, true);
      return status('pushed', attempt, content.manifestSha256, null);
    } catch (e) {
      lastError = isMlmodelError(e) ? `${e.code}: ${e.message}` : String(e);
    }
  }
  return status('failed', PUSH_ATTEMPTS, null, lastError);
}

async function saveStatus(ctx: EngineContext, uid: string, s: PushStatus): Promise<PushStatus> {
  await ctx.objects.put(statusKey(uid), Readable.from([Buffer.from(JSON.stringify(s))]));
  return s;
}

/** Every push's last known status, oldest first. */
export async function pushStatuses(ctx: EngineContext): Promise<PushStatus[]> {
  const out: PushStatus[] = [];
  for await (const o of ctx.objects.list(PUSH_STATUS_PREFIX)) {
    out.push(JSON.parse((await readObject(ctx.objects, o.key)).toString('utf8')) as PushStatus);
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.version - b.version));
}
