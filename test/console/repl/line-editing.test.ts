import { describe, expect, it } from 'vitest';
import { entryToQuery, needsContinuation } from '../../../console/repl/continuation.js';
import * as E from '../../../console/repl/editor.js';
import { decodeKeys } from '../../../console/repl/keys.js';
import { parse } from '../../../src/language.js';

describe('decodeKeys', () => {
  it('splits a run of typed text at control characters', () => {
    expect(decodeKeys('mlmodel li\tst\r')).toEqual([
      { kind: 'text', text: 'mlmodel li' },
      { kind: 'tab' },
      { kind: 'text', text: 'st' },
      { kind: 'enter' },
    ]);
    expect(decodeKeys('ab\x7f\x03\r\n')).toEqual([{ kind: 'text', text: 'ab' }, { kind: 'backspace' }, { kind: 'ctrl', key: 'c' }, { kind: 'enter' }]);
    expect(decodeKeys('한국어')).toEqual([{ kind: 'text', text: '한국어' }]);
  });

  it('reads arrows, Home/End, Delete and word moves in both terminal dialects; drops unknown sequences', () => {
    expect(decodeKeys('\x1b[A')).toEqual([{ kind: 'up' }]);
    expect(decodeKeys('\x1bOB')).toEqual([{ kind: 'down' }]);
    expect(decodeKeys('\x1b[1~')).toEqual([{ kind: 'home' }]);
    expect(decodeKeys('\x1b[F')).toEqual([{ kind: 'end' }]);
    expect(decodeKeys('\x1b[3~')).toEqual([{ kind: 'delete' }]);
    expect(decodeKeys('\x1b[1;5D')).toEqual([{ kind: 'wordLeft' }]);
    expect(decodeKeys('\x1bf')).toEqual([{ kind: 'wordRight' }]);
    expect(decodeKeys('\x1b\x7f')).toEqual([{ kind: 'deleteWordBack' }]);
    expect(decodeKeys('\x1b')).toEqual([{ kind: 'escape' }]);
    expect(decodeKeys('\x1b[15~')).toEqual([]);
  });
});

describe('editor', () => {
  const typed = (text: string, history: string[] = []) => E.insert(E.initialEditor(history), text);

  it('inserts, deletes and moves by whole code points', () => {
    let s = typed('a😀b');
    s = E.left(s);
    s = E.backspace(s);
    expect(s.text).toBe('ab');
    expect(s.cursor).toBe(1);
    s = E.insert(s, '모');
    expect(s.text).toBe('a모b');
    s = E.deleteForward(s);
    expect(s.text).toBe('a모');
  });

  it('has the Emacs line keys', () => {
    let s = typed('mlmodel list | head 5');
    s = E.wordLeft(s);
    expect(s.cursor).toBe(20);
    s = E.deleteWordBack(s);
    expect(s.text).toBe('mlmodel list | 5');
    s = E.home(s);
    s = E.killToEnd(s);
    expect(s.text).toBe('');
    s = E.insert(s, 'mlmodel summary x');
    s = E.killToStart(E.wordLeft(s));
    expect(s.text).toBe('x');
  });

  it('moves between the lines of a multi-line entry before it browses history', () => {
    let s = typed('mlmodel list \\\n| head 5', ['older']);
    s = E.up(s);
    expect(s.text).toBe('mlmodel list \\\n| head 5');
    expect(s.cursor).toBe(8);
    s = E.up(s);
    expect(s.text).toBe('older');
    s = E.down(s);
    expect(s.text).toBe('mlmodel list \\\n| head 5');
  });

  it('browses history with Up/Down and keeps the line being typed', () => {
    let s = typed('draft', ['one', 'two']);
    s = E.historyPrev(s);
    expect(s.text).toBe('two');
    s = E.historyPrev(E.historyPrev(s));
    expect(s.text).toBe('one');
    s = E.historyNext(E.historyNext(s));
    expect(s.text).toBe('draft');
    expect(s.historyIndex).toBeNull();
  });

  it('reverse-searches history, case-insensitively, older matches on each Ctrl-R', () => {
    const history = ['mlmodel list', 'mlmodel summary mnist', 'mlmodel LIST | head 5', 'help'];
    let s = E.searchBackward(typed('keep', history));
    s = E.searchType(s, 'list');
    expect(s.search!.match).toBe(2);
    s = E.searchBackward(s);
    expect(s.search!.match).toBe(0);
    // No older match: the last one stays.
    s = E.searchBackward(s);
    expect(s.search!.match).toBe(0);
    expect(E.searchAccept(s).text).toBe('mlmodel list');
    expect(E.searchCancel(s).text).toBe('keep');
    s = E.searchType(s, 'zzz');
    expect(s.search!.match).toBeNull();
    s = E.searchBackspace(E.searchBackspace(E.searchBackspace(s)));
    expect(s.search!.query).toBe('list');
    expect(s.search!.match).toBe(2);
  });
});

describe('continuation', () => {
  it('continues after a trailing backslash, inside a quote and inside parentheses', () => {
    expect(needsContinuation('mlmodel list \\')).toBe(true);
    expect(needsContinuation("mlmodel list | where name = 'a")).toBe(true);
    expect(needsContinuation("mlmodel list | where name = 'it\\'s")).toBe(true);
    expect(needsContinuation("mlmodel list | where name = 'it\\'s'")).toBe(false);
    expect(needsContinuation('mlmodel list | where (a = 1 or (b = 2)')).toBe(true);
    expect(needsContinuation('mlmodel list | where (a = 1 or (b = 2))')).toBe(false);
    expect(needsContinuation("mlmodel list | where name = '(' ")).toBe(false);
    expect(needsContinuation('mlmodel list')).toBe(false);
    // A `#` line is a comment: its quote or backslash continues nothing.
    expect(needsContinuation("mlmodel list \\\n# don't \\")).toBe(false);
  });

  it('turns an entry into the query it stands for, keeping line numbers', () => {
    expect(entryToQuery('mlmodel list \\\n| head 5')).toBe('mlmodel list  \n| head 5');
    expect(entryToQuery("mlmodel list | where name = 'a \\\nb'")).toBe("mlmodel list | where name = 'a \\\nb'");
    expect(entryToQuery('mlmodel list \\\n# a comment\n| head 1')).toBe('mlmodel list  \n\n| head 1');
    expect(entryToQuery('# only a comment')).toBe('');
    expect(parse(entryToQuery('mlmodel list \\\n| where (type = tf\n) | head 1')).stages).toHaveLength(2);
  });
});
