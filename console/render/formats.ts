import type { Cell, Column, ResultTable, Row } from '../../src/result/table.js';
import { displayCell, machineCell } from './cells.js';
import { renderChart, renderSvgChart } from './chart.js';
import { renderTable, type TableOptions } from './table.js';
import { safeJson } from './safe-json.js';
import { terminalText } from './terminal-text.js';
import type { Format } from '../args.js';

export { safeJson };

export interface RenderOptions extends TableOptions {
  /**
   * CSV and TSV only: cells exactly as stored, for a program to read. By
   * default a cell a spreadsheet would run as a formula is defused and
   * control characters are shown as escapes (see `spreadsheetCell`).
   */
  readonly raw?: boolean;
}

/**
 * A format that writes a result a row at a time: its text is `start`, then
 * (`startSep` and) the rows separated by `between`, then (`endSep` and)
 * `end`. The whole-table renderers below join it at once; the streaming
 * writer (stream.ts) writes it as the rows come, so both give the same text.
 */
export interface RowWriter {
  readonly start: string;
  /** Between `start` and the first row; written even with no rows when `alwaysSep`. */
  readonly startSep: string;
  row(r: Row): string;
  readonly between: string;
  /** Between the last row (or `start`) and `end`. */
  readonly endSep: string;
  readonly end: string;
  readonly alwaysSep?: boolean;
}

/** The row-at-a-time formats: every one but the table (drawn in slices, table.ts). */
export type RowFormat = Exclude<Format, 'table'>;

export function rowWriter(columns: readonly Column[], format: RowFormat, opts: RenderOptions = {}): RowWriter {
  switch (format) {
    case 'json':
      // `{"columns":[…],"rows":[` … `]}`: the text JSON.stringify gives for the whole, built in pieces.
      return { start: `${safeJson({ columns }).slice(0, -1)},"rows":[`, startSep: '', row: (r) => safeJson(r.map(machineCell)), between: ',', endSep: '', end: ']}' };
    case 'jsonl':
      return { start: '', startSep: '', row: (r) => safeJson(Object.fromEntries(columns.map((c, i) => [c.name, machineCell(r[i] ?? null)]))), between: '\n', endSep: '', end: '' };
    case 'csv': {
      const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      const line = separatedLine(columns, opts, field, false);
      return { start: line.head.join(','), startSep: '\r\n', row: (r) => line.row(r).join(','), between: '\r\n', endSep: '', end: '' };
    }
    case 'tsv': {
      const field = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
      const line = separatedLine(columns, opts, field, true);
      return { start: line.head.join('\t'), startSep: '\n', row: (r) => line.row(r).join('\t'), between: '\n', endSep: '', end: '' };
    }
    case 'markdown':
      return markdownWriter(columns);
    case 'html':
      return htmlWriter(columns);
  }
}

/** A whole table through its format's RowWriter. */
function joined(t: ResultTable, w: RowWriter): string {
  const rows = t.rows.map((r) => w.row(r)).join(w.between);
  const some = t.rows.length > 0;
  return w.start + (some || w.alwaysSep ? w.startSep : '') + rows + (some || w.alwaysSep ? w.endSep : '') + w.end;
}

/** `{"columns":[{"name","type"}…],"rows":[[…]…]}` on one line: the typed result, as the IRIS query API gives it. */
export function renderJson(t: ResultTable): string {
  return joined(t, rowWriter(t.columns, 'json'));
}

/** One object per row, keyed by column name. */
export function renderJsonl(t: ResultTable): string {
  return joined(t, rowWriter(t.columns, 'jsonl'));
}

/** RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF line ends. */
export function renderCsv(t: ResultTable, opts: RenderOptions = {}): string {
  return joined(t, rowWriter(t.columns, 'csv', opts));
}

/** Tab-separated, with `\t`, `\n`, `\r` and `\\` escaped inside fields (the PostgreSQL text convention). */
export function renderTsv(t: ResultTable, opts: RenderOptions = {}): string {
  return joined(t, rowWriter(t.columns, 'tsv', opts));
}

/** The header and a row of a CSV or TSV, each cell made safe (unless raw) and then encoded by `field`. */
function separatedLine(columns: readonly Column[], opts: RenderOptions, field: (s: string) => string, escapesReturns: boolean) {
  const cell = opts.raw ? (text: string) => text : (text: string, value: Cell) => spreadsheetCell(text, value, escapesReturns);
  return {
    head: columns.map((c) => field(cell(c.name, c.name))),
    row: (r: Row) => columns.map((c, i) => field(cell(plain(r[i] ?? null, c), r[i] ?? null))),
  };
}

