/**
 * Push-down never changes meaning: a list pipeline run the way the engine
 * runs it (leading stages folded into the store query, the rest over the
 * records it returns) gives the same table, or the same error, as a plain
 * evaluation that takes every listed record and applies the stages one by
 * one in memory. Random registries and random pipelines; the same suite
 * runs on every store pair.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Condition, Literal, Query, SortKey, Stage } from '../../grammar/ast.js';
import { parse, print } from '../../src/language.js';
import { loadConfig, type Env } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { listingTable } from '../../src/commands/list.js';
import { col, collectTable, type ResultTable } from '../../src/result/table.js';
import { toStamp } from '../../src/result/dates.js';
import { applyRecordStages } from '../../src/stage/records.js';
import type { MetadataStore, ModelRecord } from '../../src/store/metadata.js';
import { metadataStoreFor } from '../../src/store/open.js';
import { record } from '../store/metadata-conformance.js';

type Outcome = { table: ResultTable } | { error: { code: string; message: string } };

async function outcome(run: () => Promise<ResultTable> | ResultTable): Promise<Outcome> {
  try {
    return { table: await run() };
  } catch (e) {
    if (isMlmodelError(e)) return { error: { code: e.code, message: e.message } };
    throw e;
  }
}

/** The reference: every listed record (latest, live, by id), then each stage in turn, in memory. */
function reference(records: readonly ModelRecord[], query: Query): ResultTable {
  const listed = records.filter((r) => r.latest && r.state === 'ACTIVE').sort((a, b) => a.id - b.id);
  return listingTable(applyRecordStages({ records: listed, view: null }, query.stages));
}

// ---------------------------------------------------------------------------
// Registries: few distinct values, so that filters match some records and sorts tie.

const D0 = Date.UTC(2024, 0, 1);
const H = 3600_000;
/** Code-point order and UTF-16 order disagree on 'x😀' and 'x～' (U+FF5E). */
const TEXTS = ['iris', 'Iris', 'wine', 'a.b', 'a_b', 'm%2', 'naïve', '모델', 'x😀', 'x\uff5e', 'z', 'iris2'];
const TAGS = ['a', 'b', 'prod', 'x😀', 'x\uff5e'];
const NUMBERS = [0, 1, 2, 5, 10, 100, 1000, 55260];
const DATES = [0, 1, 2, 5, 30, 31, 48].map((h) => new Date(D0 + h * H));

const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });
const text = fc.constantFrom(...TEXTS);

const optionsArb: fc.Arbitrary<ModelRecord['options']> = fc
  .record(
    {
      train_cnt: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom('80', '1000')),
      elapsed: fc.constantFrom(...NUMBERS),
      feature: text,
      description: text,
      parameter: fc.record({ epochs: fc.constantFrom(1, 3, 5, 10) }),
    },
    { requiredKeys: [] },
  )
  // fast-check's records have no prototype; stored records come back as plain objects.
  .map((o) => structuredClone(o) as ModelRecord['options']);

const recordArb = (id: number): fc.Arbitrary<ModelRecord> =>
  fc
    .record({
      user: fc.constantFrom('alice', 'bob', 'carol'),
      name: text,
      type: fc.constantFrom('tf', 'sklearn', 'onnx', 'TF'),
      category: nullable(fc.constantFrom('classification', 'regression', 'Clustering')),
      algorithm: nullable(text),
      format: nullable(fc.constantFrom('saved_model', 'h5', 'onnx')),
      filename: nullable(text),
      serving: fc.constantFrom('on' as const, 'off' as const),
      serving_name: nullable(text),
      state: fc.constantFrom('ACTIVE' as const, 'ACTIVE' as const, 'ACTIVE' as const, 'DELETING' as const),
      latest: fc.constantFrom(true, true, true, false),
      create: fc.constantFrom(...DATES),
      modified: fc.constantFrom(...DATES),
      size: fc.constantFrom(...NUMBERS),
      tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
      options: optionsArb,
    })
    .map((over) => record({ id, ...over, version: id, uid: randomUUID() })); // (user, name, version) is unique

/** 0 to 24 records with ids 1..n in a shuffled insertion order. */
const registryArb: fc.Arbitrary<ModelRecord[]> = fc
  .integer({ min: 0, max: 24 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => recordArb(i + 1))))
  .chain((rs) => fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }));

// ---------------------------------------------------------------------------
// Pipelines: where (and/or/not, comparisons, like, in) on numeric, text, date
// and tag fields; sort with several keys; head; fields.

