import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/language.js';
import { isMlmodelError } from '../../src/errors.js';
import { col, type Cell, type ResultTable } from '../../src/result/table.js';
import { applyStages } from '../../src/stage/index.js';
import { compareCells } from '../../src/stage/sort.js';

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

  it('sorts large tables (merged runs of 4,096 rows) exactly as one stable sort does', async () => {
    // Few distinct keys, so that ties are many and stability shows.
    const cell = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 5 }), fc.constantFrom('a', 'b', 'é'), fc.boolean());
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell), { minLength: 4_000, maxLength: 20_000 }), fc.boolean(), async (pairs, desc) => {
        const big: ResultTable = { columns: [col('k', 'TEXT'), col('j', 'TEXT'), col('i', 'LONG')], rows: pairs.map(([k, j], i) => [k, j, i]) };
        const sorted = await applyStages(big, parse(`mlmodel list | sort ${desc ? '-' : ''}k, j`).stages);
        const sign = desc ? -1 : 1;
        const want = [...big.rows].sort((a, b) => sign * compareCells(a[0] as Cell, b[0] as Cell) || compareCells(a[1] as Cell, b[1] as Cell));
        expect(sorted.rows).toEqual(want);
      }),
      { numRuns: 15 },
    );
  });

  it('ends with CANCELLED when the signal fires during a long stage', async () => {
    const big: ResultTable = { columns: [col('n', 'LONG')], rows: Array.from({ length: 300_000 }, (_, i) => [i % 1000]) };
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const outcome = await applyStages(big, parse('mlmodel list | where n > 5 | sort -n | fields n').stages, ac.signal).catch((e: unknown) => e);
    expect(isMlmodelError(outcome, 'CANCELLED')).toBe(true);
    // Already fired before the stages start: nothing runs.
    await expect(applyStages(big, parse('mlmodel list | head 1').stages, ac.signal)).rejects.toThrow('the query was cancelled');
  });
});
