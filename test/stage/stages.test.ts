import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.js';
import { col, type ResultTable } from '../../src/result/table.js';
import { applyStages } from '../../src/stage/index.js';

const t: ResultTable = {
  columns: [col('name', 'TEXT'), col('n', 'LONG'), col('at', 'DATETIME'), col('meta', 'JSON')],
  rows: [
    ['b', 2, new Date(2020, 0, 2), { epochs: 5 }],
    ['a', null, new Date(2020, 0, 1), { epochs: 3 }],
    ['모델', 10, new Date(2021, 5, 1), null],
    ['c', 2, new Date(2019, 0, 1), { epochs: 7 }],
  ],
};

const run = (stages: string) => applyStages(t, parse(`mlmodel list | ${stages}`).stages);

describe('in-memory stages', async () => {
  it('filters with the store semantics: numbers, times as stamps, like, in, not, nested JSON', async () => {
    expect((await run('where n >= 2')).rows.map((r) => r[0])).toEqual(['b', '모델', 'c']);
    expect((await run('where at > 20200101235959')).rows.map((r) => r[0])).toEqual(['b', '모델']);
    expect((await run("where name like '_' and not name in (a)")).rows.map((r) => r[0])).toEqual(['b', 'c']);
    // `_` is one character, and a Hangul syllable is one character.
    expect((await run("where name like '__'")).rows.map((r) => r[0])).toEqual(['모델']);
    expect((await run('where meta.epochs > 4')).rows.map((r) => r[0])).toEqual(['b', 'c']);
    expect((await run('where n != 2')).rows.map((r) => r[0])).toEqual(['a', '모델']);
  });

  it('sorts stably with no value first, several keys and directions', async () => {
    expect((await run('sort n, -name')).rows.map((r) => r[0])).toEqual(['a', 'c', 'b', '모델']);
    expect((await run('sort -at')).rows.map((r) => r[0])).toEqual(['모델', 'b', 'a', 'c']);
  });

  it('projects and cuts', async () => {
    expect(await run('fields n, name | head 2')).toEqual({
      columns: [col('n', 'LONG'), col('name', 'TEXT')],
      rows: [
        [2, 'b'],
        [null, 'a'],
      ],
    });
    expect((await run('head 0')).rows).toEqual([]);
  });

  it('names the columns when a stage names one that does not exist', async () => {
    await expect(run('fields nope')).rejects.toThrow('no column "nope"; the columns are name, n, at, meta');
    await expect(run('sort nope')).rejects.toThrow('cannot sort by "nope"');
    await expect(run('where nope = 1')).rejects.toThrow('unknown field "nope"; valid fields: name, n, at, meta');
  });
});
