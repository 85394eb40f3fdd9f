import { describe, expect, it } from 'vitest';
import { scanScript, splitScript, withImplicitCommand } from '../../grammar/index.js';
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

describe('one splitter for files, prompts and requests', () => {
  it("ends a statement at ';' as psql does, keeping each statement's column", () => {
    const statements = splitScript("mlmodel list; mlmodel summary m ;serving status m\nmlmodel list | head 1;");
    expect(statements.map((s) => [s.text.trim(), s.line])).toEqual([
      ['mlmodel list', 1],
      ['mlmodel summary m', 1],
      ['serving status m', 1],
      ['mlmodel list | head 1', 2],
    ]);
    // An error in the third statement points at the file's own column.
    const third = statements[2]!;
    expect(third.text.indexOf('serving')).toBe('mlmodel list; mlmodel summary m ;'.length);
    expect(() => parse(third.text.replace('status', 'statuz'))).toThrow(expect.objectContaining({ column: 'mlmodel list; mlmodel summary m ;serving '.length + 1 }));
  });

  it("takes a '#' after a ';' for a comment to the end of the line, and a '#' inside a statement for text", () => {
    expect(splitScript('mlmodel list; # why\nmlmodel summary m;#\n').map((s) => [s.text.trim(), s.line])).toEqual([
      ['mlmodel list', 1],
      ['mlmodel summary m', 2],
    ]);
    expect(splitScript('mlmodel list | where name = #x; mlmodel list').map((s) => s.text.trim())).toEqual(['mlmodel list | where name = #x', 'mlmodel list']);
  });

  it('puts mlmodel before a statement that leaves it out, only there, keeping its line', () => {
    const cut = splitScript("list | head 1; serving status m\n  * | mlmodel list\nMLMODEL list\nmlmodels\nsummary m \\\n  type").map(withImplicitCommand);
    expect(cut.map((s) => [s.text, s.line])).toEqual([
      ['mlmodel list | head 1', 1],
      ['               serving status m', 1],
      ['  * | mlmodel list', 2],
      ['MLMODEL list', 3],
      ['mlmodel mlmodels', 4],
      ['mlmodel summary m  \n  type', 5],
    ]);
    for (const s of cut) expect(() => parse(s.text), s.text).not.toThrow(/not a command/);
  });

  it("continues a statement while a quote or a parenthesis is open, and keeps ';' and '#' inside quotes", () => {
    const statements = splitScript("mlmodel list | where name = 'a\nb;c # d'\nmlmodel list | where (type = tf\n  or type = onnx)\nmlmodel list");
    expect(statements).toHaveLength(3);
    expect(parse(statements[0]!.text)).toEqual(parse("mlmodel list | where name = 'a\\nb;c # d'"));
    expect(statements[1]!.line).toBe(3);
    expect(parse(statements[1]!.text)).toEqual(parse('mlmodel list | where (type = tf or type = onnx)'));
    expect(statements[2]).toEqual({ text: 'mlmodel list', line: 5 });
  });

  it('says when the last statement is unfinished (a prompt asks for more)', () => {
    expect(scanScript("mlmodel list | where name = 'a").open).toBe(true);
    expect(scanScript('mlmodel list | where (a = 1').open).toBe(true);
    expect(scanScript('mlmodel list \\').open).toBe(true);
    expect(scanScript('mlmodel list; mlmodel list').open).toBe(false);
    expect(scanScript("mlmodel list | where name = 'it\\'s'").open).toBe(false);
  });
});
