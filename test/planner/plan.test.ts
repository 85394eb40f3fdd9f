import { describe, expect, it } from 'vitest';
import { parse } from '../../src/language.js';
import { compileCondition } from '../../src/planner/condition.js';
import { listQuery, planQuery } from '../../src/planner/plan.js';
import { MODEL_SCHEMA } from '../../src/planner/schema.js';
import type { WhereStage } from '../../grammar/ast.js';

const whereOf = (q: string) => (parse(`mlmodel list | where ${q}`).stages[0] as WhereStage).condition;
const compile = (q: string) => compileCondition(whereOf(q), MODEL_SCHEMA);

describe('planQuery', () => {
  it('pushes where, sort and head of a list into the store query', () => {
    const plan = planQuery(parse('mlmodel list | where type = tf and category = classification | sort -modified | head 20'));
    expect(plan.stages).toEqual([]);
    expect(listQuery(plan.pushed!)).toEqual({
      filter: {
        $and: [
          { latest: { $eq: true } },
          { state: { $eq: 'ACTIVE' } },
          { $and: [{ type: { $eq: 'tf' } }, { category: { $eq: 'classification' } }] },
        ],
      },
      sort: [['modified', -1]],
      limit: 20,
    });
  });

  it('folds stages until a where or sort meets a head; the rest run over whole records', () => {
    const plan = planQuery(parse('mlmodel list | sort name | head 5 | where type = tf | sort -id | fields name'));
    expect(plan.stages).toEqual([]);
    expect(plan.pushed).toMatchObject({ filters: [], sort: [['name', 1]], limit: 5, view: null });
    expect(plan.pushed!.rest.map((s) => s.kind)).toEqual(['where', 'sort', 'fields']);
  });

  it('merges several heads into the smallest, filters across a sort, and lets the last sort decide', () => {
    const plan = planQuery(parse('mlmodel list | sort name | where type = tf | sort -size | head 10 | head 3'));
    expect(plan.pushed).toMatchObject({ limit: 3, sort: [['size', -1]], filters: [{ type: { $eq: 'tf' } }], rest: [] });
  });

  it('folds fields anywhere: it only narrows the names later stages may use', () => {
    const plan = planQuery(parse('mlmodel list | fields name, size, parameter | where size > 1 and parameter.epochs > 2 | sort -size | head 2'));
    expect(plan.pushed).toMatchObject({ limit: 2, sort: [['size', -1]], view: ['name', 'size', 'parameter'], rest: [] });
    expect(listQuery(plan.pushed!).filter).toEqual({
      $and: [
        { latest: { $eq: true } },
        { state: { $eq: 'ACTIVE' } },
        { $and: [{ size: { $gt: 1 } }, { 'options.parameter.epochs': { $gt: 2 } }] },
      ],
    });
    expect(() => planQuery(parse('mlmodel list | fields name | sort size'))).toThrow('unknown field "size"; valid fields: name');
  });

  it('compiles the folded stages in order, so the first bad one is the one reported', () => {
    expect(() => planQuery(parse("mlmodel list | where id = 'five' | where colour = red"))).toThrow('id holds numbers');
    expect(() => planQuery(parse('mlmodel list | sort name, name'))).toThrow('sort names name twice');
  });

  it('pushes nothing for other commands', () => {
    const plan = planQuery(parse('mlmodel summary m | where name = id'));
    expect(plan.pushed).toBeNull();
    expect(plan.stages).toHaveLength(1);
  });
});

describe('compileCondition', () => {
  it('compiles or, in, not, like and nested option fields', () => {
    expect(compile("type in (tf, onnx) or not name like 'mn%' or parameter.epochs >= 5")).toEqual({
      $or: [
        { type: { $in: ['tf', 'onnx'] } },
        { $nor: [{ name: { $regex: '^mn[\\s\\S]*$' } }] },
        { 'options.parameter.epochs': { $gte: 5 } },
      ],
    });
  });

  it('reads IRIS-style stamps for times: 12 digits are a prefix, day 00 rounds up', () => {
    const f = compile('create > 201807000000') as { create: { $gte: Date } };
    expect(f.create.$gte).toEqual(new Date(2018, 6, 1, 0, 0, 0));
    const eq = compile('modified = 20191119001122') as { $and: Array<Record<string, Record<string, Date>>> };
    expect(eq.$and[0]!.modified!.$gte).toEqual(new Date(2019, 10, 19, 0, 11, 22));
    expect(eq.$and[1]!.modified!.$lt).toEqual(new Date(2019, 10, 19, 0, 11, 23));
    expect((compile('create <= 20191231235959') as { create: { $lt: Date } }).create.$lt).toEqual(new Date(2020, 0, 1));
    expect((compile("create < '2019/11/19 00:11:22'") as { create: { $lt: Date } }).create.$lt).toEqual(new Date(2019, 10, 19, 0, 11, 22));
  });

  it('converts literals to the field type and refuses what does not fit', () => {
    expect(compile("id = '5'")).toEqual({ id: { $eq: 5 } });
    expect(compile('name = 5')).toEqual({ name: { $eq: '5' } });
    expect(() => compile("id = 'five'")).toThrow('id holds numbers, and "five" is not one');
    expect(() => compile('create > 2019')).toThrow(/create is a time/);
    expect(() => compile("create = '2019/02/30'")).toThrow(/is not a time/);
    expect(() => compile("id like '1%'")).toThrow('like matches text, and id holds numbers');
  });

  it('refuses unknown fields, listing the valid ones', () => {
    expect(() => compile('colour = red')).toThrow(/unknown field "colour"; valid fields: id, user, name/);
    expect(() => compile('__proto__ = 1')).toThrow(/unknown field "__proto__"/);
    expect(() => compile("$where = 'x'")).toThrow(/unknown field "\$where"/);
  });

  it('keeps user text as literals: operators inside values are just text', () => {
    expect(compile(`name = '{"$ne": null}'`)).toEqual({ name: { $eq: '{"$ne": null}' } });
    expect(compile("name like '.*'")).toEqual({ name: { $regex: '^\\.\\*$' } });
  });
});
