import { describe, expect, it } from 'vitest';
import { render } from '../../../console/render/formats.js';
import { renderExpanded, renderTable, truncateToWidth } from '../../../console/render/table.js';
import { displayWidth } from '../../../grammar/index.js';
import { col, type ResultTable } from '../../../src/result/table.js';

/** Screen width of every line but the row count. */
const boxWidths = (out: string) => new Set(out.split('\n').filter((l) => /^[┌│├└]/.test(l)).map(displayWidth));

const models: ResultTable = {
  columns: [
    col('id', 'LONG'),
    col('user', 'TEXT'),
    col('name', 'TEXT'),
    col('type', 'TEXT'),
    col('category', 'TEXT'),
    col('algorithm', 'TEXT'),
    col('serving', 'TEXT'),
    col('create', 'DATETIME'),
    col('modified', 'DATETIME'),
  ],
  rows: [
    [1, 'root', 'mnist_v1', 'tf', 'classification', 'deep', 'off', new Date(2019, 10, 19, 0, 11, 22), new Date(2019, 10, 19, 0, 11, 33)],
    [2, 'root', '한국어_분류_모델_이름', 'sklearn', 'classification', null, 'on', new Date(2020, 2, 23, 17, 11, 2), new Date(2020, 2, 24, 10, 4, 17)],
  ],
};

describe('terminal table', () => {
  it('fits the window: text columns give way with an ellipsis, numbers and times stay whole, Hangul stays aligned', () => {
    const out = renderTable(models, { width: 120 });
    expect([...boxWidths(out)]).toEqual([119]);
    expect(out).toContain('2019/11/19 00:11:22');
    expect(out).toContain('2020/03/24 10:04:17');
    expect(out).toMatch(/│ 한국어_분류… │ sklearn │/);
    expect(out).toContain('classificat…');
    // Wide enough: nothing is cut.
    const wide = renderTable(models, { width: 200 });
    expect(wide).not.toContain('…');
    expect(wide).toContain('한국어_분류_모델_이름');
  });

  it('cuts long cells (JSON, URLs) first, down to 20 columns', () => {
    const t: ResultTable = {
      columns: [col('name', 'TEXT'), col('value', 'TEXT')],
      rows: [
        ['parameter', JSON.stringify({ epochs: 5, batch_size: 128, config: 'objectstorage.MINIO_AI_SOURCE:USERS/pjh0347/mnist/config.json' })],
        ['download_url', 'http://127.0.0.1:9000/mlmodel/models/abc/archive?X-Amz-Signature=' + 'f'.repeat(64)],
      ],
    };
    const out = renderTable(t, { width: 60 });
    expect([...boxWidths(out)]).toEqual([59]);
    expect(out).toMatch(/│ parameter +│ \{"epochs":5,"batch_size":128,"config":"… │/);
    expect(out).toMatch(/│ download_url │ http:\/\/127\.0\.0\.1:9000\/mlmodel\/models\/ab… │/);
  });

  it('leaves a table that cannot fit whole rather than cutting numbers or times', () => {
    const out = renderTable(models, { width: 60 });
    expect(out).toContain('2019/11/19 00:11:22');
    expect(out).toContain('│ classification │');
    expect(out).toContain('│ 한국어_분류_모델_이… │');
    // …and the REPL's automatic expanded display takes over instead.
    expect(renderTable(models, { width: 60, expanded: 'auto' })).toMatch(/^-\[ RECORD 1 \]-+$/m);
    expect(renderTable(models, { width: 200, expanded: 'auto' })).toMatch(/^┌/);
  });

  it('draws long results in slices that line up as one table', () => {
    const many: ResultTable = {
      columns: [col('id', 'LONG'), col('name', 'TEXT'), col('note', 'TEXT')],
      rows: Array.from({ length: 250 }, (_, i) => [i + 1, i === 180 ? '한국어_모델' : `m${i + 1}`, i === 7 ? 'two\nlines' : '']),
    };
    for (const width of [undefined, 40]) {
      const out = renderTable(many, { width });
      const lines = out.split('\n');
      expect(lines[lines.length - 1]).toBe('(250 rows)');
      expect(lines.filter((l) => l.startsWith('┌'))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('└'))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('├'))).toHaveLength(1);
      expect(lines.filter((l) => / id │ name/.test(l))).toHaveLength(1);
      expect(boxWidths(out).size).toBe(1);
      expect(out).toMatch(/│ +250 │ m250 +│/);
      expect(out).toMatch(/│ +181 │ 한국어_모델 │/);
    }
    // Off a terminal a cell's line break is kept (two screen lines); on one it shows as ↵.
    expect(renderTable(many).split('\n')).toHaveLength(4 + 250 + 1 + 1);
    expect(renderTable(many, { width: 40 })).toContain('two↵lines');
  });

  it('uses colour only when asked (the console asks only for a TTY without NO_COLOR)', () => {
    expect(renderTable(models, { color: true })).toContain('\x1b[');
    expect(renderTable(models, { color: false })).not.toContain('\x1b[');
    expect(renderExpanded(models, { color: true })).toContain('\x1b[1m');
    expect(renderExpanded(models, { color: false })).not.toContain('\x1b[');
  });
});

