/**
 * Charts of metric series, drawn from a result table's chart points (see
 * ResultTable.chart): a braille line chart that fits the terminal (each
 * character is a 2×4 grid of dots), an SVG for `--format html`, and the
 * sparklines of a `sparkline` column. Long series are first reduced to the
 * dots there are room for, keeping each bucket's extremes, so a million
 * points draw as fast as a thousand.
 */
import type { ChartSpec, ResultTable } from '../../src/result/table.js';
import { downsample, type SeriesColumns } from '../../src/tracking/downsample.js';
import { terminalText } from './terminal-text.js';

export interface ChartOptions {
  readonly width?: number | undefined;
  readonly color?: boolean;
  /** Character rows of the plot (default 12). */
  readonly height?: number;
}

interface Named extends SeriesColumns {
  readonly name: string;
}

const DEFAULT_WIDTH = 80;
const MIN_WIDTH = 30;
/** What marks the cells of the second, third, … series when there is no colour to tell them apart. */
const MARKS = ['×', '+', '•', '∘', '▪'];
/** ANSI colours for series, in order. */
const COLORS = [36, 33, 35, 32, 34, 31];
/** SVG colours for series, in order. */
const SVG_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/**
 * The series of a chart table, in the order they first appear, each in step
 * order, as columns: one pass over the rows fills each series' Float64Arrays
 * (grown by doubling; no object per point, however many rows).
 */
export function chartSeries(t: ResultTable, spec: ChartSpec): Named[] {
  const si = t.columns.findIndex((c) => c.name === spec.series);
  const xi = t.columns.findIndex((c) => c.name === spec.x);
  const yi = t.columns.findIndex((c) => c.name === spec.y);
  interface Filling {
    steps: Float64Array;
    values: Float64Array;
    n: number;
  }
  const by = new Map<string, Filling>();
  let lastName: string | undefined;
  let s: Filling | undefined;
  for (const row of t.rows) {
    const x = row[xi];
    const y = row[yi];
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    const cell = row[si];
    const name = typeof cell === 'string' ? cell : String(cell ?? '');
    // A series' rows usually come together: look the series up only when the name changes.
    if (name !== lastName || !s) {
      lastName = name;
      s = by.get(name);
      if (!s) by.set(name, (s = { steps: new Float64Array(1024), values: new Float64Array(1024), n: 0 }));
    }
    if (s.n === s.steps.length) {
      const steps = new Float64Array(s.n * 2);
      const values = new Float64Array(s.n * 2);
      steps.set(s.steps);
      values.set(s.values);
      s.steps = steps;
      s.values = values;
    }
    s.steps[s.n] = x;
    s.values[s.n++] = y;
  }
  return [...by].map(([name, f]) => ({ name, steps: f.steps.subarray(0, f.n), values: f.values.subarray(0, f.n) }));
}

function bounds(series: readonly SeriesColumns[]): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.steps.length; i++) {
      const x = s.steps[i]!;
      const y = s.values[i]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (y0 === y1) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  if (x0 === x1) x1 = x0 + 1;
  return { x0, x1, y0, y1 };
}

/** A number short enough for an axis label. */
export function axisNumber(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e6 || a < 1e-3) return n.toExponential(2);
  return String(Number(n.toPrecision(4)));
}

// Braille dot bits, by [row 0-3][column 0-1].
const DOTS = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

