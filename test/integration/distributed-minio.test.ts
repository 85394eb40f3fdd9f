/**
 * Issue 23 §1: the registry on a four-node erasure-coded MinIO (four
 * `minio server` processes on loopback, each with its own drive directory,
 * started by scripts/test-servers.mjs: one erasure set of 4 drives at the
 * default parity EC:2, so reads need 2 drives and writes 3), metadata on
 * the MongoDB-wire test server.
 *
 * - The object-store conformance suite and the IRIS walk-through run on it
 *   unchanged, each store and case through another node (the 1 GiB case
 *   in the long campaign only).
 * - Kill campaign: imports, exports, pulls and deploys of large archives
 *   through a node picked at random, one node (sometimes the one the
 *   command talks to) SIGKILLed during each, then started again on its
 *   drive. A command through a node that stayed up must succeed.
 * - Healing: MinIO's own heal sequence (admin API, signed as `mc admin
 *   heal` signs it) on every bucket must finish with every drive ok, every
 *   object must be on all four drives, and every acknowledged import must
 *   verify by sha256 (`mlmodel verify`) with nodes 1 and 2 down and later
 *   with 3 and 4 down: each object read from the other two drives alone,
 *   so one that a restarted node did not heal fails. Acknowledged exports
 *   (bytes) and deploys (complete version directories) are checked the
 *   same way. Losses must be 0.
 * - Two nodes down (more than EC:2 tolerates for writes): imports, deploys
 *   and exports fail at once with STORE_UNAVAILABLE naming write quorum,
 *   none is acknowledged, reads go on, and nothing acknowledged is missing
 *   once the nodes are back.
 *
 * The test command runs a short campaign; `npm run test:scale`
 * (MLMODEL_SCALE_CAMPAIGN=1) the long one whose figures docs/reliability.md
 * records: MLMODEL_SCALE_OPS, MLMODEL_SCALE_ARCHIVE_MB, MLMODEL_SCALE_SEED,
 * MLMODEL_SCALE_FIGURES=file.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseS3Url } from '../../src/config/location.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { dir, file, tar } from '../archive/tar-writer.js';
import { databaseOfItsOwn, describeWithServer } from '../servers/servers.js';
import { httpGet, objectConformance, readAll } from '../store/objects-conformance.js';
import { jsonRows, rng, runCli, type CliResult } from './fault-harness.js';
import { registrySuite } from './registry-suite.js';
import { serversBackends } from './servers-backend.js';
import { drivesHolding, startCluster, type ClusterNode, type HealItem, type MinioCluster } from './minio-cluster.js';

const log = (m: string) => process.stderr.write(`[minio-cluster] ${m}\n`);
// A hang bound, not a speed check: the walk-through's 16 parallel deploys on four MinIO processes took
// over the default 30 s once with the machine's load average at 18.
vi.setConfig({ testTimeout: 120_000 });
const CAMPAIGN = process.env.MLMODEL_SCALE_CAMPAIGN === '1';
const OPS = Number(process.env.MLMODEL_SCALE_OPS ?? (CAMPAIGN ? 24 : 4));
const ARCHIVE_MB = Number(process.env.MLMODEL_SCALE_ARCHIVE_MB ?? (CAMPAIGN ? 48 : 12));
const SEED = Number(process.env.MLMODEL_SCALE_SEED ?? Date.now() % 2 ** 31);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TF_FILES = ['saved_model.pb', 'variables/variables.data-00000-of-00001', 'variables/variables.index'];
/** What a user is told when a write needs more drives than are online. */
const WRITE_QUORUM = /error at -c, line 1: MinIO .*the cluster cannot take writes now: fewer of its drives are online than a write needs \(its write quorum\).*\(STORE_UNAVAILABLE\)/;

