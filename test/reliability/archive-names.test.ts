import { describe, expect, it } from 'vitest';
import { refusal } from '../archive/run.js';
import { file, tar } from '../archive/tar-writer.js';

/** Names that are one file on a case- or normalisation-insensitive disk (issue 9.2). */
describe('names equal after Unicode normalisation and case folding', () => {
  const MODEL = file('model.pkl', 'pickle');
  const cases: Array<[string, string, string, string]> = [
    ['ß and ss', 'straße.txt', 'strasse.txt', 'fold-collision'],
    ['ẞ and SS', 'STRAẞE/a', 'strasse/b', 'fold-collision'],
    ['ﬁ ligature and fi', 'ﬁle', 'file', 'fold-collision'],
    ['fullwidth and ASCII', 'ｍodel.txt', 'model.txt', 'fold-collision'],
    ['precomposed and decomposed', 'caf\u00e9', 'cafe\u0301', 'nfc-collision'],
    ['letter case', 'Weights.bin', 'weights.bin', 'case-collision'],
  ];
  for (const [what, first, second, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await refusal(tar(MODEL, file(first, 'a'), file(second, 'b')), { type: 'sklearn' });
      expect(err.details['reason']).toBe(reason);
      expect(err.details['entry']).toBe(second);
      expect(err.message).toContain(JSON.stringify(first.split('/')[0]));
    });
  }
});
