import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../console/render/table.js';
import type { ColumnType, ResultTable } from '../../../src/result/table.js';

/**
 * Plain tables (printable ASCII, no colour, no width to fit) are drawn
 * directly rather than by cli-table3, for speed in batches. The drawing must
 * be the very same: compared here with cli-table3's, which a width too large
 * to cut anything forces.
 */
describe('table renderer: the direct drawing of plain tables', () => {
  const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 14 });
  const table = fc
    .array(fc.record({ name: ascii.filter((s) => s.length > 0), type: fc.constantFrom<ColumnType>('LONG', 'TEXT', 'DOUBLE') }), { minLength: 1, maxLength: 5 })
    .chain((columns) =>
      fc.record({
        columns: fc.constant(columns),
        rows: fc.array(
          fc.tuple(...columns.map((c) => (c.type === 'TEXT' ? fc.option(ascii) : fc.option(fc.integer({ min: -1e6, max: 1e6 }))))),
          { maxLength: 130 },
        ),
      }),
    );

  it('draws what cli-table3 draws', () => {
    fc.assert(
      fc.property(table, (t) => {
        const rt = t as unknown as ResultTable;
        expect(renderTable(rt, {})).toBe(renderTable(rt, { width: 1_000_000 }));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves anything else to cli-table3: wide characters still line up', () => {
    const t = { columns: [{ name: 'name', type: 'TEXT' }], rows: [['모델'], ['ab']] } as unknown as ResultTable;
    expect(renderTable(t, {}).split('\n').slice(0, 5)).toEqual(['┌──────┐', '│ name │', '├──────┤', '│ 모델 │', '│ ab   │']);
  });
});
