import type { ResultTable } from '../../src/result/table.js';
import { displayCell, machineCell } from './cells.js';
import { renderTable, type TableOptions } from './table.js';
import type { Format } from '../args.js';

/** `{"columns":[{"name","type"}…],"rows":[[…]…]}` on one line: the typed result, as the IRIS query API gives it. */
export function renderJson(t: ResultTable): string {
  return JSON.stringify({ columns: t.columns, rows: t.rows.map((r) => r.map(machineCell)) });
}

/** One object per row, keyed by column name. */
export function renderJsonl(t: ResultTable): string {
  return t.rows.map((r) => JSON.stringify(Object.fromEntries(t.columns.map((c, i) => [c.name, machineCell(r[i] ?? null)])))).join('\n');
}

/** RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF line ends. */
export function renderCsv(t: ResultTable): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [t.columns.map((c) => field(c.name)), ...t.rows.map((r) => t.columns.map((c, i) => field(plain(r[i] ?? null, c))))];
  return lines.map((l) => l.join(',')).join('\r\n');
}

/** Tab-separated, with `\t`, `\n`, `\r` and `\\` escaped inside fields (the PostgreSQL text convention). */
export function renderTsv(t: ResultTable): string {
  const field = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
  const lines = [t.columns.map((c) => field(c.name)), ...t.rows.map((r) => t.columns.map((c, i) => field(plain(r[i] ?? null, c))))];
  return lines.map((l) => l.join('\t')).join('\n');
}

/** A GitHub-flavoured Markdown table; `|` and line breaks in cells are escaped. */
export function renderMarkdown(t: ResultTable): string {
  const field = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
  const head = `| ${t.columns.map((c) => field(c.name)).join(' | ')} |`;
  const rule = `|${t.columns.map((c) => (c.type === 'LONG' || c.type === 'DOUBLE' ? ' ---: ' : ' --- ')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${t.columns.map((c, i) => field(displayCell(r[i] ?? null, c))).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

/** An HTML table with every cell escaped; column types ride along as data attributes. */
export function renderHtml(t: ResultTable): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  const head = t.columns.map((c) => `<th data-type="${c.type}">${esc(c.name)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${t.columns.map((c, i) => `<td>${esc(displayCell(r[i] ?? null, c))}</td>`).join('')}</tr>`);
  return `<table class="mlmodel">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

/** Times in machine formats are ISO 8601; everything else as displayed. */
function plain(value: Parameters<typeof displayCell>[0], column: Parameters<typeof displayCell>[1]): string {
  const m = machineCell(value);
  return typeof m === 'string' && value instanceof Date ? m : displayCell(value, column);
}

/** One renderer for every result, so every front end shows results the same way. */
export function render(t: ResultTable, format: Format, table: TableOptions = {}): string {
  switch (format) {
    case 'table':
      return renderTable(t, table);
    case 'json':
      return renderJson(t);
    case 'jsonl':
      return renderJsonl(t);
    case 'csv':
      return renderCsv(t);
    case 'tsv':
      return renderTsv(t);
    case 'markdown':
      return renderMarkdown(t);
    case 'html':
      return renderHtml(t);
  }
}
