import Table from 'cli-table3';
import { strlen } from 'cli-table3/src/utils.js';
import { charWidth, displayWidth } from '../../grammar/text-width.js';
import type { Column, ColumnType, ResultTable, Row, StreamedTable } from '../../src/result/table.js';
import { sparkline } from './chart.js';
import { formatBytes } from '../progress.js';
import { displayCell } from './cells.js';
import { terminalText } from './terminal-text.js';

export interface TableOptions {
  /** Terminal columns to fit in; undefined never truncates (output to a pipe or file). */
  readonly width?: number | undefined;
  readonly color?: boolean;
  /**
   * One record per block, `name | value` (psql's `\x`): for wide rows and
   * long values. `auto` uses it only when the table cannot fit `width`.
   */
  readonly expanded?: boolean | 'auto';
}

/** Columns this narrow (ids, names, times) are never cut; long cells (hashes, URLs, JSON) give way down to it. */
const MIN_COLUMN = 20;
/** Text columns are not cut narrower than this when fitting a table of short columns. */
const TEXT_FLOOR = 8;
/** cli-table3 draws a border and one space of padding on each side of a cell. */
const CELL_OVERHEAD = 3;

/** Rows drawn by one cli-table3 table: its layout takes time quadratic in the rows, so long results are drawn in slices. */
const SLICE_ROWS = 100;

/**
 * A boxed table. When it would be wider than the terminal, the widest columns
 * give way first, down to MIN_COLUMN, and their cells end in `…`; a table of
 * short columns that still does not fit is left for the terminal to wrap.
 * Wide characters (Hangul, CJK) count two columns. Widths are measured the
 * way cli-table3 pads and cuts, so slices drawn separately line up.
 */
export function renderTable(t: ResultTable, opts: TableOptions = {}): string {
  if (opts.expanded === true) return renderExpanded(t, opts);
  const layout = tableLayout(t.columns, t.rows, opts);
  if (opts.expanded === 'auto' && layout.fitted && !layout.fitted.fits && t.rows.length > 0) return renderExpanded(t, opts);
  const lines = layout.top();
  for (let from = 0; from < layout.body.length; from += SLICE_ROWS) lines.push(...layout.rows(layout.body.slice(from, from + SLICE_ROWS)));
  lines.push(layout.bottom);
  return `${layout.finish(lines.join('\n'))}\n${rowCount(t.rows.length)}`;
}

const rowCount = (n: number) => `(${n} ${n === 1 ? 'row' : 'rows'})`;

/** Rows a streamed table holds before it draws: a result this long or shorter looks exactly as renderTable draws it. */
export const STREAM_FIRST_ROWS = 1000;

/**
 * A streamed table (a list of a million models) drawn as its rows come:
 * up to STREAM_FIRST_ROWS are read first, and a result that ends within
 * them is drawn by renderTable as it would be whole. A longer one takes its
 * column widths from those first rows and draws the rest in slices of
 * SLICE_ROWS with the same widths, a later cell that is wider than its
 * column ending in `…` (as on a terminal); the row count comes at the end.
 * `write` resolves when its text may be followed (the output's backpressure).
 */
export async function writeTableStream(t: StreamedTable, opts: TableOptions, write: (text: string) => Promise<void>): Promise<number> {
  const first: Row[] = [];
  const pages = t.pages;
  // Expanded display measures every row's names and values together: it is drawn whole.
  const bound = opts.expanded ? Infinity : STREAM_FIRST_ROWS;
  let done = false;
  while (first.length < bound) {
    const next = await pages.next();
    if (next.done) {
      done = true;
      break;
    }
    for (const r of next.value) first.push(r);
  }
  if (done) {
    await write(renderTable({ columns: t.columns, rows: first }, opts));
    return first.length;
  }
  const layout = tableLayout(t.columns, first, opts);
  const lines = layout.top();
  for (let from = 0; from < layout.body.length; from += SLICE_ROWS) lines.push(...layout.rows(layout.body.slice(from, from + SLICE_ROWS)));
  await write(layout.finish(lines.join('\n')));
  let count = first.length;
  for await (const page of pages) {
    count += page.length;
    for (let from = 0; from < page.length; from += SLICE_ROWS) {
      const body = layout.cells(page.slice(from, from + SLICE_ROWS)).map((r) => r.map((cell) => cell.replace(/\r?\n/g, '↵')));
      // Numbers and times are never cut: a wider one widens its column from here on, under a rule.
      const grown = layout.grow(body);
      const lines = layout.rows(body, true);
      await write('\n' + layout.finish((grown ? [layout.rule(), ...lines] : lines).join('\n')));
    }
  }
  await write(`\n${layout.bottom}\n${rowCount(count)}`);
  return count;
}

