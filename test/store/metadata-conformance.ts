/**
 * The metadata conformance suite: run unchanged against every metadata
 * backend (SQLite with and without SQL push-down, MongoDB/FerretDB). Every
 * expectation below is written out by hand from the fixture, not computed by
 * one of the backends, so each backend is checked against the spec.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMlmodelError, type ErrorCode } from '../../src/errors.js';
import { F, type FilterDoc, type ModelQuery } from '../../src/store/filter.js';
import type { MetadataStore, ModelRecord } from '../../src/store/metadata.js';

export interface MetadataHarness {
  /** A store over a fresh, empty database; init() already called. */
  open(): Promise<MetadataStore>;
  /** A second, independent connection to the database `store` uses. */
  reopen(store: MetadataStore): Promise<MetadataStore>;
}

const D0 = Date.UTC(2024, 0, 1);
const H = 3600_000;

export function record(over: Partial<ModelRecord> & { id: number }): ModelRecord {
  const uid = over.uid ?? randomUUID();
  return {
    uid,
    model_uid: over.model_uid ?? randomUUID(),
    user: 'alice',
    name: `m${over.id}`,
    version: 1,
    type: 'tf',
    category: null,
    algorithm: null,
    format: null,
    filename: null,
    serving: 'off',
    serving_name: null,
    state: 'ACTIVE',
    latest: true,
    create: new Date(D0),
    modified: new Date(D0),
    imported: new Date(D0),
    size: 0,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    object_key: `models/${uid}/archive`,
    tags: [],
    options: {},
    ...over,
  };
}

/** The fixture the filter cases are written against (see the case table). */
export function fixture(): ModelRecord[] {
  const m = (h: number) => new Date(D0 + h * H);
  return [
    record({ id: 1, user: 'alice', name: 'iris', version: 1, type: 'tf', category: 'classification', algorithm: 'cnn', latest: false, modified: m(1), size: 100, tags: ['prod', 'vision'], options: { train_cnt: 100, feature: { dim: 4 } } }),
    record({ id: 2, user: 'alice', name: 'iris', version: 2, type: 'tf', category: 'classification', algorithm: 'cnn', serving: 'on', modified: m(5), size: 200, tags: ['prod'], options: { train_cnt: 150, label: 'species' } }),
    record({ id: 3, user: 'alice', name: 'wine', type: 'sklearn', category: 'regression', algorithm: 'linear', modified: m(3), size: 50, options: { train_cnt: '80', feature: { dim: 13 } } }),
    record({ id: 4, user: 'bob', name: 'digits', type: 'tf', category: 'classification', algorithm: null, serving: 'on', modified: m(5), size: 300, tags: ['vision'], options: { train_cnt: 1000 } }),
    record({ id: 5, user: 'bob', name: 'churn_v2', type: 'onnx', category: null, algorithm: 'xgboost', state: 'DELETING', modified: m(2), size: 75, tags: ['beta'] }),
    record({ id: 6, user: 'bob', name: 'churn%2', type: 'r', category: 'classification', algorithm: 'glm', modified: m(4), size: 60, options: { train_cnt: 20, description: 'line1\nline2' } }),
    record({ id: 7, user: 'carol', name: 'a.b', type: 'spark', category: 'clustering', algorithm: 'kmeans\n', modified: m(6), size: 0, options: { feature: { dim: 2 } } }),
    record({ id: 8, user: 'carol', name: 'A.B', type: 'tf', category: 'classification', algorithm: 'CNN', modified: m(0), size: 500 }),
    record({ id: 9, user: 'carol', name: 'naïve😀', type: 'sklearn', category: 'classification', algorithm: 'nb', modified: m(7), size: 10, tags: ['prod'], options: { train_cnt: 5 } }),
    record({ id: 10, user: 'dave', name: 'iris', type: 'tf', category: null, algorithm: 'cnn', modified: m(8), size: 120, options: { train_cnt: 100 } }),
  ];
}

