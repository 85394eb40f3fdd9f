import { describe, expect, it } from 'vitest';
import { renderCsv, renderHtml, renderJson, renderJsonl, renderMarkdown, renderTsv } from '../../../console/render/formats.js';
import { renderTable } from '../../../console/render/table.js';
import { bytesCol, col, type ResultTable } from '../../../src/result/table.js';

const t: ResultTable = {
  columns: [col('id', 'LONG'), col('name', 'TEXT'), col('create', 'DATETIME'), col('parameter', 'JSON'), col('ok', 'BOOLEAN')],
  rows: [
    [1, 'mnist_v1', new Date(2019, 10, 19, 0, 11, 22), { epochs: 5 }, true],
    [2, 'a,"b"\nc|d\t<e>&', null, null, false],
    [3, '모델', new Date(2020, 2, 23, 17, 11, 2), [1, 2], null],
  ],
};

describe('renderers', () => {
  it('sizes: human-readable in the table, exact bytes in expanded display and machine formats', () => {
    const sizes: ResultTable = { columns: [col('path', 'TEXT'), bytesCol('size')], rows: [['a', 512], ['b', 300 * 1024 * 1024], ['c', 1536], ['d', null]] };
    const out = renderTable(sizes);
    expect(out).toMatch(/│ a +│ +512 B │/);
    expect(out).toMatch(/│ b +│ +300 MiB │/);
    expect(out).toMatch(/│ c +│ +1\.50 KiB │/);
    expect(out).toMatch(/│ d +│ +│/);
    expect(renderTable(sizes, { expanded: true })).toContain('size | 314572800');
    expect(renderCsv(sizes)).toContain('b,314572800');
    expect(JSON.parse(renderJson(sizes)).rows[1][1]).toBe(314572800);
  });

  it('table: IRIS dates, JSON cells, row count, Hangul aligned by display width', () => {
    const out = renderTable({ columns: t.columns.slice(0, 3), rows: [t.rows[0]!.slice(0, 3), t.rows[2]!.slice(0, 3)] });
    const lines = out.split('\n');
    expect(out).toContain('2019/11/19 00:11:22');
    expect(lines[lines.length - 1]).toBe('(2 rows)');
    // Every line of the box is the same width on screen.
    const widths = new Set(lines.slice(0, -1).map((l) => [...l].reduce((w, ch) => w + (/[\uac00-\ud7a3]/.test(ch) ? 2 : 1), 0)));
    expect(widths.size).toBe(1);
  });

  it('table: fits a narrow terminal by truncating the widest column with an ellipsis', () => {
    const wide: ResultTable = { columns: [col('k', 'TEXT'), col('url', 'TEXT')], rows: [['a', 'http://example/' + 'x'.repeat(200)]] };
    const out = renderTable(wide, { width: 40 });
    for (const line of out.split('\n').slice(0, -1)) expect(line.length).toBeLessThanOrEqual(40);
    expect(out).toContain('…');
    expect(renderTable(wide)).toContain('x'.repeat(200));
    // Short columns (times, names) are never cut, even when the table cannot fit.
    const times: ResultTable = { columns: t.columns.slice(0, 3), rows: [t.rows[0]!.slice(0, 3)] };
    expect(renderTable(times, { width: 20 })).toContain('2019/11/19 00:11:22');
  });

  it('json: typed columns, machine times, JSON cells as values', () => {
    const parsed = JSON.parse(renderJson(t)) as { columns: unknown; rows: unknown[][] };
    expect(parsed.columns).toEqual([
      { name: 'id', type: 'LONG' },
      { name: 'name', type: 'TEXT' },
      { name: 'create', type: 'DATETIME' },
      { name: 'parameter', type: 'JSON' },
      { name: 'ok', type: 'BOOLEAN' },
    ]);
    expect(parsed.rows[0]).toEqual([1, 'mnist_v1', expect.stringMatching(/^2019-11-19T00:11:22[+-]\d\d:\d\d$/), { epochs: 5 }, true]);
    expect(parsed.rows[1]![2]).toBeNull();
  });

  it('jsonl: one object per row', () => {
    const lines = renderJsonl(t).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ id: 3, name: '모델', parameter: [1, 2], ok: null });
  });

  it('csv: RFC 4180 quoting', () => {
    const lines = renderCsv(t).split('\r\n');
    expect(lines[0]).toBe('id,name,create,parameter,ok');
    expect(renderCsv(t)).toContain('2,"a,""b""\nc|d\t<e>&",,,false');
    expect(lines[1]).toMatch(/^1,mnist_v1,2019-11-19T00:11:22[+-]\d\d:\d\d,"{""epochs"":5}",true$/);
  });

  it('tsv: escapes tabs, newlines and backslashes inside fields', () => {
    expect(renderTsv(t).split('\n')[2]).toBe('2\ta,"b"\\nc|d\\t<e>&\t\t\tfalse');
  });

  it('markdown: escapes pipes, keeps line breaks as <br>, right-aligns numbers', () => {
    const md = renderMarkdown(t).split('\n');
    expect(md[1]).toBe('| ---: | --- | --- | --- | --- |');
    // HTML in a cell is text, not markup.
    expect(md[3]).toBe('| 2 | a,&quot;b&quot;<br>c\\|d\t&lt;e&gt;&amp; |  |  | false |');
  });

  it('html: escapes every cell', () => {
    const html = renderHtml(t);
    expect(html).toContain('<td>a,&quot;b&quot;\nc|d\t&lt;e&gt;&amp;</td>');
    expect(html).toContain('<th data-type="LONG">id</th>');
    expect(html).not.toContain('<e>');
  });
});