interface TableLayout {
  readonly fitted: { widths: number[]; fits: boolean } | undefined;
  readonly widths: readonly number[];
  /** The cells of the rows the layout was made from. */
  readonly body: string[][];
  /** Rows as display cells (controls escaped, sizes readable, marked rows highlighted). */
  cells(rows: readonly Row[]): string[][];
  /** The top border, the header and the rule under it. */
  top(): string[];
  /** The lines of these rows; `cut`: cells wider than their columns end in `…`. */
  rows(body: string[][], cut?: boolean): string[];
  /** Widens the columns that are never cut (numbers, times) to these rows' cells; true if any grew. */
  grow(body: string[][]): boolean;
  /** The rule under the header, at the current widths. */
  rule(): string;
  readonly bottom: string;
  /** The last touch on drawn text (a half-cut astral character blanked). */
  finish(drawn: string): string;
}

/** Column widths, alignment and drawing for a table, measured on `rows`. */
function tableLayout(columns: readonly Column[], rows: readonly Row[], opts: TableOptions): TableLayout {
  const head = columns.map((c) => terminalText(c.name));
  const fitting = opts.width !== undefined;
  const marker = columns.findIndex((c) => c.display === 'marks-row');
  const cells = (rs: readonly Row[]): string[][] =>
    rs.map((row) => {
      const drawn = columns.map((c, i) => {
        if (c.display === 'sparkline' && Array.isArray(row[i])) return sparkline(row[i] as unknown[]);
        // Sizes read as `300 MiB` here; expanded display and machine formats keep the exact bytes.
        if (c.display === 'bytes' && typeof row[i] === 'number') return formatBytes(row[i]);
        // Other users' text: controls, bidi and invisible characters show as escapes, never act.
        const cell = terminalText(displayCell(row[i] ?? null, c), { lines: true });
        // Within a width a row stays one line; a cell's own line breaks show as ↵.
        return fitting ? cell.replace(/\r?\n/g, '↵') : cell.replace(/\r\n/g, '\n');
      });
      // Rows a `marks-row` column flags (compare's changed params) are highlighted: in colour, bold yellow; without, a leading ▶.
      if (marker >= 0 && row[marker] === true) {
        if (opts.color) drawn.forEach((cell, i) => (drawn[i] = `\x1b[1;33m${cell}\x1b[22;39m`));
        else drawn[0] = `▶ ${drawn[0]}`;
      }
      return drawn;
    });
  const body = cells(rows);
  const natural = head.map(width);
  for (const r of body) r.forEach((cell, i) => (natural[i] = Math.max(natural[i]!, maxLineWidth(cell))));
  const fitted = fitting ? fit(natural, opts.width! - 1, columns.map((c, i) => floorFor(c.type, head[i]!))) : undefined;
  const widths = [...(fitted?.widths ?? natural)];
  const aligns = columns.map((c) => (c.type === 'LONG' || c.type === 'DOUBLE' ? ('right' as const) : ('left' as const)));
  // Nothing to cut, colour or measure: printable ASCII only, so one character
  // is one column and the box can be drawn directly, the same characters
  // cli-table3 would draw, without its per-cell cost (it strips ANSI codes
  // with a freshly built regex for every measure: 3/4 of a batch's time).
  const plainOk = !fitting && !opts.color && head.length > 0 && head.every(isPlain);
  const plainBody = (b: string[][]) => plainOk && b.every((r) => r.every(isPlain));
  const floors = columns.map((c, i) => floorFor(c.type, head[i]!));
  const options = {
    // Rows run on without rules between them, as in psql; numbers align right.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colAligns: aligns,
    get colWidths() {
      return widths.map((w) => w + 2);
    },
    wordWrap: false,
    truncate: '…',
    // Colour is ours, not cli-table3's: its colour library turns itself off
    // in environments it does not recognise (CI=true among them), whatever was asked.
    style: { head: [], border: [], compact: false },
  };
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const plainRow = (cs: string[]) =>
    '│' + cs.map((c, i) => ' ' + (aligns[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)) + ' ').join('│') + '│';
  // Drawn directly only when every measured row allows it, so that a whole table is drawn one way throughout.
  const wholePlain = plainBody(body);
  let bottom = rule('└', '┴', '┘');
  return {
    fitted,
    widths,
    body,
    cells,
    top() {
      if (wholePlain) return [rule('┌', '┬', '┐'), plainRow(head), rule('├', '┼', '┤')];
      const headed = new Table({ ...options, head: opts.color ? head.map((h) => `\x1b[1m${h}\x1b[22m`) : head });
      const lines = headed.toString().split('\n');
      bottom = lines.at(-1)!;
      // cli-table3 draws the rule under the header with the same characters as
      // rules between rows; those are off, so put the header's rule back by hand.
      return [lines[0]!, ...lines.slice(1, -1), lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤')];
    },
    rule: () => rule('├', '┼', '┤'),
    grow(b) {
      let grew = false;
      for (const r of b) {
        r.forEach((cell, i) => {
          if (floors[i] !== Infinity) return;
          const w = maxLineWidth(cell);
          if (w > widths[i]!) {
            widths[i] = w;
            grew = true;
          }
        });
      }
      if (grew) bottom = rule('└', '┴', '┘');
      return grew;
    },
    rows(b, cut = false) {
      if (b.length === 0) return [];
      if (wholePlain && plainBody(b)) {
        // Printable ASCII: one character is one column, and `…` takes one.
        return (cut ? b.map((r) => r.map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c))) : b).map(plainRow);
      }
      const slice = new Table({ ...options, head: [] });
      for (const r of b) slice.push(r);
      const drawn = slice.toString().split('\n');
      // Only the rows: the slice's own top and bottom borders are dropped.
      return drawn.slice(1, -1);
    },
    get bottom() {
      return bottom;
    },
    // cli-table3 cuts cells by UTF-16 unit: a cut through a surrogate pair leaves half of an
    // astral character, which no terminal can show; a blank takes its one column.
    finish: (drawn) => (fitting ? drawn.replace(LONE_SURROGATE, ' ') : drawn),
  };
}