const NUMERIC = ['id', 'size', 'version', 'train_cnt', 'elapsed', 'parameter.epochs', 'options.train_cnt'];
const TEXTUAL = ['name', 'user', 'type', 'category', 'algorithm', 'format', 'filename', 'serving', 'serving_name', 'feature', 'description', 'sha256'];
const TIMES = ['create', 'modified', 'cdate', 'mdate'];
const ALL = [...NUMERIC, ...TEXTUAL, ...TIMES, 'tags', 'parameter'];

const op = fc.constantFrom('=' as const, '!=' as const, '>' as const, '>=' as const, '<' as const, '<=' as const);
const num = (n: number): Literal => ({ kind: 'number', value: n });
const str = (s: string): Literal => ({ kind: 'string', value: s });
const stampDigits = (d: Date, digits: number) => Number(String(toStamp(d)).slice(0, digits));
const timeLiteral: fc.Arbitrary<Literal> = fc.oneof(
  fc.tuple(fc.constantFrom(...DATES), fc.constantFrom(8, 10, 12, 14)).map(([d, n]) => num(stampDigits(d, n))),
  fc.constantFrom(...DATES).map((d) => {
    const p = (x: number) => String(x).padStart(2, '0');
    return str(`${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`);
  }),
);
const PATTERNS = ['%', 'i%', '%s', '_ris', 'x_', '%.%', 'a\\_b', 'm\\%2', '%😀', 'I%', '%a%'];

const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ kind: fc.constant('compare' as const), field: fc.constantFrom(...NUMERIC), op, value: fc.oneof(fc.constantFrom(...NUMBERS, 3).map(num), fc.constant(str('80'))) }),
  fc.record({ kind: fc.constant('compare' as const), field: fc.constantFrom(...TEXTUAL, 'tags'), op, value: fc.constantFrom(...TEXTS, ...TAGS).map(str) }),
  fc.record({ kind: fc.constant('compare' as const), field: fc.constantFrom(...TIMES), op, value: timeLiteral }),
  fc.record({ kind: fc.constant('like' as const), field: fc.constantFrom(...TEXTUAL, 'tags'), pattern: fc.constantFrom(...PATTERNS) }),
  fc.record({ kind: fc.constant('in' as const), field: fc.constantFrom(...TEXTUAL, 'tags'), values: fc.array(fc.constantFrom(...TEXTS, ...TAGS).map(str), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('in' as const), field: fc.constantFrom(...NUMERIC), values: fc.array(fc.constantFrom(...NUMBERS).map(num), { minLength: 1, maxLength: 3 }) }),
);

const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ kind: fc.constant('and' as const), operands: fc.array(tie('c'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('or' as const), operands: fc.array(tie('c'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('not' as const), operand: tie('c') }),
  ),
})).c;

const sortKey: fc.Arbitrary<SortKey> = fc.record({ field: fc.constantFrom(...ALL), direction: fc.constantFrom('asc' as const, 'desc' as const) });

const stage: fc.Arbitrary<Stage> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('where' as const), condition }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('sort' as const), keys: fc.uniqueArray(sortKey, { minLength: 1, maxLength: 3, selector: (k) => k.field }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('head' as const), count: fc.integer({ min: 0, max: 12 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('fields' as const), fields: fc.uniqueArray(fc.constantFrom(...ALL), { minLength: 1, maxLength: 4 }) }), weight: 1 },
);

const pipeline: fc.Arbitrary<Query> = fc
  .array(stage, { maxLength: 5 })
  .map((stages) => ({ kind: 'query', command: { kind: 'list' }, stages }));

/** Property runs (MLMODEL_PUSHDOWN_RUNS overrides); each loads a registry and tries PIPELINES_PER_RUN pipelines on it. */
const RUNS_OVERRIDE = process.env.MLMODEL_PUSHDOWN_RUNS === undefined ? null : Number(process.env.MLMODEL_PUSHDOWN_RUNS);
const PIPELINES_PER_RUN = 25;

export interface PushdownBackend {
  /** Environment selecting the store pair (an empty registry). */
  env: Env;
}

export interface PushdownOptions {
  /** Property runs in `npm test`. */
  runs: number;
}

