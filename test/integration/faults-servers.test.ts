import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseS3Url } from '../../src/config/location.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { dir, file, tar } from '../archive/tar-writer.js';
import { describeWithServer } from '../servers/servers.js';
import { readAll } from '../store/objects-conformance.js';
import { FSCK_STATUSES, jsonRows, rng, runCli, startKillableServers, type FaultServers } from './fault-harness.js';

/**
 * Issue 9.5: SIGKILL MinIO, the MongoDB-wire server or the console itself at
 * random points during imports, deploys and deletes; restart; fsck. Every
 * import the client saw acknowledged must still have its record and an
 * object with the same sha256; no record may point to a missing object; no
 * numeric serving version directory may be partial; what fsck finds before
 * repairing may only be unreferenced staging objects, interrupted deletes and
 * unfinished deploys, and after repair=true it finds nothing.
 *
 * The test command runs a short campaign; `npm run reliability:faults`
 * (MLMODEL_FAULT_OPS=50) runs the full one whose figures docs/reliability.md records.
 */
const OPS = Number(process.env.MLMODEL_FAULT_OPS ?? 12);
const KILL_SHARE = Number(process.env.MLMODEL_FAULT_KILL_SHARE ?? 0.5);
const SEED = Number(process.env.MLMODEL_FAULT_SEED ?? Date.now() % 2 ** 31);
const TIMEOUT = Number(process.env.MLMODEL_FAULT_TIMEOUT_MS ?? 1_800_000);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TF_FILES = ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'];

