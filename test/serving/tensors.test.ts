import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMlmodelError } from '../../src/errors.js';
import { readOnnxSignature, type TensorSpec } from '../../src/serving/onnx-graph.js';
import { flatTensor, nestedOutput, nestedTensor } from '../../src/serving/tensors.js';
import { runs } from '../grammar/arbitraries.js';

/**
 * The pure halves of serving, attacked with generated input: the ONNX graph
 * reader on arbitrary bytes (the real models' graphs are read in
 * serving-suite.ts), and request tensors against a signature.
 */
describe('readOnnxSignature', () => {
  it('answers arbitrary bytes with ARCHIVE_INVALID, never another error or a hang', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        try {
          readOnnxSignature(bytes);
        } catch (e) {
          expect(isMlmodelError(e, 'ARCHIVE_INVALID')).toBe(true);
        }
      }),
      { numRuns: runs(2000) },
    );
  });
});

const spec = (shape: (number | null)[], type: TensorSpec['type'] = 'float'): TensorSpec => ({ name: 'X', type, shape });

describe('request tensors', () => {
  it('a rectangular nested array is its flat data and shape; nestedOutput gives it back', () => {
    const dims = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(dims, fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), (shape, x) => {
        const build = (axis: number): unknown => (axis === shape.length ? x : Array.from({ length: shape[axis]! }, () => build(axis + 1)));
        const value = build(0);
        const t = nestedTensor(spec(shape.map(() => null)), value);
        expect(t.shape).toEqual(shape);
        expect(t.data.length).toBe(shape.reduce((a, b) => a * b, 1));
        expect(nestedOutput({ ...t, data: t.data })).toEqual(value);
        expect(flatTensor(spec(shape.map(() => null)), shape, t.data).data).toEqual(t.data);
      }),
      { numRuns: runs(300) },
    );
  });

  it('refuses with INVALID_ARGUMENT whatever is not a tensor of the declared type and shape', () => {
    const bad = [
      [spec([null, 4]), [[1, 2, 3]]],
      [spec([null, 4]), [[1, 2, 3, 4], [1]]],
      [spec([null, 2]), [[1, '2']]],
      [spec([null, 2]), [[1, null]]],
      [spec([null, 2]), [[1, 1e39]]],
      [spec([null, 2], 'int64'), [[1, 1.5]]],
      [spec([null, 2], 'int32'), [[1, 2 ** 31]]],
      [spec([null, 2], 'bool'), [[true, 1]]],
      [spec([null]), 5],
      [spec([null]), { a: 1 }],
    ] as const;
    for (const [s, v] of bad) expect(() => nestedTensor(s, v), JSON.stringify(v)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          nestedTensor(spec([null, 3]), v);
        } catch (e) {
          expect(isMlmodelError(e, 'INVALID_ARGUMENT')).toBe(true);
        }
      }),
      { numRuns: runs(1000) },
    );
  });
});
