import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type Cell, type ResultTable } from '../result/table.js';
import { rewriteModelsConfig } from '../serving/config-writer.js';
import type { ModelRecord } from '../store/metadata.js';
import type { ObjectInfo } from '../store/objects.js';
import type { TemporaryInfo } from '../store/temporaries.js';
import { objectPrefix } from './import.js';
import { deletePrefix } from '../store/prefix.js';
import { nameScope } from '../executor/models.js';
import { optionValues } from '../executor/options.js';
import { verifyRecord } from './verify.js';

const syntax = {
  keywords: ['fsck'],
  args: [{ kind: 'options' }],
  options: {
    repair: { type: 'boolean', summary: 'fix what is safe to fix (default false: report only)' },
    quick: { type: 'boolean', summary: 'check archive sizes instead of reading every byte (default false)' },
    grace: { type: 'duration', min: 0, max: 366 * 86_400, summary: 'work younger than this is reported, never removed (default 1h)' },
  },
} as const;

export type FsckCommand = CommandAst<typeof syntax>;

export const FSCK_COLUMNS = [col('check', 'TEXT'), col('subject', 'TEXT'), col('problem', 'TEXT'), col('action', 'TEXT')];

/** Work younger than this may still be under way (an import streaming, a deploy unpacking): reported, never removed. */
const DEFAULT_GRACE_SEC = 3600;

/**
 * `mlmodel fsck [repair=true] [quick=true] [grace=SECONDS]`: checks the whole
 * registry — interrupted deletes, records whose archive is missing or differs
 * from what was recorded (quick=true checks sizes only), objects no record
 * points to, deploys that never finished, a model with no or several latest
 * versions, names claimed by models that are gone, temporary files and
 * uploads that killed imports and deploys left. One row per problem;
 * repair=true fixes what is safe to fix and says so, and reports the rest.
 */