/**
 * OWASP's CSV-injection rule: a spreadsheet runs a cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return as a formula
 * (`=HYPERLINK(…)`, `@SUM(…)`, DDE `=cmd|…`), so such text gets a leading
 * `'`, which makes it plain text. Numbers are ours, not someone's text, and
 * stay numbers (`-1`). Control characters are shown as escapes, as on a
 * terminal; tabs and line breaks stay (the CSV quoting or the TSV escapes
 * carry them), and so does a lone `\r` where the encoder escapes it (TSV).
 */
export function spreadsheetCell(text: string, value: Cell, keepReturns = false): string {
  const defused = typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return terminalText(defused, { lines: true, tabs: true, returns: keepReturns });
}

/**
 * A GitHub-flavoured Markdown table. Cell text is shown literally: HTML is
 * escaped (`<img onerror=…>` stays text), and the Markdown that could make a
 * link, an image, code or emphasis out of it is backslash-escaped; `|` and
 * line breaks are escaped too, control characters shown as on a terminal.
 */
export function renderMarkdown(t: ResultTable): string {
  return joined(t, markdownWriter(t.columns));
}

function markdownWriter(columns: readonly Column[]): RowWriter {
  const field = (s: string) =>
    escapeHtml(terminalText(s, { lines: true, tabs: true }))
      .replace(/[\\`*[\]|~]/g, '\\$&')
      // `_` inside a word never makes emphasis (CommonMark): names like mnist_v1 stay as they are.
      .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
      .replace(/\r?\n/g, '<br>');
  const head = `| ${columns.map((c) => field(c.name)).join(' | ')} |`;
  const rule = `|${columns.map((c) => (c.type === 'LONG' || c.type === 'DOUBLE' ? ' ---: ' : ' --- ')).join('|')}|`;
  return {
    start: `${head}\n${rule}`,
    startSep: '\n',
    row: (r) => `| ${columns.map((c, i) => field(displayCell(r[i] ?? null, c))).join(' | ')} |`,
    between: '\n',
    endSep: '',
    end: '',
  };
}

/** An HTML table with every cell escaped; column types ride along as data attributes. */
export function renderHtml(t: ResultTable): string {
  return joined(t, htmlWriter(t.columns));
}

function htmlWriter(columns: readonly Column[]): RowWriter {
  const esc = (s: string) => escapeHtml(terminalText(s, { lines: true, tabs: true }));
  const head = columns.map((c) => `<th data-type="${c.type}">${esc(c.name)}</th>`).join('');
  return {
    start: `<table class="mlmodel">\n<thead><tr>${head}</tr></thead>\n<tbody>`,
    startSep: '\n',
    row: (r) => `<tr>${columns.map((c, i) => `<td>${esc(displayCell(r[i] ?? null, c))}</td>`).join('')}</tr>`,
    between: '\n',
    endSep: '\n',
    end: '</tbody>\n</table>',
    alwaysSep: true,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Times in machine formats are ISO 8601; everything else as displayed. */
function plain(value: Cell, column: Column): string {
  const m = machineCell(value);
  return typeof m === 'string' && value instanceof Date ? m : displayCell(value, column);
}

/** One renderer for every result, so every front end shows results the same way. */
/** What ends a rendered result's last line: CRLF for CSV (RFC 4180, like its other records), LF otherwise. */
export function lineEnd(format: Format): string {
  return format === 'csv' ? '\r\n' : '\n';
}

export function render(t: ResultTable, format: Format, table: RenderOptions = {}): string {
  // A chart is drawn where a person looks at it; every other format gets its points.
  if (t.chart && format === 'table') return renderChart(t, { width: table.width, color: table.color ?? false });
  if (t.chart && format === 'html') return renderSvgChart(t);
  switch (format) {
    case 'table':
      return renderTable(t, table);
    case 'json':
      return renderJson(t);
    case 'jsonl':
      return renderJsonl(t);
    case 'csv':
      return renderCsv(t, table);
    case 'tsv':
      return renderTsv(t, table);
    case 'markdown':
      return renderMarkdown(t);
    case 'html':
      return renderHtml(t);
  }
}