export function pushdownSuite(setup: () => Promise<PushdownBackend>, options: PushdownOptions): void {
  const RUNS = RUNS_OVERRIDE ?? options.runs;
  let reg: Registry;
  let meta: MetadataStore;

  beforeAll(async () => {
    const config = loadConfig((await setup()).env);
    reg = await openRegistry({ config });
    meta = await metadataStoreFor(config);
    await meta.init();
  });

  afterAll(async () => {
    await meta?.close();
    await reg?.close();
  });

  const load = async (records: readonly ModelRecord[]) => {
    await meta.deleteModels({});
    for (const r of records) await meta.insertModel(r);
  };

  const same = async (records: readonly ModelRecord[], query: Query) => {
    const planned = await outcome(() => reg.execute(query));
    const expected = await outcome(() => reference(records, query));
    // The streamed list (read a page at a time, the rest's stages over the pages) gives the same table or error.
    const streamed = await outcome(async () => collectTable(await reg.executeStreamed(query)));
    if (!isDeepStrictEqual(streamed, planned)) {
      return { planned: streamed, expected: planned, same: false };
    }
    return { planned, expected, same: isDeepStrictEqual(planned, expected) };
  };

  it("gives every stage after `mlmodel list` the model's fields, whatever stands before it", async () => {
    const rs = [
      record({ id: 1, name: 'b', size: 5, tags: ['a'], options: { train_cnt: 2000 } }),
      record({ id: 2, name: 'a', size: 1, tags: [], options: { train_cnt: 10 } }),
      record({ id: 3, name: 'c', size: 5, tags: ['a', 'b'] }),
      record({ id: 4, name: 'd', size: 0, tags: ['b'], latest: false }),
    ];
    await load(rs);
    const names = async (q: string) => (await reg.run(q)).rows.map((r) => r[2]);
    expect(await names('mlmodel list | head 5 | where size > 1')).toEqual(['b', 'c']);
    expect(await names('mlmodel list | head 3 | where tags = a')).toEqual(['b', 'c']);
    // A sort orders completely (ties by id, in the direction of its last key), so the last one decides.
    expect(await names('mlmodel list | sort name | sort size')).toEqual(['a', 'b', 'c']);
    expect(await names('mlmodel list | sort name | sort -size')).toEqual(['c', 'b', 'a']);
    expect(await names('mlmodel list | head 2 | sort -size, name')).toEqual(['b', 'a']);
    expect(await reg.run('mlmodel list | where train_cnt > 1000 | fields name, train_cnt')).toEqual({
      columns: [col('name', 'TEXT'), col('train_cnt', 'JSON')],
      rows: [['b', 2000]],
    });
    expect(await reg.run('mlmodel list | head 9 | fields name, tags, size | where size >= 1 | sort -name')).toEqual({
      columns: [col('name', 'TEXT'), col('tags', 'JSON'), col('size', 'LONG')],
      rows: [['c', ['a', 'b'], 5], ['b', ['a'], 5], ['a', [], 1]],
    });
    // `fields` is the one stage that narrows what later stages may name.
    await expect(reg.run('mlmodel list | fields name | where size > 1')).rejects.toThrow('unknown field "size"; valid fields: name');
    await expect(reg.run('mlmodel list | head 1 | fields name | sort size')).rejects.toThrow('unknown field "size"; valid fields: name');
  });

  it('runs random pipelines pushed down and in memory to the same table or the same error', async () => {
    let pipelines = 0;
    let tables = 0;
    let rows = 0;
    let mismatches = 0;
    await fc.assert(
      fc.asyncProperty(registryArb, fc.array(pipeline, { minLength: PIPELINES_PER_RUN, maxLength: PIPELINES_PER_RUN }), async (records, queries) => {
        await load(records);
        for (const query of queries) {
          pipelines++;
          const r = await same(records, query);
          if (!r.same) {
            mismatches++;
            throw new Error(`${print(query)}\n  pushed down: ${JSON.stringify(r.planned)}\n  in memory:   ${JSON.stringify(r.expected)}`);
          }
          if ('table' in r.planned) {
            tables++;
            rows += r.planned.table.rows.length;
          }
        }
        return true;
      }),
      { numRuns: RUNS },
    );
    if (mismatches > 0) console.log(`push-down property: ${mismatches} mismatching pipelines met while shrinking`);
    console.log(`push-down property: ${RUNS} registries, ${pipelines} pipelines, ${tables} tables (${rows} rows) and ${pipelines - tables} errors, all the same both ways`);
    expect(tables).toBeGreaterThan(pipelines / 2);
  }, 600_000);

  it('reads back the printed pipeline as the same query (the property tests what a person can type)', () => {
    fc.assert(
      fc.property(pipeline, (q) => {
        expect(parse(print(q))).toEqual(q);
      }),
      { numRuns: 200 },
    );
  });
}

