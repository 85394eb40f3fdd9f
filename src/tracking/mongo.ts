/**
 * The tracking store in the registry's MongoDB database, through the
 * metadata store's own client. Writes ask for majority and journaling like
 * every registry write. There are no multi-document transactions to lean on
 * (FerretDB v1 has none), so a batch of metric points is inserted with one
 * batch id and removed again if any insert fails; the run's summary is
 * written after its points by the holder of the run's claim (see
 * #withSummaryClaim). A run query's filter, sort and limit go to the
 * server as one find.
 */
import { randomUUID } from 'node:crypto';
import { type Collection, type Db, type IndexDescription } from 'mongodb';
import { MlmodelError } from '../errors.js';
import { downsample, type Series } from './downsample.js';
import { backoff, type MetadataStore } from '../store/metadata.js';
import { ensureIndexes, isDuplicateKey, toServerFilter } from '../store/mongo.js';
import {
  checkCheckpoint,
  checkPoints,
  checkRun,
  checkRunQuery,
  checkTag,
  byName,
  checkWritable,
  cloneRun,
  groupByKey,
  mergeParams,
  summarize,
  type CheckpointRecord,
  type EndStatus,
  type Experiment,
  type MetricPoint,
  type MetricRange,
  type ParamValue,
  type RunGuard,
  type RunHead,
  type RunQuery,
  type RunRecord,
  type TrackingStore,
} from './store.js';

const WRITE = { writeConcern: { w: 'majority' as const, journal: true } };
/** The claims' scope in the metadata store, and how long a summary claim lives unrenewed (a write holds it for a few round trips). */
const CLAIM_SCOPE = 'tracking';
const SUMMARY_CLAIM_TTL_MS = 15_000;
const SUMMARY_WAIT_MS = 60_000;

const RUN_INDEXES: IndexDescription[] = [
  { key: { uid: 1 }, name: 'uid_unique', unique: true },
  { key: { experiment: 1, id: 1 }, name: 'experiment_id' },
];
const POINT_INDEXES: IndexDescription[] = [
  { key: { run: 1, key: 1, step: 1, _id: 1 }, name: 'run_key_step' },
  { key: { batch: 1 }, name: 'batch' },
];
const CHECKPOINT_INDEXES: IndexDescription[] = [{ key: { run: 1, step: 1 }, name: 'run_step_unique', unique: true }];

interface RunDoc extends RunRecord {
  _id: number;
}
interface PointDoc extends MetricPoint {
  run: number;
  batch: string;
}
type SummaryClaims = Pick<MetadataStore, 'claimName' | 'getClaim' | 'releaseName'>;

interface ExperimentDoc extends Experiment {
  _id: string;
}

export class MongoTrackingStore implements TrackingStore {
  readonly kind = 'mongodb';
  readonly #db: Db;
  readonly #what: string;
  readonly #claims: SummaryClaims;

  /** `claims`: the metadata store of the same database, whose unique claims serialise writers of one run's summary. */
  constructor(db: Db, what: string, claims: SummaryClaims) {
    this.#db = db;
    this.#what = what;
    this.#claims = claims;
  }

