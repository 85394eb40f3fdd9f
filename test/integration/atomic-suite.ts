import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from '../../src/language.js';
import { openTrackingStore } from '../../src/tracking/open.js';
import type { ImportCommand } from '../../src/commands/import.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { openRegistry, openServingTarget, type Registry } from '../../src/engine/registry.js';
import type { EngineContext } from '../../src/engine/context.js';
import { LEASE_SCOPE, uploadLease } from '../../src/engine/lease.js';
import { isMlmodelError } from '../../src/errors.js';
import { commitImport, stageImport } from '../../src/commands/import.js';
import { servingNameCandidates } from '../../src/serving/names.js';
import type { ServingTarget } from '../../src/serving/target.js';
import { F } from '../../src/store/filter.js';
import type { MetadataStore } from '../../src/store/metadata.js';
import type { ObjectStore } from '../../src/store/objects.js';
import { metadataStoreFor, objectStoreAt, objectStoreFor } from '../../src/store/open.js';
import { getConnector } from '../../src/config/index.js';
import { file, tar } from '../archive/tar-writer.js';
import type { Backend } from './registry-suite.js';

/**
 * Issue 15, classes 1b, 1c and 4: acknowledged means durable and visible.
 * Races of delete, import, deploy and rename of one (user, name), run many
 * times between two registries (two store connections, as two processes
 * would have), and the invariants checked after each round: at most one live
 * model per (user, name), every acknowledged import present with its bytes,
 * no delete ever half visible, no serving directory shared, none orphaned
 * without fsck saying so, and fsck never removing an owned one or the
 * archive of an import in flight, even with grace=0.
 */
const ROUNDS = Number(process.env.MLMODEL_ATOMIC_ROUNDS ?? 50);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const saved = (tag: string) => tar(file('saved_model.pb', `graph ${tag}`), file('variables/variables.index', `index ${tag}`));

const after = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Outcome = { ok: true; rows: readonly (readonly unknown[])[] } | { ok: false; code: string; message: string };

