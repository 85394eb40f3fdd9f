import { describe, expect, it } from 'vitest';
import { ParseError, MAX_NESTING } from '../../grammar/index.js';
import { parse } from '../../src/language.js';
import { COMMANDS } from '../../src/commands/index.js';

/** Every `mlmodel` action, in the command list's order: what the error names (a new command needs no edit here). */
const ACTIONS = COMMANDS.filter((c) => (c.syntax.prefix ?? 'mlmodel') === 'mlmodel')
  .flatMap((c) => c.syntax.keywords)
  .join(', ');

function errorOf(text: string): ParseError {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
}

describe('parse errors', () => {
  it('answers a misspelt action in the IRIS manner, with position, expected and suggestion', () => {
    // IRIS's actions first, then ours, as the command list orders them.
    expect(ACTIONS).toMatch(/^list, summary, delete, rename, import, export, deploy, stop, versions, /);
    const e = errorOf('mlmodel llist');
    expect(e.message).toBe(
      '[llist] is not a mlmodel action. Did you mean list? Available: ' + ACTIONS,
    );
    expect(e).toMatchObject({ line: 1, column: 9, offset: 8, length: 5, text: 'llist', suggestion: 'list' });
    expect(e.expected).toEqual(expect.arrayContaining(['list', 'summary', 'delete', 'rename', 'import', 'export', 'deploy', 'stop']));
    expect(e.render()).toBe(
      'parse error at line 1, column 9: [llist] is not a mlmodel action. Did you mean list? Available: ' + ACTIONS + '\n' +
        '  mlmodel llist\n' +
        '          ^^^^^',
    );
  });

  it('suggests across a transposition and leaves unrelated words without a guess', () => {
    expect(errorOf('mlmodel improt name=x').suggestion).toBe('import');
    expect(errorOf('mlmodel sumary x').suggestion).toBe('summary');
    const e = errorOf('mlmodel frobnicate');
    expect(e.suggestion).toBeUndefined();
    expect(e.message).toBe('[frobnicate] is not a mlmodel action. Available: ' + ACTIONS);
  });

  it('names the available stages after a pipe', () => {
    const e = errorOf('mlmodel list | wher type = tf');
    expect(e.message).toBe('[wher] is not a pipeline stage. Did you mean where? Available: where, fields, sort, head');
    expect(e).toMatchObject({ line: 1, column: 16, length: 4 });
  });

  it('names the commands at the start', () => {
    const e = errorOf('mlmodl list');
    expect(e.message).toBe('[mlmodl] is not a command. Did you mean mlmodel? Available: mlmodel, serving');
    expect(e).toMatchObject({ line: 1, column: 1 });
    expect(errorOf('serving stats x').message).toBe('[stats] is not a serving action. Did you mean status? Available: status');
  });

  it('points past the last token when input ends early, and says what was expected', () => {
    const e = errorOf('mlmodel summary');
    expect(e.message).toBe('expected a model name but found end of input');
    expect(e).toMatchObject({ line: 1, column: 16, offset: 15, length: 0, text: '' });
    expect(errorOf('mlmodel list | where').message).toBe("expected not, '(' or a field name but found end of input");
    expect(errorOf('mlmodel list | sort').message).toBe('expected a field name but found end of input');
    expect(errorOf('mlmodel import name=').message).toBe('expected a value but found end of input');
    expect(errorOf('').message).toBe('expected mlmodel or serving but found end of input');
  });

  it('finds the token that really broke a condition, not the start of the alternative', () => {
    const e = errorOf('mlmodel list | where type tf');
    expect(e).toMatchObject({ column: 27, text: 'tf' });
    expect(e.message).toBe('expected a comparison operator, not, like or in but found [tf]');
  });

  it('lists end of input among the possibilities when the query could end there', () => {
    const e = errorOf('mlmodel list | where a = 1 b = 2');
    expect(e.expected).toEqual(['and', 'or', "'|'", 'end of input']);
    expect(e).toMatchObject({ column: 28, text: 'b' });
  });

  it('reports positions on later lines', () => {
    const e = errorOf('mlmodel list\n  | where type = tf\n  | hed 5');
    expect(e).toMatchObject({ line: 3, column: 5, text: 'hed', suggestion: 'head' });
    expect(e.render({ origin: 'jobs.mlq', lineOffset: 10 })).toBe(
      'parse error at jobs.mlq, line 13, column 5: [hed] is not a pipeline stage. Did you mean head? Available: where, fields, sort, head\n' +
        '    | hed 5\n' +
        '      ^^^',
    );
  });

  it('aligns the caret under wide characters', () => {
    const e = errorOf('mlmodel summary 모델 | hed 1');
    // 모델 is four columns wide on a terminal, so the caret moves two extra places.
    expect(e.render().split('\n')[2]).toBe('  ' + ' '.repeat('mlmodel summary '.length + 4 + ' | '.length) + '^^^');
  });

  it('reports an unterminated quote where it starts', () => {
    const e = errorOf("mlmodel deploy m label='stable");
    expect(e.message).toBe("unterminated quoted string: close it with '");
    expect(e).toMatchObject({ line: 1, column: 24 });
  });

  it('reports a stray character and hints at !=', () => {
    const e = errorOf('mlmodel list | where a ! 5');
    expect(e.message).toBe(`unexpected character "!" (did you mean '!='?)`);
    expect(e).toMatchObject({ column: 24, length: 1 });
    expect(e.issues).toHaveLength(1);
  });

  it('reports every error it can recover from', () => {
    const e = errorOf('mlmodel llist | head 5 | sort');
    expect(e.issues.map((i) => [i.column, i.message])).toEqual([
      [9, expect.stringContaining('[llist] is not a mlmodel action')],
      [30, 'expected a field name but found end of input'],
    ]);
  });

  it('rejects what the grammar cannot express, at the offending token', () => {
    expect(errorOf('mlmodel list | head five')).toMatchObject({
      column: 21,
      message: 'head takes a whole number of rows, like head 5; found five',
    });
    expect(errorOf('mlmodel list | head -1').message).toBe('head takes a whole number of rows, like head 5; found -1');
    expect(errorOf('mlmodel summary m@0').message).toBe('version 0 does not exist: versions are numbered from 1');
    expect(errorOf('mlmodel summary m@').message).toBe("a version number or alias is missing after '@' in m@");
    expect(errorOf('mlmodel summary @3').message).toBe("a model name is missing before '@' in @3");
    expect(errorOf('mlmodel summary a@b@c').message).toBe("a model reference has one '@' at most: name@version or name@alias");
    expect(errorOf('mlmodel rename a as b@2').message).toBe(
      "a new model name cannot contain '@' (it separates a name from a version or alias)",
    );
    expect(errorOf('mlmodel deploy m label=a LABEL=b')).toMatchObject({ column: 26, message: 'option LABEL is given twice' });
    expect(errorOf('mlmodel list | sort -').message).toBe("a field name must follow '-' (write -modified to sort descending)");
    expect(errorOf('mlmodel list | sort --x').message).toBe("one '-' is enough to sort descending: -x");
    expect(errorOf('mlmodel list | sort -x asc').message).toBe("'-' already sorts x descending; drop either '-' or asc");
    expect(errorOf('mlmodel list | where a > 1e999').message).toBe('1e999 is too large a number; quote it to compare it as text');
  });

  it('collects several semantic errors in one report', () => {
    const e = errorOf('mlmodel summary m@0 | head x');
    expect(e.issues.map((i) => i.column)).toEqual([17, 28]);
  });

  it('refuses nesting deeper than the limit with a ParseError, not a stack overflow', () => {
    const deep = `mlmodel list | where ${'('.repeat(MAX_NESTING + 1)}a = 1${')'.repeat(MAX_NESTING + 1)}`;
    expect(errorOf(deep).message).toBe(`parentheses nest more than ${MAX_NESTING} deep`);
    const ok = `mlmodel list | where ${'('.repeat(MAX_NESTING)}a = 1${')'.repeat(MAX_NESTING)}`;
    expect(parse(ok).stages).toHaveLength(1);
    expect(errorOf('('.repeat(100_000)).message).toBe(`parentheses nest more than ${MAX_NESTING} deep`);
  });

  it('shows control characters in the echoed line as ? so the caret stays in place', () => {
    // BEL is not white space, so it belongs to the word.
    const e = errorOf('mlmodel \u0007llist');
    expect(e.render().split('\n').slice(1)).toEqual(['  mlmodel ?llist', '          ^^^^^^']);
  });

  it('serialises to JSON with its code and every issue', () => {
    const json = JSON.parse(JSON.stringify(errorOf('mlmodel llist'))) as { code: string; issues: Array<{ line: number }> };
    expect(json.code).toBe('PARSE_ERROR');
    expect(json.issues[0]).toMatchObject({ line: 1, column: 9, text: 'llist', suggestion: 'list' });
  });
});