  get #runs(): Collection<RunDoc> {
    return this.#db.collection<RunDoc>('tracking_runs');
  }
  get #points(): Collection<PointDoc> {
    return this.#db.collection<PointDoc>('tracking_points');
  }

  async init(): Promise<void> {
    await this.#try('create indexes', async () => {
      await ensureIndexes(this.#runs as unknown as Collection, RUN_INDEXES);
      await ensureIndexes(this.#points as unknown as Collection, POINT_INDEXES);
      await ensureIndexes(this.#db.collection('tracking_checkpoints'), CHECKPOINT_INDEXES);
    });
  }

  /** The client belongs to the metadata store, which closes it. */
  async close(): Promise<void> {}

  async #try<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof MlmodelError) throw e;
      if (isDuplicateKey(e)) throw new MlmodelError('DUPLICATE_KEY', `duplicate key (${what})`, { index: what });
      const name = e instanceof Error ? e.name : '';
      const code = /Network|ServerSelection|Topology|PoolClosed|NotConnected/.test(name) ? 'STORE_UNAVAILABLE' : 'STORE_ERROR';
      // The driver's messages carry no credentials (the URL is not in them); the metadata store's location is already redacted.
      throw new MlmodelError(code, `MongoDB ${this.#what}: ${what}: ${e instanceof Error ? e.message : String(e)}`, { driverError: name });
    }
  }

  async ensureExperiment(name: string, user: string, at: Date): Promise<Experiment> {
    const coll = this.#db.collection<ExperimentDoc>('tracking_experiments');
    return this.#try('experiment', async () => {
      try {
        await coll.insertOne({ _id: name, name, user, created: at }, WRITE);
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
      const doc = await coll.findOne({ _id: name });
      return { name: doc!.name, user: doc!.user, created: doc!.created };
    });
  }

  async listExperiments(): Promise<Experiment[]> {
    const docs = await this.#try('list experiments', () => this.#db.collection<ExperimentDoc>('tracking_experiments').find({}).sort({ _id: 1 }).toArray());
    return docs.map((d) => ({ name: d.name, user: d.user, created: d.created }));
  }

  async insertRun(run: RunRecord): Promise<void> {
    const r = checkRun(run);
    await this.#try('insert run', () => this.#runs.insertOne({ _id: r.id, ...r }, WRITE));
  }

  async getRun(id: number): Promise<RunRecord | null> {
    const doc = await this.#try('get run', () => this.#runs.findOne({ _id: id }));
    return doc ? fromDoc(doc) : null;
  }

  async findRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const q = checkRunQuery(query);
    const docs = await this.#try('find runs', () => {
      let cursor = this.#runs.find(toServerFilter(q.filter) as never).sort(q.sort.map(([f, d]) => [f, d] as [string, 1 | -1]));
      if (q.limit !== null) cursor = cursor.limit(q.limit);
      return q.limit === 0 ? Promise.resolve([]) : cursor.toArray();
    });
    return docs.map(fromDoc);
  }

  /**
   * FerretDB applies a conditional update as read-then-write, so two ends
   * could both match `status: RUNNING`. The end is claimed instead, by
   * inserting the run's id under the unique _id of `tracking_ends`: one
   * insert wins. The run document is updated after; an end whose update was
   * lost (the process died between) is applied by the next end of that run.
   */
  async endRun(id: number, status: EndStatus, end: Date, guard?: RunGuard): Promise<RunRecord | null> {
    const run = await this.getRun(id);
    if (run) guard?.(run);
    if (!run || run.status !== 'RUNNING') return null;
    const ends = this.#db.collection<{ _id: number; status: EndStatus; end: Date }>('tracking_ends');
    let won = true;
    await this.#try('end run', async () => {
      try {
        await ends.insertOne({ _id: id, status, end }, WRITE);
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        won = false;
      }
    });
    const claim = won ? { status, end } : await this.#try('end run', () => ends.findOne({ _id: id }));
    if (claim && run.status === 'RUNNING') {
      await this.#withSummaryClaim(id, () => this.#try('end run', () => this.#runs.updateOne({ _id: id }, { $set: { status: claim.status, end: claim.end } }, WRITE)));
    }
    return won ? { ...run, status, end: new Date(end.getTime()) } : null;
  }

  /**
   * Params and tags stay fields of the run's document here: the server's
   * find filters and sorts on them (`params.lr < 0.01`), and a `$set` of
   * the names logged sends only those, never the document.
   */
  async logParams(id: number, params: Readonly<Record<string, ParamValue>>, tags: Readonly<Record<string, string>>, guard?: RunGuard): Promise<void> {
    for (const [k, v] of Object.entries(tags)) checkTag(k, v);
    const run = checkWritable(id, await this.getRun(id), guard);
    mergeParams(run, params);
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) if (!Object.hasOwn(run.params, k)) set[`params.${k}`] = v;
    for (const [k, v] of Object.entries(tags)) set[`tags.${k}`] = v;
    if (Object.keys(set).length > 0) {
      // Conditional on RUNNING: an end that came meanwhile wins, and this writes nothing.
      const res = await this.#withSummaryClaim(id, () => this.#try('log params', () => this.#runs.updateOne({ _id: id, status: 'RUNNING' }, { $set: set }, WRITE)));
      if (res.matchedCount !== 1) checkWritable(id, await this.getRun(id), guard);
    }
  }

  async logMetrics(id: number, points: readonly MetricPoint[], at: Date, guard?: RunGuard): Promise<RunHead> {
    const checked = checkPoints(points);
    const run = checkWritable(id, await this.getRun(id), guard);
    if (checked.length === 0) return run;
    const batch = randomUUID();
    // Ties at one step come back in the order they were logged: by _id, the driver's ObjectIds, which increase.
    const docs: PointDoc[] = checked.map((p) => ({ ...p, run: id, batch }));
    try {
      await this.#try('log metrics', () => this.#points.insertMany(docs, { ordered: true, ...WRITE }));
    } catch (e) {
      // Nothing half-written: take back whatever part of the batch got in.
      await this.#points.deleteMany({ batch }, WRITE).catch(() => undefined);
      throw e;
    }
    // Every writer of a summary holds the run's claim while it reads and
    // writes it, so concurrent writers to one run cannot leave an older value.
    return this.#withSummaryClaim(id, async () => {
      // Not checked for RUNNING again: the points are in, and their summary follows them.
      const now = (await this.getRun(id)) ?? run;
      const summary = summarize(now, checked, at);
      await this.#try('log metrics', () =>
        this.#runs.updateOne(
          { _id: id },
          { $set: { metrics: summary.metrics, metric_steps: summary.metric_steps, last_step: summary.last_step, last_time: summary.last_time } },
          WRITE,
        ),
      );
      return { ...now, ...summary };
    });
  }

  /**
   * Runs `fn` holding the claim on run `id`'s document (every update of it
   * takes it, so none undoes another's): a name claimed under a
   * unique index (docs/reliability.md), the one primitive that is exclusive
   * on MongoDB and on FerretDB v1 — which applies every update, operators
   * like $max included, as read-then-write of the whole document. A claim
   * its holder left (the process died) is taken over after SUMMARY_CLAIM_TTL_MS.
   */
  async #withSummaryClaim<T>(id: number, fn: () => Promise<T>): Promise<T> {
    const name = `summary:${id}`;
    const owner = randomUUID();
    const started = Date.now();
    for (let attempt = 0; !(await this.#claims.claimName(CLAIM_SCOPE, name, owner)); attempt++) {
      const holder = await this.#claims.getClaim(CLAIM_SCOPE, name);
      if (holder && Date.now() - holder.at.getTime() > SUMMARY_CLAIM_TTL_MS) await this.#claims.releaseName(CLAIM_SCOPE, name, holder.owner);
      else if (Date.now() - started > SUMMARY_WAIT_MS) {
        throw new MlmodelError('CONFLICT', `run ${id}: another writer has held its summary for ${Math.round((Date.now() - started) / 1000)} s`, { run: id });
      } else await backoff(attempt);
    }
    try {
      return await fn();
    } finally {
      await this.#claims.releaseName(CLAIM_SCOPE, name, owner);
    }
  }

  async metricHistory(id: number, key: string): Promise<MetricPoint[]> {
    const docs = await this.#try('metric history', () =>
      this.#points.find({ run: id, key }, { projection: { _id: 0, key: 1, step: 1, value: 1, time: 1 } }).sort([['step', 1], ['_id', 1]]).toArray(),
    );
    return docs.map(toPoint);
  }

  /** FerretDB v1 has no $min/$max accumulators: the history is reduced here, in one pass. */
  async metricSeries(id: number, key: string, max: number): Promise<Series> {
    const points = await this.metricHistory(id, key);
    return downsample({ steps: points.map((p) => p.step), values: points.map((p) => p.value) }, max);
  }

  async runMetrics(id: number): Promise<Map<string, MetricPoint[]>> {
    const docs = await this.#try('run metrics', () =>
      this.#points.find({ run: id }, { projection: { _id: 0, key: 1, step: 1, value: 1, time: 1 } }).sort([['key', 1], ['step', 1], ['_id', 1]]).toArray(),
    );
    return groupByKey(docs, toPoint);
  }

  /**
   * Each key's lowest and highest value by a sorted find of one document
   * each, counted by the server: FerretDB v1 has no $min/$max accumulators in
   * $group, and nothing here loads a history.
   */
  async metricRanges(id: number): Promise<Map<string, MetricRange>> {
    return this.#try('metric ranges', async () => {
      const keys = ((await this.#points.distinct('key', { run: id })) as string[]).sort();
      const out = new Map<string, MetricRange>();
      for (const key of keys) {
        const one = (dir: 1 | -1) => this.#points.find({ run: id, key }, { projection: { _id: 0, value: 1 } }).sort([['value', dir]]).limit(1).next();
        const [lo, hi, count] = await Promise.all([one(1), one(-1), this.#points.countDocuments({ run: id, key })]);
        if (lo && hi) out.set(key, { min: lo.value, max: hi.value, count });
      }
      return out;
    });
  }

  async insertCheckpoint(c: CheckpointRecord): Promise<void> {
    const rec = checkCheckpoint(c);
    await this.#try('checkpoint run/step', () => this.#db.collection('tracking_checkpoints').insertOne({ ...rec }, WRITE));
  }

  async listCheckpoints(run: number): Promise<CheckpointRecord[]> {
    const docs = await this.#try('list checkpoints', () =>
      this.#db.collection<CheckpointRecord>('tracking_checkpoints').find({ run }, { projection: { _id: 0 } }).sort({ step: 1 }).toArray(),
    );
    return docs.map((d) => ({ ...d }));
  }

  async getCheckpoint(run: number, step: number): Promise<CheckpointRecord | null> {
    const doc = await this.#try('get checkpoint', () => this.#db.collection<CheckpointRecord>('tracking_checkpoints').findOne({ run, step }, { projection: { _id: 0 } }));
    return doc ? { ...doc } : null;
  }
}

function toPoint(d: MetricPoint): MetricPoint {
  return { key: d.key, step: d.step, value: d.value, time: d.time };
}

function fromDoc(d: RunDoc): RunRecord {
  const { _id, ...rest } = d;
  void _id;
  // By name, as the SQLite store answers them (its rows' order), whatever order they were logged in.
  return cloneRun({ ...rest, params: byName(rest.params ?? {}), tags: byName(rest.tags ?? {}), metrics: rest.metrics ?? {}, metric_steps: rest.metric_steps ?? {} });
}