describeWithServer('mongodb', 'registry on a four-node distributed MinIO', (mongoUrl) => {
  let cluster: MinioCluster;
  beforeAll(async () => {
    cluster = await startCluster(log);
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  /** Each store, each walk-through case, goes through the next node: any node serves every bucket. */
  let turn = 0;
  const nextNode = () => cluster.nodes[turn++ % cluster.nodes.length]!.url;

  describe('object-store conformance', () => {
    const run = randomBytes(3).toString('hex');
    let n = 0;
    objectConformance({
      async open() {
        const store = new MinioObjectStore({ location: parseS3Url(`${nextNode()}/conformance-${run}-${++n}`, 'test') });
        await store.init();
        return store;
      },
      fetchPresigned: httpGet,
    }, { huge: CAMPAIGN });
  });

  describe('IRIS walk-through', () => {
    registrySuite(serversBackends(mongoUrl, nextNode)(''));
  });

  describe('SIGKILLed nodes', () => {
    const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_scale_${randomBytes(3).toString('hex')}`);
    let work: string;
    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'mlmodel-scale-'));
      // The connector's bucket, as its owner would have made it (mlmodel makes only its own).
      await new MinioObjectStore({ location: parseS3Url(`${cluster.url}/scale-exports`, 'test') }).init();
    });
    afterAll(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });
    /** The console's environment when it talks to NODE (as a load balancer would pick one). */
    const envFor = (node: ClusterNode): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: work,
      MLMODEL_HOME: join(work, 'home'),
      MLMODEL_USER: 'root',
      MLMODEL_MONGODB_URL: mongo,
      MLMODEL_MINIO_URL: `${node.url}/scale-objects`,
      MLMODEL_SERVING_BASE: `${node.url}/scale-serving/tf`,
      MLMODEL_CONNECTOR_MIN_AI: `${node.url}/scale-exports`,
    });
    const BUCKETS = ['scale-objects', 'scale-serving', 'scale-exports'];
    let archives = 0;
    /** A fresh tf SavedModel archive on disk, MiB megabytes of incompressible weights. */
    const newArchive = async (mib: number): Promise<{ path: string; sha: string; weights: string }> => {
      const weights = randomBytes(mib * 1024 * 1024 + archives);
      const body = tar(
        file('saved_model.pb', `graph ${archives}`),
        dir('variables/'),
        file('variables/variables.index', `index ${archives}`),
        file('variables/variables.data-00000-of-00001', weights),
      );
      const path = join(work, `a${archives++}.tar`);
      await writeFile(path, body);
      return { path, sha: sha256(body), weights: sha256(weights) };
    };
    const cli = (query: string, node: ClusterNode, opts: Parameters<typeof runCli>[2] = {}) =>
      runCli(query, envFor(node), { timeoutMs: 300_000, ...opts });
    const failure = (r: CliResult) => `exit ${r.code ?? r.signal}: ${r.stderr.trim()}`;

    /** The model pulled and exported. */
    let big: { path: string; sha: string; weights: string };
    /** Acknowledged imports, exports and deploys, checked at the end. */
    const acked = {
      imports: [] as Array<{ name: string; version: number; sha: string }>,
      exports: [] as Array<{ key: string; sha: string }>,
      deploys: [] as Array<{ servingName: string; version: number }>,
    };

    /**
     * Every acknowledged import verifies by sha256 (one `mlmodel verify` each,
     * in one script), every acknowledged export has its bytes, every
     * acknowledged deploy its complete version directory, reading through
     * VIA. Answers the losses.
     */
    const losses = async (via: ClusterNode): Promise<string[]> => {
      const lost: string[] = [];
      const script = join(work, `verify-${via.index}.mlq`);
      await writeFile(script, acked.imports.map((i) => `mlmodel verify ${i.name}@${i.version}`).join('\n') + '\n');
      const r = await cli('', via, { script });
      expect(r.killed, 'verify hung').toBe(false);
      const results = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rows?: unknown[][] });
      acked.imports.forEach((imp, i) => {
        const row = results[i]?.rows?.[0];
        if (!row || row[5] !== 'ok' || row[4] !== imp.sha) lost.push(`import ${imp.name}@${imp.version}: ${row ? JSON.stringify(row) : failure(r)}`);
      });
      const exports = new MinioObjectStore({ location: parseS3Url(`${via.url}/scale-exports`, 'test') });
      for (const e of acked.exports) {
        const body = await exports.get(e.key).then(readAll, (err: unknown) => Buffer.from(String(err)));
        if (sha256(body) !== e.sha) lost.push(`export ${e.key}`);
      }
      const serving = new MinioObjectStore({ location: parseS3Url(`${via.url}/scale-serving`, 'test') });
      const versions = new Map<string, string[]>();
      for await (const o of serving.list('tf/')) {
        const m = /^tf\/([^/]+)\/(\d+)\/(.+)$/.exec(o.key);
        if (m) versions.set(`${m[1]}/${m[2]}`, [...(versions.get(`${m[1]}/${m[2]}`) ?? []), m[3]!]);
      }
      for (const [v, files] of versions) expect(files.sort(), `serving version ${v} is partial`).toEqual(TF_FILES);
      for (const d of acked.deploys) if (!versions.has(`${d.servingName}/${d.version}`)) lost.push(`deploy ${d.servingName}/${d.version}`);
      return lost;
    };

    const figures = {
      seed: SEED,
      ops: 0,
      archiveMiB: ARCHIVE_MB,
      /** SIGKILLs that hit a command still running. */
      killsDuringCommands: 0,
      /** Kills that came after the command had already finished (the node was still killed and restarted). */
      killsAfterTheCommand: 0,
      /** All SIGKILLs, with the two-node ones of the checks below. */
      kills: 0,
      acknowledged: { import: 0, export: 0, pull: 0, deploy: 0 },
      failed: { import: 0, export: 0, pull: 0, deploy: 0 },
      /** Failures of commands whose own node stayed up while another was killed (must be 0). */
      failedThroughASurvivor: 0,
      healItems: 0,
      /** Heal items that MinIO reports as repaired: a drive missing or offline before, all ok after. */
      healedItems: 0,
      objectsOnAllDrives: 0,
      /** Writes tried with two nodes down, and how many of them were acknowledged (must be 0). */
      twoDown: { attempted: 0, acknowledged: 0 },
      losses: 0,
      seconds: 0,
    };
    /** When the first phase began: seconds counts the kill tests only. */
    let started = Date.now();
    afterAll(async () => {
      figures.kills = cluster?.nodes.reduce((n, x) => n + x.kills, 0) ?? 0;
      figures.seconds = Math.round((Date.now() - started) / 1000);
      log(`kill campaign: ${JSON.stringify(figures)}`);
      if (process.env.MLMODEL_SCALE_FIGURES) await writeFile(process.env.MLMODEL_SCALE_FIGURES, JSON.stringify(figures, null, 2));
    });
    const node = (i: number) => cluster.nodes[i - 1]!;
    /** Reads every acknowledged thing through VIA; what is missing counts as lost and fails the test. */
    const expectNoLosses = async (via: ClusterNode) => {
      const lost = await losses(via);
      figures.losses += lost.length;
      expect(lost).toEqual([]);
    };

    // The three tests below are one campaign's phases, in order (as vitest runs a file's tests).
    it(`${OPS} imports, exports, pulls and deploys of ${ARCHIVE_MB} MiB archives, a node SIGKILLed during each: every command through another node succeeds, every acknowledged one holds`, async () => {
      started = Date.now();
      const random = rng(SEED);
      // Models made before any fault: one only deployed, one only pulled and exported.
      const svc = await newArchive(ARCHIVE_MB);
      big = await newArchive(ARCHIVE_MB);
      for (const [name, a] of [['svc', svc], ['big', big]] as const) {
        const r = await cli(`mlmodel import name=${name} type=tf path=${a.path}`, node(1));
        expect(jsonRows(r), failure(r)).not.toBeNull();
        acked.imports.push({ name, version: 1, sha: a.sha });
      }
      // The test command kills one node again and again, which needs no wait between kills; the long
      // campaign any node, first waiting for the last one restarted to be rejoined by its peers (MinIO
      // reconnects to a restarted node within 15 s), since one node down is what EC:2 is meant to survive.
      const onlyVictim = cluster.nodes[Math.floor(random() * cluster.nodes.length)]!;
      let rejoining: ClusterNode | null = null;
      const kinds = ['import', 'export', 'pull', 'deploy'] as const;
      for (let op = 0; op < OPS; op++) {
        figures.ops++;
        // Every kind in turn; which node, which victim and when at random.
        const kind = kinds[op % kinds.length]!;
        const via = cluster.nodes[Math.floor(random() * cluster.nodes.length)]!;
        const victim = CAMPAIGN ? cluster.nodes[Math.floor(random() * cluster.nodes.length)]! : onlyVictim;
        // The console needs a few hundred ms to start: kills spread over the command's life.
        const delay = 150 + Math.floor(random() * 1500);
        if (rejoining && rejoining !== victim) await cluster.waitOnline();
        let query: string;
        let archive: Awaited<ReturnType<typeof newArchive>> | undefined;
        const pullTo = join(work, `pull-${op}`);
        const exportKey = `exports/e${op}.tar`;
        if (kind === 'import') {
          archive = await newArchive(ARCHIVE_MB);
          query = `mlmodel import name=imp type=tf path=${archive.path}`;
        } else if (kind === 'export') query = `mlmodel export name=big path=OBJECTSTORAGE.MIN_AI:${exportKey}`;
        else if (kind === 'pull') query = `mlmodel pull big to=${pullTo}`;
        else query = `mlmodel deploy svc label='op${op}'`;

        let finished = false;
        const running = cli(query, via).then((r) => {
          finished = true;
          return r;
        });
        await new Promise((r) => setTimeout(r, delay));
        const landed = !finished;
        await victim.kill9();
        const result = await running;
        await victim.start();
        rejoining = victim;
        if (landed) figures.killsDuringCommands++;
        else figures.killsAfterTheCommand++;

        const rows = jsonRows(result);
        if (rows === null) {
          figures.failed[kind]++;
          if (via !== victim) {
            figures.failedThroughASurvivor++;
            log(`op ${op} ${kind} through node ${via.index} failed while node ${victim.index} was down: ${failure(result)}`);
          }
          continue;
        }
        figures.acknowledged[kind]++;
        if (kind === 'import') {
          expect(rows[0]![4]).toBe(archive!.sha);
          acked.imports.push({ name: 'imp', version: Number(rows[0]![2]), sha: archive!.sha });
        } else if (kind === 'export') acked.exports.push({ key: exportKey, sha: big.sha });
        else if (kind === 'deploy') acked.deploys.push({ version: Number(rows[0]![1]), servingName: String(rows[0]![2]) });
        else {
          // Acknowledged pull: the files are there, byte for byte.
          expect(sha256(await readFile(join(pullTo, 'variables/variables.data-00000-of-00001')))).toBe(big.weights);
        }
      }
      expect(figures.failedThroughASurvivor).toBe(0);
      expect(figures.killsDuringCommands).toBeGreaterThan(0);
    }, CAMPAIGN ? 3_600_000 : 300_000);

    it("heals the restarted nodes: MinIO's heal sequence repairs every bucket, every object is on all four drives, and every acknowledged import verifies with nodes 1 and 2 down", async () => {
      await cluster.waitOnline();
      // Healing, by MinIO's own account: its heal sequence (what `mc admin heal -r` starts) on every bucket.
      const ok = (drives: HealItem['after']['drives']) => (drives ?? []).every((d) => d.state === 'ok');
      for (const bucket of BUCKETS) {
        let healed = await cluster.heal(bucket);
        // A drive its peers still see as offline (a restarted node's connections coming back, slow on a
        // loaded machine) is unreachable, not unrepaired: heal again once every node answers. Missing or
        // corrupt parts are never retried away.
        const unreachable = (h: typeof healed) =>
          h.items.some((i) => !ok(i.after.drives)) && h.items.every((i) => (i.after.drives ?? []).every((d) => d.state === 'ok' || d.state === 'offline'));
        for (let attempt = 1; attempt < 4 && unreachable(healed); attempt++) {
          log(`heal ${bucket}: a drive was offline to its peers; healing again (attempt ${attempt + 1})`);
          await new Promise((r) => setTimeout(r, 3000));
          await cluster.waitOnline();
          healed = await cluster.heal(bucket);
        }
        expect(healed.summary, `heal ${bucket}: ${healed.detail}`).toBe('finished');
        figures.healItems += healed.items.length;
        figures.healedItems += healed.items.filter((i) => !ok(i.before.drives) && ok(i.after.drives)).length;
        const broken = healed.items.filter((i) => !ok(i.after.drives));
        expect(broken.map((i) => `${i.type} ${i.object}: ${JSON.stringify(i.after.drives)}`)).toEqual([]);
      }
      // And on disk: every object of every bucket on all four drives.
      for (const bucket of BUCKETS) {
        for await (const o of new MinioObjectStore({ location: parseS3Url(`${node(1).url}/${bucket}`, 'test') }).list('')) {
          expect(await drivesHolding(cluster, bucket, o.key), `${bucket}/${o.key}`).toEqual([1, 2, 3, 4]);
          figures.objectsOnAllDrives++;
        }
      }
      expect(figures.objectsOnAllDrives).toBeGreaterThan(acked.imports.length);
      // Read from drives 3 and 4 alone (EC:2 reads need 2): an object either of them lacks fails here.
      await node(1).kill9();
      await node(2).kill9();
      await expectNoLosses(node(3));
      await node(1).start();
      await node(2).start();
    }, 300_000);

    it('with nodes 3 and 4 down (more than EC:2 tolerates for writes) writes fail at once with STORE_UNAVAILABLE naming write quorum, reads go on, and nothing acknowledged is missing once they are back', async () => {
      const [n2, n3, n4] = [node(2), node(3), node(4)];
      await cluster.waitOnline();
      const before = await newArchive(2);
      const pre = await cli(`mlmodel import name=quorum type=tf path=${before.path}`, n2);
      expect(jsonRows(pre), failure(pre)).not.toBeNull();
      const version = Number(jsonRows(pre)![0]![2]);
      acked.imports.push({ name: 'quorum', version, sha: before.sha });
      await n3.kill9();
      await n4.kill9();
      const a = await newArchive(2);
      for (const query of [
        `mlmodel import name=quorum type=tf path=${a.path}`,
        `mlmodel import name=never type=tf path=${a.path}`,
        `mlmodel deploy svc`,
        `mlmodel export name=big path=OBJECTSTORAGE.MIN_AI:exports/two-down.tar`,
      ]) {
        figures.twoDown.attempted++;
        const r = await cli(query, n2);
        if (jsonRows(r) !== null) figures.twoDown.acknowledged++;
        expect(r.code, query).toBe(1);
        expect(r.stderr, query).toMatch(WRITE_QUORUM);
        // Said once, by the console: no retry warnings of the client around it.
        expect(r.stderr.trim().split('\n'), query).toHaveLength(1);
      }
      expect(figures.twoDown.acknowledged).toBe(0);
      // Reads need two drives: everything acknowledged reads from drives 1 and 2 alone.
      await expectNoLosses(n2);
      await n4.start();
      await n3.start();
      // Back to four: the refused writes left no version and no model; what was acknowledged is there.
      expect(jsonRows(await cli('mlmodel versions quorum', n3))?.map((r) => Number(r[0]))).toEqual([version]);
      expect((await cli('mlmodel versions never', n3)).stderr).toMatch(/MODEL_NOT_FOUND/);
      await expectNoLosses(n3);
    }, 300_000);
  });
});
