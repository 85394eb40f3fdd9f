import { createHash } from 'node:crypto';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ModelRecord } from '../store/metadata.js';

/**
 * Serving names, claimed under a unique index (docs/reliability.md): scope
 * `serving-name`, name = the serving name, owner = the model's uid. Two
 * models never share a serving directory or a models.config entry, whatever
 * their users and names: `alice`/`team_model` and `alice_team`/`model` both
 * read `alice_team_model` in IRIS's `<user>_<name>` form, and only the first
 * to deploy gets it.
 */
export const SERVING_NAME_SCOPE = 'serving-name';

/** Longest serving name: one path segment on every file system (255 bytes), with room for TF Serving's own suffixes. */
const MAX_BYTES = 200;

/**
 * The names a model may serve under, in order: IRIS's `<user>_<name>`, then
 * the same with `~` and 8, 16 and 64 hex digits of sha256 of the (user, name)
 * pair. Deterministic for the pair; which one a model gets depends only on
 * which are claimed already. A model name never holds `~`, so a suffixed name
 * collides only with a user name that does. A form longer than 200 bytes is
 * cut, and always suffixed.
 */
export function servingNameCandidates(user: string, name: string): string[] {
  const plain = `${user}_${name}`;
  const hash = createHash('sha256').update(JSON.stringify([user, name])).digest('hex');
  const out = Buffer.byteLength(plain) <= MAX_BYTES ? [plain] : [];
  for (const n of [8, 16, 64]) out.push(`${cutBytes(plain, MAX_BYTES - n - 1)}~${hash.slice(0, n)}`);
  return out;
}

function cutBytes(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/**
 * The serving name of `record`'s model, claimed on its first deploy: the one
 * it already owns (kept across renames, so TF Serving clients keep their
 * URL), else the first free candidate for its (user, name).
 */
export async function claimServingName(ctx: EngineContext, record: ModelRecord): Promise<string> {
  const mine = async (candidate: string): Promise<boolean> => {
    if (await ctx.meta.claimName(SERVING_NAME_SCOPE, candidate, record.model_uid)) return true;
    return (await ctx.meta.getClaim(SERVING_NAME_SCOPE, candidate))?.owner === record.model_uid;
  };
  if (record.serving_name !== null && (await mine(record.serving_name))) return record.serving_name;
  for (const candidate of servingNameCandidates(record.user, record.name)) if (await mine(candidate)) return candidate;
  throw new MlmodelError('CONFLICT', `every serving name for ${record.user}/${record.name} is taken by another model`, { name: record.name });
}

/** Lets go of every serving name `modelUid` holds (its delete is complete: no directory is left under them). */
export async function releaseServingNames(ctx: EngineContext, modelUid: string, names: Iterable<string>): Promise<void> {
  for (const n of new Set(names)) await ctx.meta.releaseName(SERVING_NAME_SCOPE, n, modelUid);
}
