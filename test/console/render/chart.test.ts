import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { axisNumber, chartSeries, renderChart } from '../../../console/render/chart.js';
import type { Cell, ResultTable } from '../../../src/result/table.js';

const spec = { title: 't', series: 'metric', x: 'step', y: 'value' };
const table = (rows: Cell[][]): ResultTable => ({
  columns: [
    { name: 'metric', type: 'TEXT' },
    { name: 'step', type: 'LONG' },
    { name: 'value', type: 'DOUBLE' },
  ],
  rows,
  chart: spec,
});

/**
 * The terminal chart reads a table's points into columns (Float64Arrays grown
 * as it goes) and draws the reduced series: what it reads must be exactly
 * the usable rows, and what it draws must keep the extremes.
 */
describe('chart renderer', () => {
  it('reads each series in the order it first appears, skipping points that are not finite numbers', () => {
    const cellValue = fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constant(null), fc.constant('1'));
    const row = fc.tuple(fc.constantFrom('loss', 'acc', null, 3), cellValue, cellValue);
    // Long runs of one series, interleaved, past the first growth of the columns.
    const rows = fc.array(fc.tuple(row, fc.integer({ min: 1, max: 700 })), { maxLength: 8 }).map((runs) => runs.flatMap(([r, n]) => Array.from({ length: n }, (_, i) => [r[0], typeof r[1] === 'number' ? r[1] + i : r[1], r[2]] as Cell[])));
    fc.assert(
      fc.property(rows, (rs) => {
        const got = chartSeries(table(rs), spec).map((s) => ({ name: s.name, steps: Array.from(s.steps), values: Array.from(s.values) }));
        const want = new Map<string, { name: string; steps: number[]; values: number[] }>();
        for (const [name, x, y] of rs) {
          if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) continue;
          const key = String(name ?? '');
          if (!want.has(key)) want.set(key, { name: key, steps: [], values: [] });
          want.get(key)!.steps.push(x);
          want.get(key)!.values.push(y);
        }
        expect(got).toEqual([...want.values()]);
      }),
      { numRuns: 60 },
    );
  });

  it('draws a million points to the width asked, with the spike and the whole x range on its axes', () => {
    const rows: Cell[][] = Array.from({ length: 1_000_000 }, (_, i) => ['loss', i, Math.sin(i / 5000) + (i === 777_777 ? 5 : 0)]);
    rows.push(...Array.from({ length: 3000 }, (_, i): Cell[] => ['acc', i * 300, i / 3000]));
    const text = renderChart(table(rows), { width: 60, height: 8 });
    const lines = text.split('\n');
    // Title, 8 plot rows, the axis line, its labels and the legend.
    expect(lines).toHaveLength(12);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60 + 20);
    expect(lines[1]!.trimStart().startsWith(axisNumber(Math.sin(777_777 / 5000) + 5))).toBe(true);
    expect(lines[8]!.trimStart().startsWith(axisNumber(-1))).toBe(true);
    expect(lines[10]).toContain(axisNumber(999_999));
    expect(lines[11]).toContain('loss');
    expect(lines[11]).toContain('acc');
    // The spike is a dot in the top row, about 78% of the way across the plot.
    const plot = lines[1]!.slice(lines[1]!.indexOf('┤') + 1);
    const dots = [...plot].map((ch, i) => (ch !== ' ' ? i : -1)).filter((i) => i >= 0);
    expect(dots.length).toBeGreaterThan(0);
    const cols = lines[9]!.length - lines[9]!.indexOf('└') - 1;
    for (const d of dots) expect(Math.abs(d / cols - 0.7778)).toBeLessThan(0.05);
  });

  it('tells series apart without colour by a mark of their own, shown in the legend, and by colour when it has one', () => {
    // loss falls from 1 to 0 while acc rises from 0 to 1: each owns one corner of the plot.
    const rows: Cell[][] = Array.from({ length: 50 }, (_, i): Cell[][] => [['loss', i, 1 - i / 49], ['acc', i, i / 49]]).flat();
    const plain = renderChart(table(rows), { width: 60, height: 8 }).split('\n');
    const plot = (lines: string[]) => lines.slice(1, 9).map((l) => l.slice(l.indexOf('┤') + 1));
    const firstCell = (l: string) => [...l].find((c) => c !== ' ');
    // Top row: loss at the left (braille), acc at the right (its mark).
    const top = plot(plain)[0]!;
    expect(firstCell(top)!.codePointAt(0)! & 0xff00).toBe(0x2800);
    expect([...top.trimEnd()].at(-1)).toBe('×');
    expect(plain.at(-1)).toMatch(/^\s*[\u2800-\u28ff]{2} loss {3}×× acc$/);
    // With colour the series keep the braille line, and the legend's swatches are coloured.
    const coloured = renderChart(table(rows), { width: 60, height: 8, color: true });
    expect(coloured).not.toContain('×');
    const ESC = String.fromCharCode(27);
    expect(coloured.split('\n').at(-1)).toMatch(new RegExp(`${ESC}\\[\\d+m━━${ESC}\\[39m loss`));
    // One series alone needs no mark.
    expect(renderChart(table(rows.filter((r) => r[0] === 'loss')), { width: 60, height: 8 })).not.toContain('×');
  });
});