/** [title, query, expected ids in order]. Unsorted queries come back by id. */
export const FILTER_CASES: Array<[string, ModelQuery, number[]]> = [
  ['empty filter', {}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
  ['eq', { filter: F.eq('type', 'tf') }, [1, 2, 4, 8, 10]],
  ['eq as a bare value', { filter: { type: 'tf' } }, [1, 2, 4, 8, 10]],
  ['ne', { filter: F.ne('type', 'tf') }, [3, 5, 6, 7, 9]],
  ['eq null matches null', { filter: F.eq('category', null) }, [5, 10]],
  ['ne null', { filter: F.ne('category', null) }, [1, 2, 3, 4, 6, 7, 8, 9]],
  ['ne includes nulls', { filter: F.ne('category', 'classification') }, [3, 5, 7, 10]],
  ['in with null', { filter: F.in('algorithm', ['cnn', null]) }, [1, 2, 4, 10]],
  ['in, empty list', { filter: F.in('user', []) }, []],
  ['gt number', { filter: F.gt('size', 100) }, [2, 4, 8, 10]],
  ['gte and lt on one field', { filter: { size: { $gte: 100, $lt: 300 } } }, [1, 2, 10]],
  ['lte date', { filter: F.lte('modified', new Date(D0 + 3 * H)) }, [1, 3, 5, 8]],
  ['gt string (byte order)', { filter: F.gt('name', 'iris') }, [3, 9]],
  ['boolean eq', { filter: F.eq('latest', false) }, [1]],
  ['like exact', { filter: F.like('name', 'iris') }, [1, 2, 10]],
  ['like is case-sensitive', { filter: F.like('name', 'IRIS') }, []],
  ['like: regex characters are literal', { filter: F.like('name', 'a.b') }, [7]],
  ['like: _ is one character', { filter: F.like('name', 'a_b') }, [7]],
  ['like: escaped % is literal', { filter: F.like('name', 'churn\\%2') }, [6]],
  ['like: % is any run', { filter: F.like('name', 'churn%2') }, [5, 6]],
  ['like: _ is exactly one', { filter: F.like('name', 'churn_2') }, [6]],
  ['like: _ is one code point', { filter: F.like('name', 'na_ve_') }, [9]],
  ['like %', { filter: F.like('name', '%') }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
  ['like: % spans newlines', { filter: F.like('options.description', 'line1%') }, [6]],
  ['like is anchored at the very end (no match before a final newline)', { filter: F.like('algorithm', 'kmeans') }, []],
  ['like: _ matches a newline', { filter: F.like('algorithm', 'kmeans_') }, [7]],
  ['not like', { filter: F.not(F.like('name', '%i%')) }, [5, 6, 7, 8, 9]],
  ['or', { filter: F.or(F.eq('type', 'onnx'), F.lt('size', 20)) }, [5, 7, 9]],
  ['not eq includes nulls', { filter: F.not(F.eq('category', 'classification')) }, [3, 5, 7, 10]],
  ['not (or)', { filter: F.not(F.or(F.eq('type', 'tf'), F.eq('category', null))) }, [3, 6, 7, 9]],
  ['not gt includes equal', { filter: F.not(F.gt('size', 100)) }, [1, 3, 5, 6, 7, 9]],
  ['not eq: nulls and other case', { filter: F.not(F.eq('algorithm', 'cnn')) }, [3, 4, 5, 6, 7, 8, 9]],
  ['not in with null', { filter: F.not(F.in('algorithm', ['cnn', null])) }, [3, 5, 6, 7, 8, 9]],
  ['not not', { filter: F.not(F.not(F.eq('user', 'bob'))) }, [4, 5, 6]],
  ['and of or', { filter: F.and(F.eq('user', 'alice'), F.or(F.eq('name', 'wine'), F.eq('version', 2))) }, [2, 3]],
  ['or of not', { filter: F.or(F.not(F.eq('type', 'tf')), F.eq('size', 500)) }, [3, 5, 6, 7, 8, 9]],
  ['nested: numbers only (type bracketing)', { filter: F.gt('options.train_cnt', 90) }, [1, 2, 4, 10]],
  ['nested: string eq', { filter: F.eq('options.train_cnt', '80') }, [3]],
  ['nested two levels', { filter: F.gte('options.feature.dim', 4) }, [1, 3]],
  ['nested: missing is null', { filter: F.eq('options.feature.dim', null) }, [2, 4, 5, 6, 8, 9, 10]],
  ['nested: not', { filter: F.not(F.lt('options.train_cnt', 100)) }, [1, 2, 3, 4, 5, 7, 8, 10]],
  ['array contains', { filter: F.eq('tags', 'prod') }, [1, 2, 9]],
  ['array in', { filter: F.in('tags', ['beta', 'vision']) }, [1, 4, 5]],
  ['array not contains', { filter: F.not(F.eq('tags', 'prod')) }, [3, 4, 5, 6, 7, 8, 10]],
  ['column and nested mixed', { filter: F.and(F.eq('type', 'tf'), F.gte('options.train_cnt', 100)) }, [1, 2, 4, 10]],
  ['or across column and nested', { filter: F.or(F.eq('user', 'carol'), F.eq('options.label', 'species')) }, [2, 7, 8, 9]],
  [
    'the list query: where type = tf and category = classification | sort -modified | head 20',
    { filter: F.and(F.eq('latest', true), F.eq('type', 'tf'), F.eq('category', 'classification')), sort: [['modified', -1]], limit: 20 },
    [4, 2, 8],
  ],
  ['sort by name (byte order; ties by id)', { sort: [['name', 1]] }, [8, 7, 6, 5, 4, 1, 2, 10, 9, 3]],
  ['sort nulls first, then second key desc', { sort: [['category', 1], ['size', -1]] }, [10, 5, 8, 4, 2, 1, 6, 9, 7, 3]],
  ['sort desc puts nulls last', { sort: [['algorithm', -1]] }, [5, 9, 3, 7, 6, 10, 2, 1, 8, 4]],
  ['sort by a nested field, mixed types, limit', { sort: [['options.train_cnt', -1]], limit: 4 }, [3, 4, 2, 10]],
  ['sort by a nested field ascending: missing first', { sort: [['options.train_cnt', 1]], limit: 5 }, [5, 7, 8, 9, 6]],
  ['filter on a nested field, sort on a column', { filter: F.gte('options.train_cnt', 20), sort: [['size', -1]], limit: 3 }, [4, 2, 10]],
  ['filter on a column, sort on a nested field', { filter: F.eq('type', 'tf'), sort: [['options.train_cnt', 1]] }, [8, 1, 10, 2, 4]],
  ['limit 0', { limit: 0 }, []],
  ['limit', { sort: [['size', -1]], limit: 3 }, [8, 4, 2]],
  ['sort by date desc, tie-break by id in the same direction', { filter: F.eq('serving', 'on'), sort: [['modified', -1]] }, [4, 2]],
  ['explicit id sort', { filter: F.eq('type', 'tf'), sort: [['id', -1]] }, [10, 8, 4, 2, 1]],
];

/** Filters no backend may accept: the allow-list at work. */
export const REJECTED_FILTERS: Array<[string, unknown]> = [
  ['$where', { $where: 'this.size > 1' }],
  ['$expr', { $expr: { $gt: ['$size', 1] } }],
  ['$function', { name: { $function: { body: 'return true', args: [], lang: 'js' } } }],
  ['a raw regex', { name: { $regex: 'a.*' } }],
  ['an unanchored regex', { name: { $regex: 'iris' } }],
  ['a regex with options', { name: { $regex: '^iris$', $options: 'i' } }],
  ['a RegExp value', { name: /iris/ }],
  ['__proto__ key', JSON.parse('{"__proto__": {"polluted": 1}}')],
  ['__proto__ in a nested path', { 'options.__proto__.x': 1 }],
  ['constructor in a nested path', { 'options.constructor': 1 }],
  ['$ in a nested path', { 'options.$x': 1 }],
  ['an unknown field', { password: 'x' }],
  ['a wrong value type', { version: 'abc' }],
  ['an object value', { name: { first: 'x' } }],
  ['an empty condition', { name: {} }],
  ['an unknown operator', { size: { $mod: [2, 0] } }],
  ['$not at field level', { size: { $not: { $gt: 1 } } }],
  ['an empty $and', { $and: [] }],
  ['like on a number', { size: { $regex: '^1$' } }],
  ['a NaN', { size: NaN }],
  ['null in a range', { size: { $gt: null } }],
];

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected MlmodelError ${code}`).not.toBeNull();
  if (!isMlmodelError(err, code)) throw err;
  return err;
}

export function metadataConformance(h: MetadataHarness): void {
  describe('records', () => {
    let store: MetadataStore;
    beforeAll(async () => {
      store = await h.open();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('insert, get, update, delete', async () => {
      const rec = record({ id: 1, name: 'crud', imported: new Date(D0 + 7_000), category: 'classification', tags: ['a'], options: { feature: ['x', 'y'], n: 1.5, nested: { ok: true, none: null } } });
      await store.insertModel(rec);
      expect(await store.getModel(rec.uid)).toEqual(rec);
      expect(await store.getModel('no-such-uid')).toBeNull();

      const later = new Date(D0 + 42_123);
      const updated = await store.updateModel(rec.uid, { serving: 'on', serving_name: 'alice_crud', modified: later, options: { a: 1 } });
      expect(updated).toEqual({ ...rec, serving: 'on', serving_name: 'alice_crud', modified: later, options: { a: 1 } });
      expect(await store.getModel(rec.uid)).toEqual(updated);

      // A conditional update that does not match changes nothing.
      expect(await store.updateModel(rec.uid, { serving: 'off' }, F.eq('serving', 'off'))).toBeNull();
      expect((await store.getModel(rec.uid))?.serving).toBe('on');
      expect((await store.updateModel(rec.uid, { serving: 'off' }, F.eq('serving', 'on')))?.serving).toBe('off');
      expect(await store.updateModel('no-such-uid', { serving: 'off' })).toBeNull();

      expect(await store.deleteModel(rec.uid)).toBe(true);
      expect(await store.deleteModel(rec.uid)).toBe(false);
      expect(await store.getModel(rec.uid)).toBeNull();
    });

    it('returns copies: changing a returned record changes nothing stored', async () => {
      const rec = record({ id: 2, name: 'copies', tags: ['t'] });
      await store.insertModel(rec);
      const got = (await store.getModel(rec.uid))!;
      got.tags.push('x');
      got.create.setTime(0);
      rec.tags.push('y');
      expect((await store.getModel(rec.uid))!.tags).toEqual(['t']);
      expect((await store.getModel(rec.uid))!.create.getTime()).toBe(D0);
    });

    it('refuses invalid records and updates of identity fields', async () => {
      await expectCode(store.insertModel({ ...record({ id: 3 }), version: 0 }), 'INVALID_ARGUMENT');
      await expectCode(store.insertModel({ ...record({ id: 3 }), modified: new Date(NaN) }), 'INVALID_ARGUMENT');
      await expectCode(store.insertModel({ ...record({ id: 3 }), options: { $set: 1 } }), 'INVALID_ARGUMENT');
      await expectCode(store.insertModel({ ...record({ id: 3 }), options: { 'a.b': 1 } }), 'INVALID_ARGUMENT');
      await expectCode(store.insertModel({ ...record({ id: 3 }), extra: 1 } as unknown as ModelRecord), 'INVALID_ARGUMENT');
      const rec = record({ id: 3, name: 'identity' });
      await store.insertModel(rec);
      await expectCode(store.updateModel(rec.uid, { id: 99 } as never), 'INVALID_ARGUMENT');
      await expectCode(store.updateModel(rec.uid, { version: 9 } as never), 'INVALID_ARGUMENT');
      await expectCode(store.updateModel(rec.uid, { uid: 'x' } as never), 'INVALID_ARGUMENT');
      await expectCode(store.updateModel(rec.uid, { imported: new Date(D0) } as never), 'INVALID_ARGUMENT');
      await expectCode(store.updateModel(rec.uid, {}), 'INVALID_ARGUMENT');
    });

    it('(user, name, version), uid and id are unique', async () => {
      const a = record({ id: 10, user: 'u', name: 'same', version: 1 });
      await store.insertModel(a);
      const e1 = (await expectCode(store.insertModel(record({ id: 11, user: 'u', name: 'same', version: 1 })), 'DUPLICATE_KEY')) as {
        details: { index: string };
      };
      expect(e1.details.index).toBe('user_name_version');
      const e2 = (await expectCode(store.insertModel(record({ id: 12, uid: a.uid, name: 'other' })), 'DUPLICATE_KEY')) as {
        details: { index: string };
      };
      expect(e2.details.index).toBe('uid');
      const e3 = (await expectCode(store.insertModel(record({ id: 10, name: 'third' })), 'DUPLICATE_KEY')) as {
        details: { index: string };
      };
      expect(e3.details.index).toBe('id');
      // Another version, or the same name for another user, is fine.
      await store.insertModel(record({ id: 13, user: 'u', name: 'same', version: 2 }));
      await store.insertModel(record({ id: 14, user: 'v', name: 'same', version: 1 }));
      expect((await store.findModels({ filter: F.eq('name', 'same') })).map((r) => r.id)).toEqual([10, 13, 14]);
      // A rename onto a taken (user, name, version) is refused too.
      await expectCode(store.updateModel(a.uid, { user: 'v' }), 'DUPLICATE_KEY');
      expect((await store.getModel(a.uid))!.user).toBe('u');
    });

    it('updateModels, deleteModels, countModels take filters', async () => {
      const m = randomUUID();
      for (let v = 1; v <= 3; v++) await store.insertModel(record({ id: 100 + v, model_uid: m, name: 'bulk', version: v, size: v }));
      expect(await store.countModels(F.eq('model_uid', m))).toBe(3);
      expect(await store.countModels(F.and(F.eq('model_uid', m), F.gte('options.x', 0)))).toBe(0);
      expect(await store.updateModels(F.and(F.eq('model_uid', m), F.lt('version', 3)), { latest: false })).toBe(2);
      expect((await store.findModels({ filter: F.eq('model_uid', m) })).map((r) => r.latest)).toEqual([false, false, true]);
      expect(await store.updateModels(F.eq('model_uid', m), { name: 'bulk2' })).toBe(3);
      expect(await store.countModels(F.eq('name', 'bulk2'))).toBe(3);
      expect(await store.deleteModels(F.and(F.eq('model_uid', m), F.gt('size', 1)))).toBe(2);
      expect(await store.countModels(F.eq('model_uid', m))).toBe(1);
    });
  });

  describe('claims', () => {
    let store: MetadataStore;
    let other: MetadataStore;
    beforeAll(async () => {
      store = await h.open();
      other = await h.reopen(store);
    });
    afterAll(async () => {
      await other?.close();
      await store?.close();
    });

    it('model ids are sequential: 1, 2, 3 …', async () => {
      expect(await store.lastClaimed('model-id')).toBe(0);
      expect(await store.claimNext('model-id', 'a')).toBe(1);
      expect(await store.claimNext('model-id', 'b')).toBe(2);
      expect(await other.claimNext('model-id', 'c')).toBe(3);
      expect(await store.lastClaimed('model-id')).toBe(3);
      expect(await store.claimOwner('model-id', 2)).toBe('b');
      expect(await store.claimOwner('model-id', 4)).toBeNull();
      // Sequences are independent.
      expect(await store.claimNext('version:x', 'a')).toBe(1);
      expect(await store.claimNext('model-id', 'd')).toBe(4);
    });

    it('32 concurrent claimers of the next version get 1..32, no gap, no repeat', async () => {
      const model = randomUUID();
      const seq = `version:${model}`;
      const owners = Array.from({ length: 32 }, (_, i) => `writer-${i}`);
      // Half the writers on each of two connections, all at once; each then
      // writes its version's record, as an import does.
      const got = await Promise.all(
        owners.map(async (owner, i) => {
          const s = i % 2 === 0 ? store : other;
          const version = await s.claimNext(seq, owner);
          const id = await s.claimNext('model-id:concurrent', owner);
          await s.insertModel(record({ id: 1000 + id, model_uid: model, user: 'race', name: 'race', version }));
          return { owner, version };
        }),
      );
      const versions = got.map((g) => g.version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
      for (const g of got) expect(await store.claimOwner(seq, g.version)).toBe(g.owner);
      expect(await store.lastClaimed(seq)).toBe(32);
      const recs = await store.findModels({ filter: F.eq('model_uid', model), sort: [['version', 1]] });
      expect(recs.map((r) => r.version)).toEqual(versions);
      // After the race the sequence carries on from 32.
      expect(await other.claimNext(seq, 'late')).toBe(33);
    });

    it('a name is claimed by exactly one of 32 concurrent claimers', async () => {
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) => (i % 2 ? store : other).claimName('model-name', 'alice/iris', `owner-${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = `owner-${results.indexOf(true)}`;
      const claim = await store.getClaim('model-name', 'alice/iris');
      expect(claim?.owner).toBe(winner);
      expect(claim?.at).toBeInstanceOf(Date);
      // Only the holder releases; then the name is free again.
      expect(await store.releaseName('model-name', 'alice/iris', 'someone-else')).toBe(false);
      expect(await other.claimName('model-name', 'alice/iris', 'late')).toBe(false);
      expect(await store.releaseName('model-name', 'alice/iris', winner)).toBe(true);
      expect(await store.getClaim('model-name', 'alice/iris')).toBeNull();
      expect(await other.claimName('model-name', 'alice/iris', 'late')).toBe(true);
      // Scopes are independent; listClaims lists one scope by name.
      expect(await store.claimName('alias', 'alice/iris', 'x')).toBe(true);
      expect(await store.claimName('alias', 'alice/a', 'y')).toBe(true);
      expect((await store.listClaims('alias')).map((c) => [c.name, c.owner])).toEqual([
        ['alice/a', 'y'],
        ['alice/iris', 'x'],
      ]);
    });

    it('a claim is renewed only by its holder, and a renewal after a takeover fails', async () => {
      expect(await store.claimName('lease', 'upload:u1', 'importer')).toBe(true);
      const first = (await store.getClaim('lease', 'upload:u1'))!.at.getTime();
      await new Promise((r) => setTimeout(r, 15));
      expect(await other.renewClaim('lease', 'upload:u1', 'someone-else')).toBe(false);
      expect((await store.getClaim('lease', 'upload:u1'))!.at.getTime()).toBe(first);
      expect(await other.renewClaim('lease', 'upload:u1', 'importer')).toBe(true);
      expect((await store.getClaim('lease', 'upload:u1'))!.at.getTime()).toBeGreaterThan(first);
      // Taken over (released, claimed by another): the old holder's renewal says so.
      expect(await store.releaseName('lease', 'upload:u1', 'importer')).toBe(true);
      expect(await other.claimName('lease', 'upload:u1', 'fsck')).toBe(true);
      expect(await store.renewClaim('lease', 'upload:u1', 'importer')).toBe(false);
      expect((await store.getClaim('lease', 'upload:u1'))!.owner).toBe('fsck');
      expect(await store.renewClaim('lease', 'never-claimed', 'x')).toBe(false);
    });

    it('lease writes without a flush of their own (durable: false) are claims all the same, and a group still decides them (embedded)', async () => {
      const lease = { durable: false } as const;
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) => (i % 2 ? store : other).claimName('lease', 'upload:u2', `owner-${i}`, lease)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = `owner-${results.indexOf(true)}`;
      // Seen at once from the other connection, refused to others, renewed and released by its holder only.
      expect((await other.getClaim('lease', 'upload:u2'))?.owner).toBe(winner);
      expect(await store.renewClaim('lease', 'upload:u2', 'someone-else', lease)).toBe(false);
      expect(await other.renewClaim('lease', 'upload:u2', winner, lease)).toBe(true);
      expect(await store.releaseName('lease', 'upload:u2', 'someone-else', lease)).toBe(false);
      expect(await store.releaseName('lease', 'upload:u2', winner, lease)).toBe(true);
      expect(await other.getClaim('lease', 'upload:u2')).toBeNull();
      // On the embedded store a group is one transaction: one that fails undoes a lease write
      // with its other writes. (On MongoDB a group is plain calls, so there is nothing to undo.)
      if (store.kind === 'sqlite') {
        await expect(
          store.group(async () => {
            expect(await store.claimName('lease', 'upload:u3', 'in-group', lease)).toBe(true);
            throw new Error('the group fails');
          }),
        ).rejects.toThrow('the group fails');
        expect(await other.getClaim('lease', 'upload:u3')).toBeNull();
      }
      // Durable writes after them commit as before.
      expect(await store.claimName('model-name', 'alice/after-leases', 'x')).toBe(true);
      expect((await other.getClaim('model-name', 'alice/after-leases'))?.owner).toBe('x');
    });
  });

  describe("MongoDB's order where engines differ: code points, lists, no value", () => {
    // Written out by hand: code-point order puts 'x～' (U+FF5E) before 'x😀'
    // (U+1F600), which UTF-16 order (mingo, JavaScript's <) reverses; a list
    // sorts by its smallest element ascending and its largest descending, an
    // empty list before no value; null and a missing field tie (then by id).
    let store: MetadataStore;
    const cases: Array<[string, ModelQuery, number[]]> = [
      ['text column by code point', { sort: [['name', 1]] }, [4, 3, 2, 1]],
      ['nested text by code point, no value first (null and missing tie)', { sort: [['options.note', 1]] }, [3, 4, 1, 2]],
      ['nested text descending, no value last', { sort: [['options.note', -1]] }, [2, 1, 4, 3]],
      ['a list by its smallest element, the empty list first', { sort: [['tags', 1]] }, [2, 4, 1, 3]],
      ['a list by its largest element descending, the empty list last', { sort: [['tags', -1]] }, [1, 4, 3, 2]],
      ['text column compared by code point', { filter: F.gt('name', 'x\uff5e') }, [1]],
      ['nested text compared by code point', { filter: F.gt('options.note', 'x\uff5e') }, [2]],
      ['a list compares by any element', { filter: F.gt('tags', 'b') }, [1, 3, 4]],
      ['the empty list is neither null nor a value', { filter: F.eq('tags', null) }, []],
    ];
    beforeAll(async () => {
      store = await h.open();
      await store.insertModel(record({ id: 1, name: 'x😀', tags: ['b', 'z'], options: { note: 'x\uff5e' } }));
      await store.insertModel(record({ id: 2, name: 'x\uff5e', tags: [], options: { note: 'x😀' } }));
      await store.insertModel(record({ id: 3, name: 'xa', tags: ['c'], options: {} }));
      await store.insertModel(record({ id: 4, name: 'x', tags: ['c', 'a'], options: { note: null } }));
    });
    afterAll(async () => {
      await store?.close();
    });
    for (const [title, query, expected] of cases) {
      it(title, async () => {
        expect((await store.findModels(query)).map((r) => r.id)).toEqual(expected);
      });
    }
  });

  describe('filter, sort, limit', () => {
    let store: MetadataStore;
    const data = fixture();
    beforeAll(async () => {
      store = await h.open();
      for (const r of data) await store.insertModel(r);
    });
    afterAll(async () => {
      await store?.close();
    });

    for (const [title, query, expected] of FILTER_CASES) {
      it(title, async () => {
        const got = await store.findModels(query);
        expect(got.map((r) => r.id)).toEqual(expected);
        if (query.limit === undefined) expect(await store.countModels(query.filter)).toBe(expected.length);
      });
    }

    it('records come back whole and typed', async () => {
      const [r] = await store.findModels({ filter: F.eq('id', 3) });
      expect(r).toEqual(data[2]);
      expect(r!.modified).toBeInstanceOf(Date);
    });

    for (const [title, filter] of REJECTED_FILTERS) {
      it(`refuses ${title}`, async () => {
        await expectCode(store.findModels({ filter: filter as FilterDoc }), 'FILTER_INVALID');
        await expectCode(store.countModels(filter as FilterDoc), 'FILTER_INVALID');
        await expectCode(store.updateModels(filter as FilterDoc, { serving: 'off' }), 'FILTER_INVALID');
        await expectCode(store.deleteModels(filter as FilterDoc), 'FILTER_INVALID');
      });
    }

    it('refuses bad sorts and limits', async () => {
      await expectCode(store.findModels({ sort: [['password', 1]] }), 'FILTER_INVALID');
      await expectCode(store.findModels({ sort: [['name', 2 as 1]] }), 'FILTER_INVALID');
      await expectCode(store.findModels({ limit: -1 }), 'FILTER_INVALID');
      await expectCode(store.findModels({ limit: 1.5 }), 'FILTER_INVALID');
      // Nothing was deleted by the refused filters above.
      expect(await store.countModels()).toBe(10);
    });
  });
}
