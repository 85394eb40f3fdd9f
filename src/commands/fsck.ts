import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { col, type Cell, type Findings, type ResultTable } from '../result/table.js';
import { rewriteModelsConfig } from '../serving/config-writer.js';
import type { ModelRecord } from '../store/metadata.js';
import type { ObjectInfo } from '../store/objects.js';
import type { TemporaryInfo } from '../store/temporaries.js';
import { optionValues } from '../executor/options.js';
import { archiveKey } from '../executor/object-keys.js';
import { finishDelete } from './delete.js';
import { F } from '../store/filter.js';
import { isMlmodelError } from '../errors.js';
import { withModelLock } from '../engine/lock.js';
import { deployLease, isFresh, LEASE_SCOPE, takeOverLease, uploadLease } from '../engine/lease.js';
import { SERVING_NAME_SCOPE } from '../serving/names.js';
import type { ServedVersion } from '../serving/target.js';
import { nameScope } from '../executor/models.js';
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
  // The whole registry is an admin's (http.admins), or the console's and a
  // library caller's: they hold the stores' files and credentials anyway (the
  // HTTP server always sets local roots, a console none). Anyone else — a
  // token holder over HTTP — checks only their own models, and only repairs
  // that remove nothing (latest flags, their stale name claims).
  const whole = ctx.admin || ctx.localRoots === null;
  const rows: Cell[][] = [];
  const report = (check: string, subject: string, problem: string, action: string) => rows.push([check, subject, problem, action]);
  const may = (removes: boolean) => repair && (whole || !removes);
  const fixed = (done: boolean) => (done ? 'repaired' : repair ? 'needs an admin (http.admins): it removes data' : 'needs repair=true');

  // Listed before any record is read: a deploy records its version before it
  // writes a file, so every directory seen here has its record in the reads below.
  const servedDirs = whole ? await ctx.serving.listVersions() : [];
  const all = await ctx.meta.findModels(whole ? {} : { filter: F.eq('user', ctx.user) });
  const byUid = new Map(all.map((r) => [r.uid, r]));
  const label = (r: ModelRecord) => `${r.user}/${r.name}@${r.version}`;
  const mine = new Set(all.map((r) => r.model_uid));

  // 1. Deletes that stopped half-way: a marked latest record is a whole
  //    model's delete (every version was out of sight from that write on), a
  //    marked older record one version's. Finished as the delete would have.
  const wholeDeletes = new Map<string, ModelRecord>();
  for (const r of all) if (r.state === 'DELETING' && r.latest) wholeDeletes.set(r.model_uid, r);
  for (const [modelUid, head] of wholeDeletes) {
    const records = all.filter((r) => r.model_uid === modelUid).sort((a, b) => (a.uid === head.uid ? 1 : b.uid === head.uid ? -1 : a.version - b.version));
    const done = may(true);
    if (done) {
      await finishDelete(ctx, modelUid, records, true);
      for (const r of records) byUid.delete(r.uid);
    }
    report('interrupted delete', `${head.user}/${head.name}`, `the model is being deleted (out of sight; ${records.length} version(s) left)`, fixed(done));
  }
  for (const r of all.filter((x) => x.state === 'DELETING' && !wholeDeletes.has(x.model_uid))) {
    const done = may(true);
    if (done) {
      await finishDelete(ctx, r.model_uid, [r], false);
      byUid.delete(r.uid);
    }
    report('interrupted delete', label(r), 'the version is marked for deletion', fixed(done));
  }
  const live = [...byUid.values()].filter((r) => r.state === 'ACTIVE' && !wholeDeletes.has(r.model_uid));

  // 2. Records whose archive is gone or not what was recorded.
  for (const r of live) {
    const problems = quick ? await quickCheck(ctx, r) : await verifyRecord(ctx, r);
    for (const p of problems) report('archive', label(r), p, 'cannot repair: restore the archive or delete the version');
  }

  // 3. Objects that no record points to: nobody's model, so an admin's. An
  //    import claims a lease before it stores a byte and renews it until its
  //    record is written: objects under a live lease are an import in flight,
  //    whatever the grace. Removal takes the lease over, then looks for the
  //    record once more (it may have been written since the listing).
  if (whole) {
    const orphans = new Map<string, ObjectInfo[]>();
    for await (const obj of ctx.objects.list('models/')) {
      const uid = obj.key.split('/')[1] ?? '';
      if (!byUid.has(uid)) orphans.set(uid, [...(orphans.get(uid) ?? []), obj]);
    }
    for (const [uid, objs] of orphans) {
      if (isFresh(await ctx.meta.getClaim(LEASE_SCOPE, uploadLease(uid)))) {
        for (const obj of objs) report('orphan object', obj.key, 'no record points to it yet: an import is writing it', 'left alone');
        continue;
      }
      const recent = objs.some((obj) => obj.modified.getTime() > cutoff);
      if (recent || !repair) {
        for (const obj of objs) report('orphan object', obj.key, recent ? 'no record points to it (recent: an import may still be running)' : 'no record points to it', recent ? 'left alone' : fixed(false));
        continue;
      }
      const lease = await takeOverLease(ctx, LEASE_SCOPE, uploadLease(uid));
      if (!lease) continue;
      try {
        if (await ctx.meta.getModel(uid)) continue;
        for (const obj of objs) {
          await ctx.objects.delete(obj.key);
          report('orphan object', obj.key, 'no record points to it', fixed(true));
        }
      } finally {
        await lease.release();
      }
    }
  }

  // 3b. What killed writes left in the object store (temporary files, incomplete uploads):
  //     they belong to no one model, so only a whole-registry check sees them.
  if (whole) {
    const temporaries: TemporaryInfo[] = [];
    for await (const t of ctx.objects.temporaries()) temporaries.push(t);
    for (const t of temporaries) {
      const [problem, removable] = judgeTemporary(t, cutoff, 'an object write');
      if (removable && repair) await ctx.objects.removeTemporary(t.name);
      report('temporary', t.name, problem, removable ? fixed(repair) : 'left alone');
    }
  }

  // 4. Deploys that never finished, and what they left in the serving base.
  //    A deploy renews a lease while it writes: only one whose lease is dead is unfinished.
  let servingChanged = false;
  for (const s of await ctx.meta.findServings({ states: ['DEPLOYING'] })) {
    if (!whole && !mine.has(s.model_uid)) continue;
    if (s.updated_at.getTime() > cutoff || isFresh(await ctx.meta.getClaim(LEASE_SCOPE, deployLease(s.model_uid, s.version)))) continue;
    const done = may(false);
    if (done) {
      servingChanged = (await ctx.meta.setServingState({ model_uid: s.model_uid, version: s.version, states: ['DEPLOYING'] }, 'FAILED', ctx.now())) > 0 || servingChanged;
    }
    report('serving', `${s.serving_name}/${s.version}`, 'the deploy never finished', done ? 'marked FAILED' : fixed(false));
  }
  // A failed deploy's version is never listed in models.config and its number
  // never reused; on an object store it may have copied some files into
  // `<serving_name>/<version>/` before it died. Such a directory goes.
  const owned = new Set<string>();
  for (const s of await ctx.meta.findServings({ states: ['FAILED'] })) {
    if (!whole && !mine.has(s.model_uid)) continue;
    if (!(await ctx.serving.hasVersion(s.serving_name, s.version))) continue;
    owned.add(`${s.serving_name}/${s.version}`);
    const done = may(true);
    if (done) await ctx.serving.removeVersion(s.serving_name, s.version);
    report('serving', `${s.serving_name}/${s.version}`, 'a deploy that failed left files in its version directory', fixed(done));
  }
  if (whole) {
    for (const t of await ctx.serving.leftovers()) {
      const [problem, removable] = judgeTemporary(t, cutoff, 'a deploy');
      if (removable && repair) await ctx.serving.removeLeftover(t.name);
      report('serving', t.name, problem, removable ? fixed(repair) : 'left alone');
    }
    servingChanged = (await checkServingDirs(ctx, servedDirs, new Set(all.map((r) => r.model_uid)), owned, repair, report)) || servingChanged;
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

  // 5b. One name and one owner per model: a rename or a migrate that died half-way changed only older versions.
  for (const versions of models.values()) {
    const head = versions.find((v) => v.latest);
    const stray = head ? versions.filter((v) => v.name !== head.name || v.user !== head.user) : [];
    if (!head || stray.length === 0) continue;
    if (repair) for (const v of stray) await ctx.meta.updateModel(v.uid, { name: head.name, user: head.user, serving_name: head.serving_name });
    report('name', `${head.user}/${head.name}`, `${stray.length} older version(s) carry another name or owner (${stray[0]!.user}/${stray[0]!.name})`, fixed(repair));
  }

  // 6. Names still claimed by models that have no versions left.
  const liveModels = new Set(live.map((r) => r.model_uid));
  for (const user of whole ? new Set(all.map((r) => r.user)) : [ctx.user]) {
    for (const claim of await ctx.meta.listClaims(nameScope(user))) {
      if (liveModels.has(claim.owner)) continue;
      const stillDeleting = all.some((r) => r.model_uid === claim.owner && byUid.has(r.uid));
      if (stillDeleting) continue;
      // A first import claims its name just before it writes its record: look
      // again under the name's lock, which that import holds meanwhile.
      const done = repair && (await releaseDeadName(ctx, user, claim.name, claim.owner));
      if (repair && !done) continue;
      report('name', `${user}/${claim.name}`, 'the name is held by a model that no longer exists', fixed(done));
    }
  }
  // 7. Serving names and leases of models and commands that are gone.
  if (whole) await checkClaims(ctx, new Set([...byUid.values()].map((r) => r.model_uid)), repair, report);
  return { columns: FSCK_COLUMNS, rows, findings: findingsOf(rows) };
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

/** Releases `user`'s name claim if, under the name's lock, its model still has no record; false if it does or the name is busy. */
async function releaseDeadName(ctx: EngineContext, user: string, name: string, owner: string): Promise<boolean> {
  return withModelLock(
    ctx,
    user,
    [name],
    async () => {
      if ((await ctx.meta.countModels(F.and(F.eq('model_uid', owner), F.eq('state', 'ACTIVE')))) > 0) return false;
      return ctx.meta.releaseName(nameScope(user), name, owner);
    },
    { waitMs: 5_000 },
  ).catch((e: unknown) => {
    if (isMlmodelError(e, 'CONFLICT')) return false;
    throw e;
  });
}

type Report = (check: string, subject: string, problem: string, action: string) => void;

/** Actions that corrected a problem; `left alone` is work in flight, not a problem; anything else is a problem left. */
const CORRECTED = new Set(['repaired', 'marked FAILED']);

function findingsOf(rows: readonly (readonly Cell[])[]): Findings {
  let corrected = 0;
  let uncorrected = 0;
  for (const r of rows) {
    const action = String(r[3]);
    if (CORRECTED.has(action)) corrected++;
    else if (action !== 'left alone') uncorrected++;
  }
  return { corrected, uncorrected };
}

/**
 * Numbered serving directories: one is owned while a deploy record names it
 * and that record's model still has records — fsck never touches those (a
 * failed deploy's aside). One with no deploy record, or whose model is gone
 * (a delete that did not finish its serving part), is an orphan. Two models
 * under one serving name (written before names were claimed) are reported.
 */
async function checkServingDirs(
  ctx: EngineContext,
  dirs: readonly ServedVersion[],
  models: ReadonlySet<string>,
  failed: ReadonlySet<string>,
  repair: boolean,
  report: Report,
): Promise<boolean> {
  const servings = await ctx.meta.findServings();
  const byDir = new Map(servings.map((s) => [`${s.serving_name}/${s.version}`, s]));
  let changed = false;
  for (const d of dirs) {
    const key = `${d.servingName}/${d.version}`;
    if (failed.has(key)) continue;
    const s = byDir.get(key);
    if (s && models.has(s.model_uid)) continue;
    if (repair) {
      await ctx.serving.removeVersion(d.servingName, d.version);
      if (s) changed = (await ctx.meta.deleteServings(s.model_uid)) > 0 || changed;
    }
    report('serving', key, s ? 'the directory of a deleted model' : 'no deploy record owns this directory', repair ? 'repaired' : 'needs repair=true');
  }
  const owners = new Map<string, Set<string>>();
  for (const s of servings) if (models.has(s.model_uid)) owners.set(s.serving_name, (owners.get(s.serving_name) ?? new Set()).add(s.model_uid));
  for (const [name, uids] of owners) {
    if (uids.size > 1) report('serving', name, `${uids.size} models share this serving name`, 'cannot repair: stop all but one, deploy them again (each gets a name of its own)');
  }
  return changed;
}

/** Serving-name claims of models with no records left, and leases whose holder died after its work was done or gone. */
async function checkClaims(ctx: EngineContext, models: ReadonlySet<string>, repair: boolean, report: Report): Promise<void> {
  const served = new Set((await ctx.meta.findServings()).map((s) => s.model_uid));
  for (const c of await ctx.meta.listClaims(SERVING_NAME_SCOPE)) {
    if (models.has(c.owner) || served.has(c.owner)) continue;
    // A deploy claims its model's serving name only once the model has a record: look again.
    if ((await ctx.meta.countModels(F.eq('model_uid', c.owner))) > 0) continue;
    if (repair) await ctx.meta.releaseName(SERVING_NAME_SCOPE, c.name, c.owner);
    report('name', `serving ${c.name}`, 'the serving name is held by a model that no longer exists', repair ? 'repaired' : 'needs repair=true');
  }
  const deploying = new Set((await ctx.meta.findServings({ states: ['DEPLOYING'] })).map((s) => deployLease(s.model_uid, s.version)));
  for (const c of await ctx.meta.listClaims(LEASE_SCOPE)) {
    if (isFresh(c) || deploying.has(c.name)) continue;
    if (c.name.startsWith('upload:')) {
      const uid = c.name.slice('upload:'.length);
      const stored = await ctx.objects.stat(archiveKey(uid));
      if (stored && !(await ctx.meta.getModel(uid))) continue; // an orphan: step 3 removes it with its lease
    }
    if (repair) await ctx.meta.releaseName(LEASE_SCOPE, c.name, c.owner);
    report('lease', c.name, 'left by a command that died', repair ? 'repaired' : 'needs repair=true');
  }
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