const LONE_SURROGATE = /\p{Cs}/gu;

const PLAIN = /^[\x20-\x7e]*$/;
const isPlain = (s: string) => PLAIN.test(s);
/**
 * cli-table3's measure, but printable ASCII is its length: strlen runs
 * string-width's emoji regex, whose compiled code no snapshot keeps, so its
 * first use compiled it at every start even for a table of plain headers.
 */
const width = (s: string) => (isPlain(s) ? s.length : strlen(s));

function maxLineWidth(text: string): number {
  let max = 0;
  for (const line of text.split(/\r?\n/)) max = Math.max(max, width(line));
  return max;
}

/**
 * How narrow a column may become in the second round of fitting: text down
 * to its header (at least TEXT_FLOOR), while numbers and times are never cut
 * (a cut number reads as another number).
 */
function floorFor(type: ColumnType, header: string): number {
  if (type === 'LONG' || type === 'DOUBLE' || type === 'DATETIME') return Infinity;
  return Math.max(TEXT_FLOOR, width(header));
}

/**
 * Shrinks the widest columns until the table fits `total` columns of screen:
 * first long cells down to MIN_COLUMN, then, if that is not enough, text
 * columns down to their floor. A table that still does not fit is left whole.
 */
function fit(natural: number[], total: number, floors: number[]): { widths: number[]; fits: boolean } {
  const widths = [...natural];
  const budget = total - 1 - widths.length * CELL_OVERHEAD;
  let sum = widths.reduce((a, b) => a + b, 0);
  const shrink = (limit: (i: number) => number) => {
    while (sum > budget) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (widths[i]! > limit(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) return;
      widths[widest]!--;
      sum--;
    }
  };
  shrink(() => MIN_COLUMN);
  shrink((i) => Math.min(natural[i]!, floors[i]!));
  if (sum <= budget) return { widths, fits: true };
  return { widths: natural.map((n, i) => Math.min(n, Math.max(widths[i]!, MIN_COLUMN))), fits: false };
}

/**
 * psql's expanded display: each row a block headed `-[ RECORD n ]-`, one
 * `column | value` line per column, names padded to one width (wide
 * characters counted as two). Within a terminal width, values that would run
 * past it end in `…`; a value's own line breaks continue under it.
 */
export function renderExpanded(t: ResultTable, opts: TableOptions = {}): string {
  const names = t.columns.map((c) => terminalText(c.name));
  const nameWidth = Math.max(0, ...names.map(displayWidth));
  const valueRoom = opts.width === undefined ? undefined : Math.max(10, opts.width - 1 - nameWidth - 3);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[22m` : s);
  const blocks: string[] = [];
  let widest = 0;
  const bodies = t.rows.map((row) => {
    const lines: string[] = [];
    t.columns.forEach((c, i) => {
      const valueLines = terminalText(displayCell(row[i] ?? null, c), { lines: true }).split(/\r?\n/);
      valueLines.forEach((v, k) => {
        const value = valueRoom === undefined ? v : truncateToWidth(v, valueRoom);
        const name = k === 0 ? names[i]! : '';
        const line = `${padToWidth(name, nameWidth)} | ${value}`;
        widest = Math.max(widest, displayWidth(line));
        lines.push(k === 0 ? `${bold(padToWidth(name, nameWidth))} | ${value}` : line);
      });
    });
    return lines;
  });
  const ruleWidth = opts.width === undefined ? widest : Math.min(widest, opts.width - 1);
  bodies.forEach((lines, r) => {
    const head = `-[ RECORD ${r + 1} ]`;
    blocks.push(`${head}${'-'.repeat(Math.max(0, ruleWidth - head.length))}`, ...lines);
  });
  const footer = `(${t.rows.length} ${t.rows.length === 1 ? 'row' : 'rows'})`;
  return [...blocks, footer].join('\n');
}

function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** Cuts text to at most `width` screen columns, ending in `…` when cut. */
export function truncateToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch.codePointAt(0) ?? 0);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return out + '…';
}
