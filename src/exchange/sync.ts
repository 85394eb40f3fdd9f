/**
 * Sync between two registries (docs/exchange.md): every version of the
 * chosen models that the target lacks travels, through the path an
 * unbundle takes (publish-bundle.ts: archives staged under leases, their
 * bytes checked against the source's sha256 as they are stored, records
 * last); a version the target holds with the same sha256 is left alone
 * without a single object request, and one it holds otherwise — or an
 * alias it points elsewhere — is a conflict row, never overwritten. For a
 * version both sides hold with the same sha256, the sending side's tags and
 * aliases the receiving side lacks are added there (a tag or alias is never
 * removed, and an alias pointing elsewhere stays a conflict). A sync
 * killed at any point leaves nothing half-published, and the next run
 * moves what is still missing.
 */
import type { EngineContext } from '../engine/context.js';
import { withModelLock } from '../engine/lock.js';
import { isMlmodelError } from '../errors.js';
import { aliasesOf } from '../commands/alias.js';
import { MAX_TAGS } from '../commands/tag.js';
import { aliasScope, aliasSequence, versionsOf } from '../executor/models.js';
import { F } from '../store/filter.js';
import { col, type Cell } from '../result/table.js';
import type { ModelRecord } from '../store/metadata.js';
import { compareVersions, publishBundle, type PublishSource } from './publish-bundle.js';
import { deploymentsOf, modelFacts, versionFacts } from './write-bundle.js';

export const SYNC_COLUMNS = [col('result', 'TEXT'), col('name', 'TEXT'), col('version', 'LONG'), col('size', 'LONG'), col('sha256', 'TEXT'), col('note', 'TEXT')];

const SYNC_WORDS = { here: 'on the receiving side', theirs: "the sending side's", it: 'the sending side' };

/** What to move of one model: its latest record, and the versions (all, or the one named). */
export interface SyncItem {
  readonly head: ModelRecord;
  readonly only: number | null;
}

/**
 * Syncs each item from `from` to `to` (both acting as the same user), one
 * model at a time: a model that fails (a conflict that appeared meanwhile, a
 * source archive that does not match its record) gives `failed` rows and the
 * next model still runs. Rows per version: copied, present, conflict or
 * failed, or updated (there already, and given the sending side's tags or
 * aliases it lacked), each model's in version order, its alias conflicts
 * after them.
 */
export async function syncModels(from: EngineContext, to: EngineContext, items: readonly SyncItem[]): Promise<Cell[][]> {
  const rows: Cell[][] = [];
  for (const item of items) rows.push(...(await syncOne(from, to, item)));
  return rows;
}

async function syncOne(from: EngineContext, to: EngineContext, { head, only }: SyncItem): Promise<Cell[][]> {
  const name = head.name;
  const records = (await versionsOf(from, head.model_uid)).filter((r) => only === null || r.version === only);
  const aliases = (await aliasesOf(from, head.model_uid)).filter((a) => records.some((r) => r.version === a.version));
  const cmp = await compareVersions(to, name, { model: { type: head.type as PublishSource['model']['type'], aliases }, versions: records.map((r) => ({ facts: { version: r.version, sha256: r.sha256 }, record: r })) }, SYNC_WORDS);
  const row = (result: string, r: ModelRecord | null, note: string | null): Cell[] => [result, name, r?.version ?? null, r?.size ?? null, r?.sha256 ?? null, note];
  if (cmp.typeConflict) return records.map((r) => row('conflict', r, cmp.conflicts[0]!.note));

  const conflictAt = new Map(cmp.conflicts.filter((c) => c.version !== null).map((c) => [c.version!, c.note]));
  const missing = new Set(cmp.missing.map((m) => m.record.version));
  const byVersion = new Map<number, Cell[]>();
  for (const r of records) {
    if (conflictAt.has(r.version)) byVersion.set(r.version, row('conflict', r, conflictAt.get(r.version)!));
    else if (!missing.has(r.version)) byVersion.set(r.version, row('present', r, 'already there with the same sha256'));
  }
  const aliasConflicts = cmp.conflicts.filter((c) => c.version === null);
  const clashing = new Set(aliasConflicts.map((c) => c.alias));
  let published = true;
  if (missing.size > 0) {
    const sent = records.filter((r) => missing.has(r.version));
    // Aliases go with the versions that travel, or that are there already; one pointing elsewhere there stays as it is.
    const reachable = records.filter((r) => !conflictAt.has(r.version));
    const model = await modelFacts(from, head, reachable);
    const source: PublishSource = {
      model: { ...model, aliases: model.aliases.filter((a) => !clashing.has(a.alias)) },
      versions: sent.map((r) => ({ facts: versionFacts(r), open: () => from.objects.get(r.object_key) })),
      deployments: await deploymentsOf(from, head.model_uid, sent),
      skipped: [],
    };
    try {
      const published = await publishBundle(to, source);
      for (const p of published.rows) {
        const r = sent.find((s) => s.version === p[2])!;
        byVersion.set(r.version, p[0] === 'imported' ? row('copied', r, null) : row('present', r, 'already there with the same sha256'));
      }
    } catch (e) {
      if (isMlmodelError(e, 'CANCELLED') || from.signal?.aborted) throw e;
      // Nothing of this model was published (publishBundle undoes its own); the next run tries again.
      const why = isMlmodelError(e) ? `${e.code}: ${e.message}` : String(e);
      for (const r of sent) byVersion.set(r.version, row('failed', r, why));
      published = false;
    }
  }
  const present = records.filter((r) => byVersion.get(r.version)?.[0] === 'present');
  if (published && present.length > 0) {
    const carried = await carryLabels(to, name, present, aliases.filter((a) => !clashing.has(a.alias)));
    for (const [v, what] of carried) byVersion.set(v, row('updated', present.find((r) => r.version === v)!, `carried over: ${what.join('; ')}`));
  }
  return [...[...byVersion.entries()].sort(([a], [b]) => a - b).map(([, r]) => r), ...aliasConflicts.map((c) => row('conflict', null, c.note))];
}