describeWithServer('mongodb', 'faults: SIGKILL of MinIO, the MongoDB-wire server and the console', () => {
  describeWithServer('minio', 'with MinIO', () => {
    let work: string;
    let servers: FaultServers;
    let env: NodeJS.ProcessEnv;
    const figures = {
      seed: SEED,
      ops: 0,
      acknowledged: { import: 0, deploy: 0, delete: 0, rename: 0 },
      failedOrKilled: 0,
      faults: { minio: 0, mongodb: 0, console: 0 },
      /** Kills that came after the command had already finished (the server was still killed and restarted). */
      faultsAfterTheCommand: 0,
      fsckBefore: {} as Record<string, number>,
      checkedImports: 0,
      uncertainImports: 0,
      losses: 0,
      /** Acknowledged renames, deletes and deploys whose effect is not there at the end. */
      lostOperations: 0,
      /** Checked right after every delete or rename that was not acknowledged: a model listed with some versions gone, or under two names. */
      halfVisibleChecks: 0,
      halfVisible: 0,
      seconds: 0,
    };

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'mlmodel-faults-'));
      servers = await startKillableServers(join(work, 'servers'));
      const mongo = new URL(servers.mongoUrl);
      mongo.pathname = '/mlmodel_faults';
      env = {
        PATH: process.env.PATH,
        HOME: work,
        MLMODEL_HOME: join(work, 'home'),
        MLMODEL_USER: 'root',
        MLMODEL_MONGODB_URL: mongo.toString(),
        MLMODEL_MINIO_URL: `${servers.minioBase}/faults-objects`,
        MLMODEL_SERVING_BASE: `${servers.minioBase}/faults-serving/tf`,
      };
    }, 600_000);

    afterAll(async () => {
      console.log(`fault campaign: ${JSON.stringify(figures)}`);
      if (process.env.MLMODEL_FAULT_FIGURES) await writeFile(process.env.MLMODEL_FAULT_FIGURES, JSON.stringify(figures, null, 2));
      await servers?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it(`${OPS} imports, deploys, deletes and renames with random SIGKILLs lose nothing acknowledged and show nothing half done`, async () => {
      const started = Date.now();
      const random = rng(SEED);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      let n = 0;
      /** A fresh, distinct tf SavedModel archive on disk. */
      const newArchive = async (megabytes = 1 + (n % 4)): Promise<{ path: string; sha: string }> => {
        const body = tar(
          file('saved_model.pb', `graph ${n}`),
          dir('variables/'),
          file('variables/variables.index', `index ${n}`),
          // Megabytes of incompressible weights, so a kill can land while an import or deploy streams them.
          file('variables/variables.data-00000-of-00001', randomBytes(1024 * 1024 * megabytes + n)),
        );
        const path = join(work, `a${n++}.tar`);
        await writeFile(path, body);
        return { path, sha: sha256(body) };
      };

      // Two models only ever deployed, with large archives (24 MiB in the long run, 8 in the short: a kill
      // lands while a deploy unpacks and copies them), set up before any fault.
      for (const name of ['svc_0', 'svc_1']) {
        const a = await newArchive(process.env.MLMODEL_FAULT_OPS ? 24 : 8);
        const r = await runCli(`mlmodel import name=${name} type=tf path=${a.path}`, env);
        expect(jsonRows(r), r.stderr).not.toBeNull();
      }
      /** Models with many versions, for deletes that a kill can land in the middle of. */
      // The test command's short campaign keeps them small; the long one (MLMODEL_FAULT_OPS) deletes 60 at a time.
      const bulkVersions = Number(process.env.MLMODEL_FAULT_BULK_VERSIONS ?? (process.env.MLMODEL_FAULT_OPS ? 60 : 15));
      const small = await newArchive(0);
      const bulkScript = join(work, 'bulk.mlq');
      const bulkNames = process.env.MLMODEL_FAULT_OPS ? ['bulk_0', 'bulk_1', 'bulk_2'] : ['bulk_0'];
      await writeFile(bulkScript, bulkNames.flatMap((b) => Array.from({ length: bulkVersions }, () => `mlmodel import name=${b} type=tf path=${small.path}`)).join('\n') + '\n');
      expect((await runCli('', env, { script: bulkScript, timeoutMs: 600_000 })).code).toBe(0);

      /** name → its imports in order; `doubt` once a delete that may have run follows them. */
      const history = new Map<string, Array<{ version: number; sha: string; acked: boolean; doubt: boolean }>>();
      const deployed = new Map<string, Array<{ version: number; servingName: string }>>();
      const names = ['imp_0', 'imp_1', 'imp_2', 'imp_3', 'imp_4'];
      for (const b of bulkNames) history.set(b, []);
      // One acknowledged import that no operation touches afterwards: it must live through every kill and
      // fsck's repair, and it keeps the check below from being empty when the seed's deletes and renames
      // happen to take every other acknowledged import with them.
      const kept = await newArchive();
      const keptRows = jsonRows(await runCli(`mlmodel import name=kept_0 type=tf path=${kept.path}`, env));
      expect(keptRows, 'the import made before the faults').not.toBeNull();
      history.set('kept_0', [{ version: Number(keptRows![0]![2]), sha: kept.sha, acked: true, doubt: false }]);
      /** Acknowledged renames and deletes: names that must (not) hold a model at the end. */
      const mustExist = new Set<string>(['svc_0', 'svc_1', 'kept_0', ...bulkNames]);
      const mustBeGone = new Set<string>();
      const client = new MongoClient(env.MLMODEL_MONGODB_URL!);
      /** A model is half visible if it is listed while some of its records are marked for deletion, or listed without all its versions. */
      const halfVisible = async (...which: string[]): Promise<boolean> => {
        figures.halfVisibleChecks++;
        const records = await client.db().collection('models').find({ name: { $in: which } }).toArray();
        const listed = records.filter((r) => r.latest === true && r.state === 'ACTIVE');
        for (const head of listed) {
          if (records.some((r) => r.model_uid === head.model_uid && r.state !== 'ACTIVE')) return true;
        }
        // What a user sees: a listed name resolves, with every version it has.
        for (const name of which) {
          const list = jsonRows(await runCli(`mlmodel list | where name = ${name}`, env));
          const versions = jsonRows(await runCli(`mlmodel versions ${name}`, env));
          const stored = records.filter((r) => r.name === name && r.state === 'ACTIVE' && listed.some((h) => h.model_uid === r.model_uid)).length;
          if (list !== null && list.length > 0 && (versions === null || versions.length !== stored)) return true;
        }
        return false;
      };

      for (let op = 0; op < OPS; op++) {
        figures.ops++;
        const roll = random();
        const kind = roll < 0.4 ? 'import' : roll < 0.6 ? 'deploy' : roll < 0.8 ? 'delete' : 'rename';
        const fault = random() < KILL_SHARE ? pick(['minio', 'mongodb', 'console'] as const) : null;
        // The console needs a few hundred ms to start and open its stores: kills are spread over the command's whole life.
        const delay = 50 + Math.floor(random() * 1200);
        let query: string;
        let archive: { path: string; sha: string } | undefined;
        const bulk = bulkNames.filter((b) => mustExist.has(b));
        const name = kind === 'deploy' ? pick(['svc_0', 'svc_1']) : kind === 'delete' && bulk.length > 0 && random() < 0.5 ? pick(bulk) : pick(names);
        // Renames move a model between imp_<k> and ren_<k>: the same model under a new name.
        const renamed = name.startsWith('imp_') ? name.replace('imp_', 'ren_') : name;
        let from = name;
        if (kind === 'import') {
          archive = await newArchive();
          query = `mlmodel import name=${name} type=tf path=${archive.path}`;
        } else if (kind === 'deploy') query = `mlmodel deploy ${name} label='op${op}'`;
        else if (kind === 'delete') query = `mlmodel delete ${name}`;
        else {
          // Whichever of the pair holds the model now.
          from = (history.get(renamed)?.length ?? 0) > 0 ? renamed : name;
          query = `mlmodel rename ${from} as ${from === name ? renamed : name}`;
        }

        let finished = false;
        const running = runCli(query, env, { timeoutMs: 180_000, ...(fault === 'console' ? { killAfterMs: delay } : {}) }).then((r) => {
          finished = true;
          return r;
        });
        let landed = false;
        if (fault === 'minio' || fault === 'mongodb') {
          const server = fault === 'minio' ? servers.minio : servers.ferret;
          await new Promise((r) => setTimeout(r, delay));
          landed = !finished;
          await server.kill9();
          await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 800)));
          await server.start();
        }
        const result = await running;
        if (fault === 'console') landed = result.killed;
        // Only a kill that hit a command still running counts as a fault injected during it.
        if (fault && landed) figures.faults[fault]++;
        else if (fault) figures.faultsAfterTheCommand++;
        const rows = jsonRows(result);
        if (rows === null) figures.failedOrKilled++;
        else figures.acknowledged[kind]++;

        if (kind === 'import') {
          const list = history.get(name) ?? [];
          if (rows !== null) list.push({ version: Number(rows[0]![2]), sha: archive!.sha, acked: true, doubt: false });
          history.set(name, list);
          if (rows !== null) {
            expect(rows[0]![4]).toBe(archive!.sha);
            mustBeGone.delete(name);
          }
        } else if (kind === 'delete') {
          // Acknowledged: every version is gone. Not acknowledged: all or none may be, never some.
          const list = history.get(name) ?? [];
          if (rows !== null) {
            history.set(name, []);
            mustExist.delete(name);
            mustBeGone.add(name);
          } else {
            for (const h of list) h.doubt = true;
            mustExist.delete(name);
            if (await halfVisible(name)) figures.halfVisible++;
          }
        } else if (kind === 'rename') {
          const to = from === name ? renamed : name;
          if (rows !== null) {
            // The whole model now answers to the new name; the old name is free.
            history.set(to, [...(history.get(to) ?? []), ...(history.get(from) ?? [])]);
            history.set(from, []);
          } else if (await halfVisible(from, to)) figures.halfVisible++;
          else {
            // Not acknowledged: the model is under one of the two names, which one is not known.
            for (const h of [...(history.get(from) ?? []), ...(history.get(to) ?? [])]) h.doubt = true;
          }
        } else if (rows !== null) {
          deployed.set(name, [...(deployed.get(name) ?? []), { version: Number(rows[0]![1]), servingName: String(rows[0]![2]) }]);
        }
      }

      // Recovery: everything up; leases of killed consoles' imports and deploys
      // die once not renewed (20 s), then fsck reports, repairs, and reports nothing more.
      await new Promise((r) => setTimeout(r, 21_000));
      const fsckBefore = jsonRows(await runCli('mlmodel fsck grace=0', env), FSCK_STATUSES);
      expect(fsckBefore).not.toBeNull();
      for (const row of fsckBefore!) figures.fsckBefore[String(row[0])] = (figures.fsckBefore[String(row[0])] ?? 0) + 1;
      // A record whose archive is missing or damaged would be a loss: fsck cannot repair that.
      expect(fsckBefore!.filter((r) => r[0] === 'archive'), JSON.stringify(fsckBefore)).toEqual([]);
      for (const row of fsckBefore!.filter((r) => r[0] === 'orphan object')) expect(String(row[1])).toMatch(/^models\/[0-9a-f-]{36}\/(archive|manifest\.json)$/);
      expect(jsonRows(await runCli('mlmodel fsck repair=true grace=0', env), FSCK_STATUSES)).not.toBeNull();
      expect(jsonRows(await runCli('mlmodel fsck grace=0', env), FSCK_STATUSES)).toEqual([]);

      // Every acknowledged import: its record, and an object whose sha256 matches.
      const objects = new MinioObjectStore({ location: parseS3Url(env.MLMODEL_MINIO_URL!, 'test') });
      const serving = new MinioObjectStore({ location: parseS3Url(`${servers.minioBase}/faults-serving`, 'test') });
      try {
        const records = await client.db().collection('models').find({}).toArray();
        for (const [name, list] of history) {
          for (const h of list) {
            if (h.doubt) {
              figures.uncertainImports++;
              continue;
            }
            figures.checkedImports++;
            // A rename keeps versions and their records: the same (version, sha256) under the model's current name.
            const r = records.find((x) => x.name === name && x.version === h.version && x.state === 'ACTIVE' && x.sha256 === h.sha);
            if (!r || r.sha256 !== h.sha) {
              figures.losses++;
              continue;
            }
            const body = await readAll(await objects.get(String(r.object_key)));
            if (sha256(body) !== h.sha) figures.losses++;
          }
        }
        // No record points to a missing object; versions of a model are unique.
        for (const r of records) expect(await objects.stat(String(r.object_key)), `${r.name}@${r.version}`).not.toBeNull();
        const keys = records.map((r) => `${r.user}/${r.name}@${r.version}`);
        expect(new Set(keys).size).toBe(keys.length);
        // No numeric serving version directory is partial; every acknowledged deploy is there.
        const versions = new Map<string, Set<string>>();
        for await (const o of serving.list('tf/')) {
          const m = /^tf\/([^/]+)\/(\d+)\/(.+)$/.exec(o.key);
          if (m) versions.set(`${m[1]}/${m[2]}`, new Set([...(versions.get(`${m[1]}/${m[2]}`) ?? []), m[3]!]));
          expect(o.key, 'staging left in the serving base').not.toMatch(/\/\.tmp-/);
        }
        for (const [v, files] of versions) expect([...files].sort(), v).toEqual([...TF_FILES].sort());
        for (const [name, vs] of deployed) {
          for (const v of vs) {
            if (versions.has(`${v.servingName}/${v.version}`)) continue;
            figures.lostOperations++;
            console.log(`lost deploy ${name} ${JSON.stringify(v)}`);
          }
        }
        // Acknowledged deletes and renames: the names that must be empty are, and the models that must exist do.
        for (const name of mustBeGone) {
          if (!records.some((r) => r.name === name && r.state === 'ACTIVE')) continue;
          figures.lostOperations++;
          console.log(`lost delete of ${name}`);
        }
        for (const name of mustExist) {
          if (records.some((r) => r.name === name && r.state === 'ACTIVE' && r.latest === true)) continue;
          figures.lostOperations++;
          console.log(`${name} is gone`);
        }
        // One model per name; every serving directory has its own model.
        const heads = records.filter((r) => r.latest === true && r.state === 'ACTIVE').map((r) => r.name as string);
        expect(new Set(heads).size, 'two models of one name').toBe(heads.length);
      } finally {
        await client.close();
      }
      figures.seconds = Math.round((Date.now() - started) / 1000);
      console.log(`[faults] acknowledged operations lost: ${figures.losses + figures.lostOperations}; half-visible states: ${figures.halfVisible} in ${figures.halfVisibleChecks} checks`);
      expect(figures.losses).toBe(0);
      expect(figures.lostOperations).toBe(0);
      expect(figures.halfVisible).toBe(0);
      expect(figures.checkedImports).toBeGreaterThan(0);
    }, TIMEOUT);
  });
});
