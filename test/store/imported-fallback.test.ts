import { describe, expect, it } from 'vitest';
import { cloneRecord, type ModelRecord } from '../../src/store/metadata.js';
import { record } from './metadata-conformance.js';

/**
 * Records stored before versions kept their own creation time have no
 * `imported`: reading them gives the best time known, never nothing.
 */
describe('imported of records written before it was kept', () => {
  const create = new Date(Date.UTC(2024, 0, 1));
  const modified = new Date(Date.UTC(2024, 5, 1));
  const old = (version: number): ModelRecord => {
    const { imported: _, ...rest } = record({ id: version, version, create, modified });
    return rest as ModelRecord;
  };

  it("is the model's create for the first version and the last change for a later one", () => {
    expect(cloneRecord(old(1)).imported).toEqual(create);
    expect(cloneRecord(old(2)).imported).toEqual(modified);
  });

  it('is kept as stored when present, as a copy', () => {
    const imported = new Date(Date.UTC(2024, 2, 3));
    const r = record({ id: 3, version: 2, create, modified, imported });
    const copy = cloneRecord(r);
    expect(copy.imported).toEqual(imported);
    copy.imported.setTime(0);
    expect(r.imported).toEqual(imported);
  });
});