async function attempt(p: Promise<{ rows: readonly (readonly unknown[])[] }>): Promise<Outcome> {
  try {
    return { ok: true, rows: (await p).rows };
  } catch (e) {
    if (isMlmodelError(e)) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

interface World {
  a: Registry;
  b: Registry;
  config: Config;
  meta: MetadataStore;
  objects: ObjectStore;
  serving: ServingTarget;
  source(key: string, body: Buffer): Promise<string>;
}

export function atomicSuite(setup: () => Promise<Backend>, opts: { rounds?: number } = {}): void {
  const rounds = opts.rounds ?? ROUNDS;
  let w: World;
  /** Every check that must hold at the end of any round. */
  const invariants = async (user: string, name: string) => {
    const live = await w.meta.findModels({ filter: F.and(F.eq('user', user), F.eq('name', name), F.eq('state', 'ACTIVE')) });
    expect(new Set(live.map((r) => r.model_uid)).size, `${user}/${name}: models of one name`).toBeLessThanOrEqual(1);
    expect(live.filter((r) => r.latest).length, `${user}/${name}: latest versions`).toBe(live.length > 0 ? 1 : 0);
  };
  const fsckClean = async () => {
    const rows = (await w.a.run('mlmodel fsck grace=0 quick=true')).rows;
    expect(rows, JSON.stringify(rows)).toEqual([]);
  };

  // Two registries on one store pair, opened before any case and closed after
  // the last: set up in hooks, not in cases, so no case depends on the order
  // the cases run in. Each case uses names of its own (di*, dd*, many, …).
  beforeAll(async () => {
    const backend = await setup();
    const config = loadConfig(backend.env);
    const meta = await metadataStoreFor(config);
    await meta.init();
    w = {
      a: await openRegistry({ config }),
      b: await openRegistry({ config }),
      config,
      meta,
      objects: await objectStoreFor(config),
      serving: await openServingTarget(config),
      async source(key, body) {
        await backend.putSource(key, body);
        return `OBJECTSTORAGE.MIN_AI:${key}`;
      },
    };
  });
  afterAll(async () => {
    if (w) await Promise.all([w.a.close(), w.b.close(), w.meta.close(), w.objects.close()]);
  });

  it(`${rounds} rounds of concurrent delete and import of one name leave at most one model, and every acknowledged import`, async () => {
    const src = await w.source('atomic/base.tar', saved('base'));
    let rounds_ = 0;
    const seen = { deleteFirst: 0, importFirst: 0, both: 0 };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.boolean(), fc.integer({ min: 0, max: 60 }), async (versions, importers, deleteOnB, lag) => {
        const name = `di${rounds_++}`;
        for (let v = 0; v < versions; v++) await w.a.run(`mlmodel import name=${name} type=tf path=${src}`);
        const bodies = Array.from({ length: importers }, (_, i) => saved(`${name}-${i}-${randomUUID()}`));
        const paths = await Promise.all(bodies.map((b, i) => w.source(`atomic/${name}-${i}.tar`, b)));
        const [old] = await w.meta.findModels({ filter: F.and(F.eq('name', name), F.eq('latest', true)) });
        const [del, ...imps] = await Promise.all([
          // The import streams its archive before it commits: a delete started a little later meets it in either order.
          after(lag).then(() => attempt((deleteOnB ? w.b : w.a).run(`mlmodel delete ${name}`))),
          ...paths.map((p, i) => attempt((i % 2 === 0 ? w.b : w.a).run(`mlmodel import name=${name} type=tf path=${p}`))),
        ]);
        expect(del.ok || (del as { code: string }).code === 'MODEL_NOT_FOUND', JSON.stringify(del)).toBe(true);
        await invariants('root', name);
        const records = await w.meta.findModels({ filter: F.eq('name', name) });
        // An acknowledged delete took every version of the old model with it, and only those.
        if (del.ok) expect(records.filter((r) => r.model_uid === old!.model_uid)).toEqual([]);
        for (const [i, imp] of imps.entries()) {
          expect(imp.ok, JSON.stringify(imp)).toBe(true);
          const version = Number((imp as { rows: readonly (readonly unknown[])[] }).rows[0]![2]);
          const mine = records.find((r) => r.sha256 === sha256(bodies[i]!));
          if (mine) {
            expect(mine.version, `acknowledged import ${name}@${version}`).toBe(version);
            expect(mine.state).toBe('ACTIVE');
            seen[mine.model_uid === old!.model_uid ? 'importFirst' : 'deleteFirst']++;
          } else {
            // Serialised on the name: only an import that went first, into the old
            // model, may be gone — with the old model, by the acknowledged delete.
            expect(del.ok && version > versions, `acknowledged import ${name}@${version} is lost`).toBe(true);
            seen.importFirst++;
          }
        }
        // The name still works as one model: one more import adds a version to it, or makes it anew.
        await w.b.run(`mlmodel import name=${name} type=tf path=${src}`);
        await invariants('root', name);
        expect((await w.a.run(`mlmodel list | where name = ${name}`)).rows).toHaveLength(1);
        if (del.ok && imps.every((i) => i.ok)) seen.both++;
      }),
      { numRuns: rounds },
    );
    await fsckClean();
    // The race was a race: imports came both before and after the delete.
    if (rounds >= 20) expect(Math.min(seen.deleteFirst, seen.importFirst)).toBeGreaterThan(0);
    console.log(`[atomic] delete+import: ${rounds} rounds, imports after the delete ${seen.deleteFirst}, before it ${seen.importFirst}`);
  }, 600_000);

  it(`${rounds} rounds of concurrent deploy and delete: never both acknowledged, no serving directory left behind`, async () => {
    const tally = { deployWon: 0, deleteWon: 0 };
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.integer({ min: 0, max: 40 }), async (deployOnB, lag) => {
        const name = `dd${n++}`;
        await w.a.run(`mlmodel import name=${name} type=tf path=${await w.source(`atomic/${name}.tar`, saved(name))}`);
        const [dep, del] = await Promise.all([
          attempt((deployOnB ? w.b : w.a).run(`mlmodel deploy ${name}`)),
          after(lag).then(() => attempt((deployOnB ? w.a : w.b).run(`mlmodel delete ${name}`))),
        ]);
        expect(dep.ok && del.ok, `${name}: deploy and delete both acknowledged`).toBe(false);
        const servingName = servingNameCandidates('root', name)[0]!;
        if (dep.ok) {
          tally.deployWon++;
          expect(del.ok ? '' : (del as { code: string }).code).toBe('CONFLICT');
          expect(await w.serving.hasVersion(servingName, 1)).toBe(true);
          await w.a.run(`mlmodel stop ${name}`);
          await w.b.run(`mlmodel delete ${name}`);
        } else {
          tally.deleteWon++;
          expect(del.ok, JSON.stringify([dep, del])).toBe(true);
        }
        // Deleted either way now: nothing of it is left in the serving base, and the name serves anew.
        expect(await w.serving.hasVersion(servingName, 1)).toBe(false);
        await invariants('root', name);
      }),
      { numRuns: Math.max(10, Math.floor(rounds / 2)) },
    );
    expect((await w.serving.listVersions()).filter((v) => v.servingName.startsWith('root_dd'))).toEqual([]);
    await fsckClean();
    console.log(`[atomic] deploy+delete: deploy first ${tally.deployWon}, delete first ${tally.deleteWon}`);
  }, 600_000);

  it('gives colliding <user>_<name> pairs distinct serving names, generated; fsck never removes an owned directory', async () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
    let k = 0;
    await fc.assert(
      fc.asyncProperty(word, word, word, async (x, y, z) => {
        // (x, y_z) and (x_y, z) read the same in IRIS's form.
        const tag = `${k++}`;
        const one = { user: `${x}${tag}`, name: `${y}_${z}` };
        const two = { user: `${x}${tag}_${y}`, name: z };
        const bodies = [saved(`one ${tag}`), saved(`two ${tag}`)];
        const refs = await Promise.all(bodies.map((b, i) => w.source(`atomic/sn-${tag}-${i}.tar`, b)));
        await w.a.run(`mlmodel import name=${one.name} type=tf path=${refs[0]}`, { user: one.user });
        await w.b.run(`mlmodel import name=${two.name} type=tf path=${refs[1]}`, { user: two.user });
        const [d1, d2] = await Promise.all([w.a.run(`mlmodel deploy ${one.name}`, { user: one.user }), w.b.run(`mlmodel deploy ${two.name}`, { user: two.user })]);
        const n1 = String(d1.rows[0]![2]);
        const n2 = String(d2.rows[0]![2]);
        expect(n1).not.toBe(n2);
        // Each serving name is one of its own pair's candidates, and one of them is IRIS's plain form.
        expect(servingNameCandidates(one.user, one.name)).toContain(n1);
        expect(servingNameCandidates(two.user, two.name)).toContain(n2);
        expect([n1, n2]).toContain(`${one.user}_${one.name}`);
        const config = (await w.serving.readConfig())!;
        for (const n of [n1, n2]) expect(config).toContain(`name: '${n}'`);
        await fsckClean();
        // The first pair stops and goes; the second's directory stays, and a
        // rename keeps its serving name.
        await w.a.run(`mlmodel stop ${one.name}`, { user: one.user });
        await w.a.run(`mlmodel delete ${one.name}`, { user: one.user });
        expect(await w.serving.hasVersion(n1, 1)).toBe(false);
        expect(await w.serving.hasVersion(n2, 1)).toBe(true);
        await w.a.run('mlmodel fsck repair=true grace=0');
        expect(await w.serving.hasVersion(n2, 1)).toBe(true);
        await w.b.run(`mlmodel rename ${two.name} as ${two.name}_r`, { user: two.user });
        const again = await w.b.run(`mlmodel deploy ${two.name}_r`, { user: two.user });
        expect(again.rows[0]).toEqual(['on', 2, n2]);
        await w.b.run(`mlmodel stop ${two.name}_r`, { user: two.user });
        await w.b.run(`mlmodel delete ${two.name}_r`, { user: two.user });
        expect(await w.serving.hasVersion(n2, 1)).toBe(false);
      }),
      { numRuns: Math.max(5, Math.floor(rounds / 5)) },
    );
    await fsckClean();
  }, 600_000);

  it('a delete of a model with many versions is never seen half done', async () => {
    const N = Math.max(20, rounds);
    const src = await w.source('atomic/many.tar', saved('many'));
    await w.a.importBatch(Array.from({ length: N }, () => parse(`mlmodel import name=many type=tf path=${src}`)));
    expect((await w.a.run('mlmodel versions many')).rows).toHaveLength(N);
    const seen = new Map<string, number>();
    let done = false;
    const watch = (async () => {
      while (!done) {
        const listed = (await w.b.run('mlmodel list | where name = many')).rows.length;
        const versions = await attempt(w.b.run('mlmodel versions many'));
        const count = versions.ok ? versions.rows.length : 0;
        const key = `listed=${listed} versions=${count}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        // The embedded store answers synchronously: let the delete's file work run between looks.
        await after(1);
      }
    })();
    await after(20);
    await w.a.run('mlmodel delete many');
    await after(20);
    done = true;
    await watch;
    // Each look is `list` then `versions`: each answer is whole (all N versions, or
    // not found); the delete may fall between the two (listed, then gone), never
    // the other way round. Fewer than N versions would be a delete half done.
    for (const key of seen.keys()) expect([`listed=1 versions=${N}`, 'listed=1 versions=0', 'listed=0 versions=0']).toContain(key);
    console.log(`[atomic] delete of ${N} versions, observed: ${JSON.stringify(Object.fromEntries(seen))}`);
    await fsckClean();
  }, 600_000);

  it('fsck repair=true grace=0 never removes the archive of an import in flight; a stalled one that lost its lease registers nothing', async () => {
    const body = saved('inflight');
    const ref = await w.source('atomic/inflight.tar', body);
    const ctx = engineContext(w);
    const cmd = parse(`mlmodel import name=inflight type=tf path=${ref}`).command as ImportCommand;
    const staged = await stageImport(ctx, cmd);
    const repaired = (await w.b.run('mlmodel fsck repair=true grace=0')).rows;
    expect(repaired).toContainEqual(['orphan object', staged.key, 'no record points to it yet: an import is writing it', 'left alone']);
    expect(await w.objects.stat(staged.key)).not.toBeNull();
    const table = await commitImport(ctx, staged);
    expect(table.rows[0]!.slice(0, 3)).toEqual(['ok', 'inflight', 1]);
    expect((await w.a.run('mlmodel verify inflight')).rows[0]).toContain('ok');

    // A stall: the lease is taken over (as fsck does once it is not renewed),
    // and the import, when it wakes, registers nothing and leaves nothing.
    const late = await stageImport(ctx, cmd);
    const claim = (await w.meta.getClaim(LEASE_SCOPE, uploadLease(late.uid)))!;
    expect(await w.meta.releaseName(LEASE_SCOPE, uploadLease(late.uid), claim.owner)).toBe(true);
    expect(await w.meta.claimName(LEASE_SCOPE, uploadLease(late.uid), 'a fsck')).toBe(true);
    const err = await commitImport(ctx, late).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMlmodelError(err, 'CONFLICT'), String(err)).toBe(true);
    expect(await w.meta.getModel(late.uid)).toBeNull();
    expect((await w.a.run('mlmodel summary inflight version')).rows).toEqual([['version', '1']]);
    await w.meta.releaseName(LEASE_SCOPE, uploadLease(late.uid), 'a fsck');
    await w.a.run('mlmodel delete inflight');
    await fsckClean();
  }, 120_000);
}

/** The engine context a registry builds for `root`, for driving an import's two halves separately. */
function engineContext(w: World): EngineContext {
  return {
    meta: w.meta,
    objects: w.objects,
    serving: w.serving,
    connector: (name) => objectStoreAt(getConnector(w.config, name.toUpperCase()), w.config),
    tracking: () => openTrackingStore(w.config, w.meta),
    localRoots: null,
    user: 'root',
    admin: false,
    signal: undefined,
    onProgress: undefined,
    now: () => new Date(),
    newUid: randomUUID,
  };
}