/** The line chart as terminal text: title, y labels, plot, x axis with labels, legend. */
export function renderChart(t: ResultTable, opts: ChartOptions = {}): string {
  const spec = t.chart!;
  const series = chartSeries(t, spec);
  const title = terminalText(spec.title);
  if (series.length === 0) return `${title}\n(no points)`;
  const width = Math.max(MIN_WIDTH, opts.width ?? DEFAULT_WIDTH);
  const rows = Math.max(4, opts.height ?? 12);
  const b = bounds(series);
  const labels = [axisNumber(b.y1), axisNumber((b.y0 + b.y1) / 2), axisNumber(b.y0)];
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const cols = width - labelWidth - 3;
  const dotW = cols * 2;
  const dotH = rows * 4;
  // One cell grid per series, so colours never mix within a character.
  const grids = series.map(() => new Uint8Array(cols * rows));
  series.forEach((s, k) => {
    const r = downsample(s, dotW * 2);
    const grid = grids[k]!;
    const px = (x: number) => Math.round(((x - b.x0) / (b.x1 - b.x0)) * (dotW - 1));
    const py = (y: number) => Math.round(((b.y1 - y) / (b.y1 - b.y0)) * (dotH - 1));
    const set = (x: number, y: number) => {
      grid[Math.floor(y / 4) * cols + Math.floor(x / 2)]! |= DOTS[y % 4]![x % 2]!;
    };
    let lx = px(r.steps[0]!);
    let ly = py(r.values[0]!);
    set(lx, ly);
    for (let i = 1; i < r.steps.length; i++) {
      const x = px(r.steps[i]!);
      const y = py(r.values[i]!);
      // Bresenham between consecutive points: a line, not scattered dots.
      const dx = Math.abs(x - lx);
      const dy = -Math.abs(y - ly);
      const sx = lx < x ? 1 : -1;
      const sy = ly < y ? 1 : -1;
      let err = dx + dy;
      let cx = lx;
      let cy = ly;
      for (;;) {
        set(cx, cy);
        if (cx === x && cy === y) break;
        const e2 = 2 * err;
        if (e2 >= dy) {
          err += dy;
          cx += sx;
        }
        if (e2 <= dx) {
          err += dx;
          cy += sy;
        }
      }
      lx = x;
      ly = y;
    }
  });
  const paint = (k: number, s: string) => (opts.color ? `\x1b[${COLORS[k % COLORS.length]}m${s}\x1b[39m` : s);
  // Without colour, series after the first are drawn with a mark of their own per cell (coarser than
  // braille dots, but told apart); the legend shows each series' mark.
  const marked = !opts.color && series.length > 1;
  const cell = (k: number, dots: number) => (marked && k > 0 ? MARKS[(k - 1) % MARKS.length]! : String.fromCharCode(0x2800 + dots));
  const lines = [title];
  for (let row = 0; row < rows; row++) {
    const label = row === 0 ? labels[0]! : row === Math.floor(rows / 2) ? labels[1]! : row === rows - 1 ? labels[2]! : '';
    let text = '';
    for (let c = 0; c < cols; c++) {
      // The first series with dots in a cell draws it (an overlap shows the earlier one).
      const k = grids.findIndex((g) => g[row * cols + c]! !== 0);
      text += k < 0 ? ' ' : paint(k, cell(k, grids[k]![row * cols + c]!));
    }
    lines.push(`${label.padStart(labelWidth)} ┤${text}`.trimEnd());
  }
  lines.push(`${' '.repeat(labelWidth)} └${'─'.repeat(cols)}`);
  const left = axisNumber(b.x0);
  const mid = axisNumber((b.x0 + b.x1) / 2);
  const right = axisNumber(b.x1);
  const axis = Array.from({ length: cols + 2 }, () => ' ');
  const place = (text: string, at: number) => [...text].forEach((ch, i) => (axis[Math.max(0, Math.min(cols + 1 - text.length, at)) + i] = ch));
  place(left, 1);
  place(mid, Math.floor(cols / 2) - Math.floor(mid.length / 2));
  place(right, cols + 1 - right.length);
  lines.push(`${' '.repeat(labelWidth)}${axis.join('')}  ${spec.x}`);
  lines.push(`${' '.repeat(labelWidth + 2)}${series.map((s, k) => `${paint(k, marked ? cell(k, 0x12).repeat(2) : '━━')} ${terminalText(s.name)}`).join('   ')}`);
  return lines.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The same chart as a standalone SVG: one polyline per series, axes with labels, a legend. */
export function renderSvgChart(t: ResultTable): string {
  const spec = t.chart!;
  const series = chartSeries(t, spec);
  const W = 800;
  const H = 360;
  const left = 70;
  const right = 20;
  const top = 40;
  const bottom = 60;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="mlmodel-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(spec.title)}</text>`,
  ];
  if (series.length > 0) {
    const b = bounds(series);
    const sx = (x: number) => left + ((x - b.x0) / (b.x1 - b.x0)) * pw;
    const sy = (y: number) => top + ((b.y1 - y) / (b.y1 - b.y0)) * ph;
    parts.push(`<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="#444"/>`, `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}" stroke="#444"/>`);
    for (let i = 0; i <= 4; i++) {
      const y = b.y0 + ((b.y1 - b.y0) * i) / 4;
      const x = b.x0 + ((b.x1 - b.x0) * i) / 4;
      parts.push(`<text x="${left - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${escapeXml(axisNumber(y))}</text>`);
      parts.push(`<text x="${sx(x).toFixed(1)}" y="${top + ph + 18}" text-anchor="middle">${escapeXml(axisNumber(x))}</text>`);
    }
    parts.push(`<text x="${left + pw / 2}" y="${top + ph + 36}" text-anchor="middle">${escapeXml(spec.x)}</text>`);
    series.forEach((s, k) => {
      // Room for two points per pixel column; extremes kept.
      const r = downsample(s, pw * 2);
      const pts = r.steps.map((x, i) => `${sx(x).toFixed(1)},${sy(r.values[i]!).toFixed(1)}`).join(' ');
      const color = SVG_COLORS[k % SVG_COLORS.length]!;
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts}"><title>${escapeXml(s.name)}</title></polyline>`);
      parts.push(`<rect x="${left + k * 140}" y="${H - 14}" width="14" height="4" fill="${color}"/><text x="${left + k * 140 + 20}" y="${H - 9}">${escapeXml(s.name)}</text>`);
    });
  } else {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no points</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';

/** A list of numbers as a one-line sparkline of at most `width` characters (each the highest value of its bucket). */
export function sparkline(values: readonly unknown[], width = 24): string {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length === 0) return '';
  const n = Math.min(width, xs.length);
  const cells: number[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * xs.length) / n);
    const to = Math.max(from + 1, Math.floor(((i + 1) * xs.length) / n));
    let m = xs[from]!;
    for (let j = from + 1; j < to; j++) if (xs[j]! > m) m = xs[j]!;
    cells.push(m);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of cells) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return cells.map((v) => BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}