export async function executeFsck(ctx: EngineContext, cmd: FsckCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const repair = o.repair ?? false;
  const quick = o.quick ?? false;
  const graceSec = o.grace ?? DEFAULT_GRACE_SEC;
  const cutoff = ctx.now().getTime() - graceSec * 1000;
  const rows: Cell[][] = [];
  const report = (check: string, subject: string, problem: string, action: string) => rows.push([check, subject, problem, action]);
  const fixed = (done: boolean) => (done ? 'repaired' : 'needs repair=true');

  const all = await ctx.meta.findModels({});
  const byUid = new Map(all.map((r) => [r.uid, r]));
  const label = (r: ModelRecord) => `${r.user}/${r.name}@${r.version}`;

  // 1. Deletes that stopped half-way: finish them.
  for (const r of all.filter((x) => x.state === 'DELETING')) {
    if (repair) {
      await deletePrefix(ctx.objects, objectPrefix(r.uid));
      await ctx.meta.deleteModel(r.uid);
      byUid.delete(r.uid);
    }
    report('interrupted delete', label(r), 'the record is marked for deletion', fixed(repair));
  }
  const live = [...byUid.values()].filter((r) => r.state === 'ACTIVE');

  // 2. Records whose archive is gone or not what was recorded.
  for (const r of live) {
    const problems = quick ? await quickCheck(ctx, r) : await verifyRecord(ctx, r);
    for (const p of problems) report('archive', label(r), p, 'cannot repair: restore the archive or delete the version');
  }

  // 3. Objects that no record points to (collected first: a listing is not deleted from while it runs).
  const orphans: ObjectInfo[] = [];
  for await (const obj of ctx.objects.list('models/')) if (!byUid.has(obj.key.split('/')[1] ?? '')) orphans.push(obj);
  for (const obj of orphans) {
    if (obj.modified.getTime() > cutoff) {
      report('orphan object', obj.key, 'no record points to it (recent: an import may still be running)', 'left alone');
      continue;
    }
    if (repair) await ctx.objects.delete(obj.key);
    report('orphan object', obj.key, 'no record points to it', fixed(repair));
  }

  // 3b. What killed writes left in the object store (temporary files, incomplete uploads).
  const temporaries: TemporaryInfo[] = [];
  for await (const t of ctx.objects.temporaries()) temporaries.push(t);
  for (const t of temporaries) {
    const [problem, removable] = judgeTemporary(t, cutoff, 'an object write');
    if (removable && repair) await ctx.objects.removeTemporary(t.name);
    report('temporary', t.name, problem, removable ? fixed(repair) : 'left alone');
  }

  // 4. Deploys that never finished, and what they left in the serving base.
  let servingChanged = false;
  for (const s of await ctx.meta.findServings({ states: ['DEPLOYING'] })) {
    if (s.updated_at.getTime() > cutoff) continue;
    if (repair) {
      await ctx.meta.setServingState({ model_uid: s.model_uid, version: s.version }, 'FAILED', ctx.now());
      servingChanged = true;
    }
    report('serving', `${s.serving_name}/${s.version}`, 'the deploy never finished', repair ? 'marked FAILED' : 'needs repair=true');
  }
  // A failed deploy's version is never listed in models.config and its number
  // never reused; on an object store it may have copied some files into
  // `<serving_name>/<version>/` before it died. Such a directory goes.
  for (const s of await ctx.meta.findServings({ states: ['FAILED'] })) {
    if (!(await ctx.serving.hasVersion(s.serving_name, s.version))) continue;
    if (repair) await ctx.serving.removeVersion(s.serving_name, s.version);
    report('serving', `${s.serving_name}/${s.version}`, 'a deploy that failed left files in its version directory', fixed(repair));
  }
  for (const t of await ctx.serving.leftovers()) {
    const [problem, removable] = judgeTemporary(t, cutoff, 'a deploy');
    if (removable && repair) await ctx.serving.removeLeftover(t.name);
    report('serving', t.name, problem, removable ? fixed(repair) : 'left alone');
  }
  if (servingChanged) await rewriteModelsConfig(ctx);

  // 5. Exactly one latest version per model.
  const models = new Map<string, ModelRecord[]>();
  for (const r of live) models.set(r.model_uid, [...(models.get(r.model_uid) ?? []), r]);
  for (const versions of models.values()) {
    const newest = versions.reduce((a, b) => (b.version > a.version ? b : a));
    const wrong = versions.filter((v) => v.latest !== (v.uid === newest.uid));
    if (wrong.length === 0) continue;
    if (repair) for (const v of wrong) await ctx.meta.updateModel(v.uid, { latest: v.uid === newest.uid });
    report('latest', `${newest.user}/${newest.name}`, `version ${newest.version} should be the only latest one`, fixed(repair));
  }

  // 6. Names still claimed by models that have no versions left.
  const liveModels = new Set(live.map((r) => r.model_uid));
  for (const user of new Set(all.map((r) => r.user))) {
    for (const claim of await ctx.meta.listClaims(nameScope(user))) {
      if (liveModels.has(claim.owner)) continue;
      const stillDeleting = all.some((r) => r.model_uid === claim.owner && byUid.has(r.uid));
      if (stillDeleting) continue;
      if (repair) await ctx.meta.releaseName(nameScope(user), claim.name, claim.owner);
      report('name', `${user}/${claim.name}`, 'the name is held by a model that no longer exists', fixed(repair));
    }
  }
  return { columns: FSCK_COLUMNS, rows };
}

/**
 * What a temporary is, and whether fsck may remove it: never while its
 * writer runs (its name says which process wrote it; see temporaries.ts),
 * nor while younger than the grace window (a writer on another host, or one
 * whose name carries no tag).
 */
function judgeTemporary(t: TemporaryInfo, cutoff: number, by: string): [problem: string, removable: boolean] {
  if (t.writer === 'running') return [`${by} still running is writing it (${t.size} bytes so far)`, false];
  if (t.modified.getTime() > cutoff) return [`left by ${by} that never finished, or one still running (${t.size} bytes, changed recently)`, false];
  const gone = t.writer === 'gone' ? '; the process that wrote it is gone' : '';
  return [`left by ${by} that never finished (${t.size} bytes${gone})`, true];
}

async function quickCheck(ctx: EngineContext, r: ModelRecord): Promise<string[]> {
  const info = await ctx.objects.stat(r.object_key);
  if (!info) return ['its archive is missing from the object store'];
  return info.size === r.size ? [] : [`archive size ${info.size}, recorded ${r.size}`];
}

export const fsckCommand = defineCommand({
  syntax,
  summary: 'Checks the whole registry: interrupted deletes, damaged or missing archives, orphan objects, unfinished deploys, latest flags, stale names. repair=true fixes what is safe.',
  examples: ['mlmodel fsck', 'mlmodel fsck quick=true', 'mlmodel fsck repair=true grace=2h'],
  columns: FSCK_COLUMNS,
  writes: (cmd) => optionValues(syntax, cmd.options).repair === true,
  execute: executeFsck,
});
