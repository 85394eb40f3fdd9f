import Table from 'cli-table3';
import { displayWidth } from '../../grammar/text-width.js';
import type { ResultTable } from '../../src/result/table.js';
import { displayCell } from './cells.js';

export interface TableOptions {
  /** Terminal columns to fit in; undefined never truncates (output to a pipe or file). */
  readonly width?: number | undefined;
  readonly color?: boolean;
}

/** Columns this narrow (ids, names, times) are never cut; long cells (hashes, URLs, JSON) give way down to it. */
const MIN_COLUMN = 20;
/** cli-table3 draws a border and one space of padding on each side of a cell. */
const CELL_OVERHEAD = 3;

/**
 * A boxed table. When it would be wider than the terminal, the widest columns
 * give way first, down to MIN_COLUMN, and their cells end in `…`; a table of
 * short columns that still does not fit is left for the terminal to wrap.
 * Wide characters (Hangul, CJK) count two columns.
 */
export function renderTable(t: ResultTable, opts: TableOptions = {}): string {
  const head = t.columns.map((c) => c.name);
  const body = t.rows.map((row) => t.columns.map((c, i) => displayCell(row[i] ?? null, c)));
  const natural = head.map((h, i) => Math.max(displayWidth(h), ...body.map((r) => maxLineWidth(r[i]!))));
  const widths = opts.width === undefined ? undefined : fit(natural, opts.width - 1);
  const table = new Table({
    head,
    // Rows run on without rules between them, as in psql; numbers align right.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colAligns: t.columns.map((c) => (c.type === 'LONG' || c.type === 'DOUBLE' ? 'right' : 'left')),
    ...(widths ? { colWidths: widths.map((w) => w + 2), wordWrap: false, truncate: '…' } : {}),
    style: { head: opts.color ? ['bold'] : [], border: opts.color ? ['grey'] : [], compact: false },
  });
  for (const r of body) table.push(widths ? r.map((cell) => cell.replace(/\r?\n/g, '↵')) : r);
  // cli-table3 draws the rule under the header with the same characters as
  // rules between rows; those are off, so put the header's rule back by hand.
  const lines = table.toString().split('\n');
  const rule = lines[0]!.replace('┌', '├').replace(/┬/g, '┼').replace('┐', '┤');
  lines.splice(2, 0, rule);
  return `${lines.join('\n')}\n(${t.rows.length} ${t.rows.length === 1 ? 'row' : 'rows'})`;
}

function maxLineWidth(text: string): number {
  return Math.max(0, ...text.split(/\r?\n/).map(displayWidth));
}

/** Shrinks the widest columns until the table fits `total` columns of screen. */
function fit(natural: number[], total: number): number[] {
  const widths = [...natural];
  const budget = total - 1 - widths.length * CELL_OVERHEAD;
  let sum = widths.reduce((a, b) => a + b, 0);
  while (sum > budget) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if (widths[i]! > widths[widest]!) widest = i;
    if (widths[widest]! <= MIN_COLUMN) break;
    widths[widest]!--;
    sum--;
  }
  return widths;
}
