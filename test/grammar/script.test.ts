import { describe, expect, it } from 'vitest';
import { splitScript } from '../../grammar/index.js';
import { parse } from '../../src/language.js';

describe('splitScript', () => {
  it('yields one query per line, skipping blanks and # comments, with starting lines', () => {
    const script = '# nightly report\nmlmodel list\n\n   # indented comment\nserving status m\r\nmlmodel summary m\n';
    expect(splitScript(script)).toEqual([
      { text: 'mlmodel list', line: 2 },
      { text: 'serving status m', line: 5 },
      { text: 'mlmodel summary m', line: 6 },
    ]);
  });

  it('joins a trailing backslash with the next line and keeps the line structure', () => {
    const [s] = splitScript('mlmodel list \\\n  | where type = tf \\\n  | head 5\nmlmodel list');
    expect(s).toEqual({ text: 'mlmodel list  \n  | where type = tf  \n  | head 5', line: 1 });
    expect(parse(s!.text)).toEqual(parse('mlmodel list | where type = tf | head 5'));
  });

  it('keeps a # inside a query, and an unfinished continuation at the end of the file', () => {
    expect(splitScript('mlmodel summary a#b\nmlmodel list \\')).toEqual([
      { text: 'mlmodel summary a#b', line: 1 },
      { text: 'mlmodel list  ', line: 2 },
    ]);
  });

  it('blanks a comment inside a continuation without shifting later lines', () => {
    const statements = splitScript('mlmodel list \\\n# only tf\n| hed 1');
    expect(statements).toEqual([{ text: 'mlmodel list  \n\n| hed 1', line: 1 }]);
    try {
      parse(statements[0]!.text);
      throw new Error('expected a parse error');
    } catch (e) {
      expect(e).toMatchObject({ line: 3, column: 3 });
    }
  });
});