/**
 * For versions the receiving side holds with the sending side's sha256: the
 * sending side's tags the record there lacks are added to it (written only
 * if the record is as it was read, as tag writes it), and its aliases that
 * point at one of them and that the receiving side lacks are set there —
 * under the model's lock there, looked at again, so an alias set meanwhile
 * is left as it is. What was carried, by version.
 */
async function carryLabels(to: EngineContext, name: string, present: readonly ModelRecord[], aliases: ReadonlyArray<{ alias: string; version: number }>): Promise<Map<number, string[]>> {
  const carried = new Map<number, string[]>();
  const note = (v: number, what: string) => carried.set(v, [...(carried.get(v) ?? []), what]);
  const head = async () => (await to.meta.findModels({ filter: F.and(F.eq('user', to.user), F.eq('name', name), F.eq('latest', true), F.eq('state', 'ACTIVE')), limit: 1 }))[0];
  const first = await head();
  if (!first) return carried;
  const theirs = new Map(present.map((r) => [r.version, r]));
  const quick = new Map((await to.meta.findModels({ filter: F.eq('model_uid', first.model_uid) })).map((r) => [r.version, r]));
  const quickAliases = new Set((await aliasesOf(to, first.model_uid)).map((a) => a.alias));
  const lacking = present.some((r) => r.tags.some((t) => !(quick.get(r.version)?.tags ?? []).includes(t))) || aliases.some((a) => theirs.has(a.version) && !quickAliases.has(a.alias));
  // In sync already (the usual case): records only were read, and no lock is taken.
  if (!lacking) return carried;
  await withModelLock(to, to.user, [name], async () => {
    const now = await head();
    if (!now) return;
    for (let attempt = 0, todo = [...present]; todo.length > 0 && attempt < 20; attempt++) {
      const here = new Map((await to.meta.findModels({ filter: F.eq('model_uid', now.model_uid) })).map((r) => [r.version, r]));
      const again: ModelRecord[] = [];
      for (const r of todo) {
        const h = here.get(r.version);
        if (!h || h.state !== 'ACTIVE' || h.sha256 !== r.sha256) continue;
        const add = r.tags.filter((t) => !h.tags.includes(t));
        if (add.length === 0) continue;
        if (h.tags.length + add.length > MAX_TAGS) {
          note(r.version, `not the tags ${add.join(', ')}: a version has at most ${MAX_TAGS}`);
          continue;
        }
        const modified = new Date(Math.max(to.now().getTime(), h.modified.getTime() + 1));
        // Tagged meanwhile: read again and add what is still lacking.
        if (await to.meta.updateModel(h.uid, { tags: [...h.tags, ...add], modified }, F.eq('modified', h.modified))) note(r.version, `tags ${add.join(', ')}`);
        else again.push(r);
      }
      todo = again;
    }
    const here = new Map((await to.meta.findModels({ filter: F.eq('model_uid', now.model_uid) })).map((r) => [r.version, r]));
    const pointed = new Set((await aliasesOf(to, now.model_uid)).map((a) => a.alias));
    for (const a of aliases) {
      const r = theirs.get(a.version);
      const h = here.get(a.version);
      if (!r || pointed.has(a.alias) || !h || h.state !== 'ACTIVE' || h.sha256 !== r.sha256) continue;
      // As alias sets one: the name first, then the pointer.
      await to.meta.claimName(aliasScope(now.model_uid), a.alias, 'alias');
      await to.meta.claimNext(aliasSequence(now.model_uid, a.alias), String(a.version));
      note(a.version, `alias ${a.alias}`);
    }
  });
  return carried;
}
