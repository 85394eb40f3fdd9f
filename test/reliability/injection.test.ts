import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Condition } from '../../grammar/index.js';
import { parse } from '../../src/language.js';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { listQuery, planQuery } from '../../src/planner/plan.js';
import { MODEL_FIELDS, regexToLikeTokens, validateQuery, type FilterDoc } from '../../src/store/filter.js';
import { file, tar } from '../archive/tar-writer.js';
import { query, runs } from '../grammar/arbitraries.js';

/**
 * Issue 9.4: `where` compiles only allow-listed fields and operators, values
 * are always literals, LIKE never runs a user-supplied regular expression,
 * and one compiler serves every command.
 */
const LOGICAL = new Set(['$and', '$or', '$nor']);
const FIELD_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$regex']);
const stats = { compiled: 0, refused: 0, leaves: 0 };

const isScalar = (v: unknown) => v === null || v instanceof Date || ['string', 'number', 'boolean'].includes(typeof v);

/** Walks a compiled filter: every key allow-listed, every value a literal, every regex one like() made. */
function checkFilter(doc: FilterDoc, path = 'filter'): void {
  expect(Object.getPrototypeOf(doc), path).toBe(Object.prototype);
  for (const [key, value] of Object.entries(doc)) {
    if (LOGICAL.has(key)) {
      expect(Array.isArray(value), `${path}.${key}`).toBe(true);
      for (const [i, sub] of (value as FilterDoc[]).entries()) checkFilter(sub, `${path}.${key}[${i}]`);
      continue;
    }
    expect(key.startsWith('$'), `${path}: operator ${key} at field level`).toBe(false);
    expect(Object.hasOwn(MODEL_FIELDS, key) || /^options\.[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/.test(key), `${path}: field ${key}`).toBe(true);
    expect(['__proto__', 'constructor', 'prototype'].some((bad) => key.split('.').includes(bad)), `${path}: ${key}`).toBe(false);
    if (isScalar(value)) {
      stats.leaves++;
      continue;
    }
    expect(Object.getPrototypeOf(value), `${path}.${key}`).toBe(Object.prototype);
    for (const [op, v] of Object.entries(value as Record<string, unknown>)) {
      expect(FIELD_OPS.has(op), `${path}.${key}: operator ${op}`).toBe(true);
      stats.leaves++;
      if (op === '$in') {
        expect(Array.isArray(v)).toBe(true);
        for (const x of v as unknown[]) expect(isScalar(x), `${path}.${key}.$in member ${JSON.stringify(x)}`).toBe(true);
      } else if (op === '$regex') {
        expect(typeof v).toBe('string');
        expect(regexToLikeTokens(v as string), `${path}.${key}: regex ${String(v)} not made by like()`).not.toBeNull();
      } else {
        expect(isScalar(v), `${path}.${key}.${op}: ${JSON.stringify(v)}`).toBe(true);
      }
    }
  }
}

function compiled(text: string): FilterDoc {
  const plan = planQuery(parse(text));
  const q = listQuery(plan.pushed!);
  checkFilter(q.filter!);
  // The stores' own validator accepts what the compiler makes.
  validateQuery(q);
  return q.filter!;
}

const KNOWN = ['name', 'type', 'category', 'algorithm', 'user', 'id', 'version', 'size', 'create', 'modified', 'tags', 'serving', 'sha256', 'options.lr', 'parameter.epochs', 'options.a.b', 'description'];

/** Most generated field names are unknown (and refused); map nine in ten onto real fields so values and operators get exercised. */
function knownFields(c: Condition): Condition {
  const pick = (f: string) => {
    let h = 0;
    for (const ch of f) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
    return h % 10 === 0 ? f : KNOWN[h % KNOWN.length]!;
  };
  switch (c.kind) {
    case 'and':
    case 'or':
      return { ...c, operands: c.operands.map(knownFields) };
    case 'not':
      return { ...c, operand: knownFields(c.operand) };
    default:
      return { ...c, field: pick(c.field) };
  }
}

describe('where compiles to allow-listed filters only', () => {
  const hostile = [
    `mlmodel list | where name = '{"$ne": null}'`,
    `mlmodel list | where name = '{"$where": "sleep(1000)"}'`,
    `mlmodel list | where name = '$where'`,
    `mlmodel list | where name in ('$function', '$expr', '{"$gt": ""}')`,
    `mlmodel list | where name != '{"$regex": ".*"}'`,
    `mlmodel list | where category like '{"$ne": null}%'`,
    `mlmodel list | where options.note = '{"$where": "1"}'`,
    `mlmodel list | where name = "__proto__" or name = 'constructor'`,
    `mlmodel list | where name like '(a+)+$' and algorithm like '.*' and type like '[a-z]'`,
  ];
  for (const text of hostile) {
    it(`keeps every value a literal: ${text}`, () => {
      const doc = JSON.stringify(compiled(text));
      // The operator-looking text is inside a string value, never a key.
      expect(doc).not.toMatch(/"\$(where|function|expr|accumulator)"\s*:/);
    });
  }

  const refusedFields = ['$where', '__proto__', 'options.__proto__', 'options.constructor.prototype', '$expr', 'options.a.b.c.d.e.f.g.h.i', "options.$where", 'uid.$ne'];
  for (const field of refusedFields) {
    it(`refuses the field ${field}`, () => {
      let error: unknown;
      try {
        compiled(`mlmodel list | where ${field} = 1`);
      } catch (e) {
        error = e;
      }
      expect(isMlmodelError(error), String(error)).toBe(true);
      expect(['INVALID_ARGUMENT', 'FILTER_INVALID']).toContain((error as { code: string }).code);
    });
  }

  it('a hand-made filter with $where, $function, $expr, a raw regex or __proto__ never passes the stores\' validator', () => {
    const bad: unknown[] = [
      { $where: 'this.name == "x"' },
      { $expr: { $eq: ['$name', '$user'] } },
      { name: { $function: { body: 'return true', args: [], lang: 'js' } } },
      { name: { $regex: '(a+)+$' } },
      { name: { $ne: null, $where: '1' } },
      { name: { $eq: { $ne: null } } },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      { 'options.__proto__': 1 },
      { $and: [{ $where: '1' }] },
      { name: { $in: [{ $gt: '' }] } },
    ];
    for (const doc of bad) {
      let error: unknown;
      try {
        validateQuery({ filter: doc as FilterDoc });
      } catch (e) {
        error = e;
      }
      expect(isMlmodelError(error, 'FILTER_INVALID'), JSON.stringify(doc)).toBe(true);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('every generated where clause compiles to allow-listed fields, operators and literal values, or is refused', () => {
    fc.assert(
      fc.property(query, (q) => {
        const where = q.stages.filter((s) => s.kind === 'where').map((s) => ({ ...s, condition: knownFields(s.condition) }));
        if (where.length === 0) return;
        let filter: FilterDoc;
        try {
          // The planner compiles the stages it folds, so it is where a bad one is refused.
          const plan = planQuery({ kind: 'query', command: { kind: 'list' }, stages: where });
          const mq = listQuery(plan.pushed!);
          validateQuery(mq);
          filter = mq.filter!;
        } catch (e) {
          // Unknown fields and ill-typed values are refused with our own errors, nothing else.
          expect(isMlmodelError(e) && ['INVALID_ARGUMENT', 'FILTER_INVALID'].includes(e.code), String(e)).toBe(true);
          stats.refused++;
          return;
        }
        stats.compiled++;
        checkFilter(filter);
      }),
      { numRuns: runs(4000) },
    );
    console.log(`where fuzz: ${stats.compiled} compiled and checked (${stats.leaves} leaves), ${stats.refused} refused`);
    expect(stats.compiled).toBeGreaterThan(100);
  });
});

describe('the same compiler serves every command, over the real stores', () => {
  let root: string;
  let reg: Registry;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mlmodel-inject-'));
    reg = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' }) });
    await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'graph')));
    for (const n of ['alpha', 'beta', 'a'.repeat(40)]) await reg.run(`mlmodel import name=${n} type=tf category=cls path=${join(root, 'm.tar')}`);
    await reg.run(`mlmodel import name=alpha type=tf path=${join(root, 'm.tar')}`);
    await reg.run("mlmodel deploy alpha label='(a+)+$'");
  });
  afterAll(async () => {
    await reg?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('operator-looking values match only themselves', async () => {
    expect((await reg.run('mlmodel list')).rows).toHaveLength(3);
    for (const v of [`'{"$ne": null}'`, `'{"$gt": ""}'`, `'$where'`, `'.*'`, `'%'`]) {
      expect((await reg.run(`mlmodel list | where name = ${v}`)).rows, v).toEqual([]);
      expect((await reg.run(`mlmodel list | where category != ${v}`)).rows, v).toHaveLength(3);
    }
    expect((await reg.run(`mlmodel list | where name in ('{"$ne": null}', alpha)`)).rows.map((r) => r[2])).toEqual(['alpha']);
  });

  it('LIKE is a LIKE pattern, never a regular expression: metacharacters are literal and a catastrophic pattern is instant', async () => {
    const started = performance.now();
    expect((await reg.run(`mlmodel list | where name like '(a+)+$'`)).rows).toEqual([]);
    expect((await reg.run(`mlmodel list | where name like '(a|aa)*b'`)).rows).toEqual([]);
    expect((await reg.run(`mlmodel list | where name like '.*'`)).rows).toEqual([]);
    expect((await reg.run(`mlmodel list | where name like '[ab]%'`)).rows).toEqual([]);
    expect((await reg.run(`mlmodel list | where name like 'a%'`)).rows.map((r) => r[2]).sort()).toEqual(['a'.repeat(40), 'alpha']);
    expect((await reg.run(`mlmodel list | where name like '_eta'`)).rows.map((r) => r[2])).toEqual(['beta']);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('in-memory tables (versions, serving status, summary) use the same compiler and refuse the same things', async () => {
    expect((await reg.run(`mlmodel versions alpha | where version = '{"$gt": 0}'`).catch((e: unknown) => e)) as object).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await reg.run('mlmodel versions alpha | where version > 1')).rows).toHaveLength(1);
    expect((await reg.run(`serving status alpha | where label = '(a+)+$'`)).rows).toHaveLength(1);
    expect((await reg.run(`serving status alpha | where label like '(a+)+%'`)).rows).toHaveLength(1);
    expect((await reg.run(`serving status alpha | where label like 'a%'`)).rows).toEqual([]);
    for (const text of ['mlmodel versions alpha | where $where = 1', 'serving status alpha | where __proto__ = 1', 'mlmodel summary alpha | where constructor = 1']) {
      const e = await reg.run(text).catch((x: unknown) => x);
      expect(isMlmodelError(e), `${text}: ${String(e)}`).toBe(true);
      expect(['INVALID_ARGUMENT', 'FILTER_INVALID']).toContain((e as { code: string }).code);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
