import type { Cell, Column, ResultTable } from '../../src/result/table.js';
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

/** `{"columns":[{"name","type"}…],"rows":[[…]…]}` on one line: the typed result, as the IRIS query API gives it. */
export function renderJson(t: ResultTable): string {
  return safeJson({ columns: t.columns, rows: t.rows.map((r) => r.map(machineCell)) });
}

/** One object per row, keyed by column name. */
export function renderJsonl(t: ResultTable): string {
  return t.rows.map((r) => safeJson(Object.fromEntries(t.columns.map((c, i) => [c.name, machineCell(r[i] ?? null)])))).join('\n');
}

/** RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF line ends. */
export function renderCsv(t: ResultTable, opts: RenderOptions = {}): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return separated(t, opts, field, false).map((l) => l.join(',')).join('\r\n');
}

/** Tab-separated, with `\t`, `\n`, `\r` and `\\` escaped inside fields (the PostgreSQL text convention). */
export function renderTsv(t: ResultTable, opts: RenderOptions = {}): string {
  const field = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
  return separated(t, opts, field, true).map((l) => l.join('\t')).join('\n');
}

/** The header and rows of a CSV or TSV, each cell made safe (unless raw) and then encoded by `field`. */
function separated(t: ResultTable, opts: RenderOptions, field: (s: string) => string, escapesReturns: boolean): string[][] {
  const cell = opts.raw ? (text: string) => text : (text: string, value: Cell) => spreadsheetCell(text, value, escapesReturns);
  return [
    t.columns.map((c) => field(cell(c.name, c.name))),
    ...t.rows.map((r) => t.columns.map((c, i) => field(cell(plain(r[i] ?? null, c), r[i] ?? null)))),
  ];
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
  const field = (s: string) =>
    escapeHtml(terminalText(s, { lines: true, tabs: true }))
      .replace(/[\\`*[\]|~]/g, '\\$&')
      // `_` inside a word never makes emphasis (CommonMark): names like mnist_v1 stay as they are.
      .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
      .replace(/\r?\n/g, '<br>');
  const head = `| ${t.columns.map((c) => field(c.name)).join(' | ')} |`;
  const rule = `|${t.columns.map((c) => (c.type === 'LONG' || c.type === 'DOUBLE' ? ' ---: ' : ' --- ')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${t.columns.map((c, i) => field(displayCell(r[i] ?? null, c))).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

/** An HTML table with every cell escaped; column types ride along as data attributes. */
export function renderHtml(t: ResultTable): string {
  const esc = (s: string) => escapeHtml(terminalText(s, { lines: true, tabs: true }));
  const head = t.columns.map((c) => `<th data-type="${c.type}">${esc(c.name)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${t.columns.map((c, i) => `<td>${esc(displayCell(r[i] ?? null, c))}</td>`).join('')}</tr>`);
  return `<table class="mlmodel">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
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