describe('expanded display (\\x)', () => {
  it('prints one block per record, names padded by screen width', () => {
    const t: ResultTable = {
      columns: [col('id', 'LONG'), col('이름', 'TEXT'), col('parameter', 'JSON')],
      rows: [
        [1, 'mnist', { epochs: 5 }],
        [2, null, 'line one\nline two'],
      ],
    };
    expect(renderExpanded(t)).toBe(
      [
        '-[ RECORD 1 ]-------------------',
        'id        | 1',
        '이름      | mnist',
        'parameter | {"epochs":5}',
        '-[ RECORD 2 ]-------------------',
        'id        | 2',
        '이름      | ',
        'parameter | "line one\\nline two"',
        '(2 rows)',
      ].join('\n'),
    );
    const text: ResultTable = { columns: [col('k', 'TEXT'), col('v', 'TEXT')], rows: [['a', 'one\ntwo']] };
    expect(renderExpanded(text)).toBe('-[ RECORD 1 ]\nk | a\nv | one\n  | two\n(1 row)');
    expect(renderExpanded({ columns: t.columns, rows: [] })).toBe('(0 rows)');
  });

  it('cuts values to the window with an ellipsis, by screen width', () => {
    const t: ResultTable = { columns: [col('name', 'TEXT'), col('value', 'TEXT')], rows: [['sha256', 'ab'.repeat(40)], ['설명', '가'.repeat(40)]] };
    const out = renderExpanded(t, { width: 40 });
    for (const line of out.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(39);
    expect(out).toContain(`value | ${'ab'.repeat(15)}…`);
    expect(out).toContain(`value | ${'가'.repeat(15)}…`);
    expect(truncateToWidth('가나다라', 5)).toBe('가나…');
    expect(truncateToWidth('가나', 4)).toBe('가나');
  });
});

describe('machine formats keep every character and quote correctly', () => {
  const t: ResultTable = {
    columns: [col('name, "quoted"', 'TEXT'), col('n', 'DOUBLE'), col('ok', 'BOOLEAN'), col('j', 'JSON')],
    rows: [
      ['한국어 모델', 1.5, true, { a: '<b>' }],
      ['tab\there', -0, false, null],
      [' spaced \r', null, null, ['x', "it's"]],
    ],
  };

  it('csv quotes headers and fields with separators, quotes, CR or LF', () => {
    expect(render(t, 'csv', { raw: true }).split('\r\n')).toEqual([
      '"name, ""quoted""",n,ok,j',
      '한국어 모델,1.5,true,"{""a"":""<b>""}"',
      'tab\there,0,false,',
      '" spaced \r",,,"[""x"",""it\'s""]"',
    ]);
    // Without --raw a lone CR (it would move a terminal's cursor back over the line) shows as an escape.
    expect(render(t, 'csv').split('\r\n')[3]).toBe(' spaced \\x0d,,,"[""x"",""it\'s""]"');
  });

  it('tsv escapes tabs and line ends in headers and fields', () => {
    expect(render(t, 'tsv').split('\n')).toEqual(['name, "quoted"\tn\tok\tj', '한국어 모델\t1.5\ttrue\t{"a":"<b>"}', 'tab\\there\t0\tfalse\t', ' spaced \\r\t\t\t["x","it\'s"]']);
  });

  it('markdown escapes pipes and backslashes; html escapes every cell and header', () => {
    const md = render({ columns: [col('a|b', 'TEXT')], rows: [['x\\|y'], ['모델']] }, 'markdown');
    expect(md).toBe('| a\\|b |\n| --- |\n| x\\\\\\|y |\n| 모델 |');
    const html = render(t, 'html');
    expect(html).toContain('<th data-type="TEXT">name, &quot;quoted&quot;</th>');
    expect(html).toContain('<td>{&quot;a&quot;:&quot;&lt;b&gt;&quot;}</td>');
    expect(html).toContain('<td>[&quot;x&quot;,&quot;it&#39;s&quot;]</td>');
    expect(html).toContain('<td>한국어 모델</td>');
  });

  it('json and jsonl carry types and values unchanged, wide characters included', () => {
    const json = JSON.parse(render(t, 'json')) as { columns: unknown[]; rows: unknown[][] };
    expect(json.columns[3]).toEqual({ name: 'j', type: 'JSON' });
    expect(json.rows[0]).toEqual(['한국어 모델', 1.5, true, { a: '<b>' }]);
    const lines = render(t, 'jsonl').split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[2]).toEqual({ 'name, "quoted"': ' spaced \r', n: null, ok: null, j: ['x', "it's"] });
    expect(render({ columns: t.columns, rows: [] }, 'jsonl')).toBe('');
  });
});
