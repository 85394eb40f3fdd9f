import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Query } from '../../grammar/ast.js';
import { createLanguage, ParseError } from '../../grammar/index.js';
import { COMMANDS } from '../../src/commands/index.js';
import { language, print } from '../../src/language.js';
import { KEYWORDS, query, runs } from './arbitraries.js';

/**
 * The fast path (grammar/fast-parse.ts) against Chevrotain's parser, on the
 * same language: wherever the fast path returns an AST, Chevrotain returns
 * the same one, and wherever Chevrotain rejects a query the fast path
 * declines, so `parse` throws Chevrotain's very error (messages, positions,
 * carets, suggestions). Queries are generated from the command list
 * (arbitraries.ts), so a new command is covered as soon as it is declared.
 */

type Outcome = { ast: Query } | { error: ParseError } | { declined: true };

function run(read: (text: string) => Query | undefined, text: string): Outcome {
  try {
    const ast = read(text);
    return ast === undefined ? { declined: true } : { ast };
  } catch (e) {
    if (e instanceof ParseError) return { error: e };
    throw e;
  }
}

/** What a person sees of a parse error: every issue (message, line, column, offset, text, expected, suggestion) and the caret rendering. */
function shown(e: ParseError): unknown {
  return { message: e.message, issues: e.issues, render: e.render(), json: JSON.stringify(e) };
}

/**
 * The property for any text: `parse` answers exactly what Chevrotain alone
 * answers, and the fast path either agrees or declines (or fails before
 * either path runs, as `parse` does). Returns what the fast path did.
 */
function agrees(text: string): 'fast' | 'declined' | 'rejected' {
  const slow = run(language.paths.chevrotain, text);
  const fast = run(language.paths.fast, text);
  const both = run(language.parse, text);
  if ('ast' in slow) {
    expect(both).toEqual(slow);
    if ('ast' in fast) expect(fast.ast).toEqual(slow.ast);
    else expect(fast).toEqual({ declined: true });
    return 'ast' in fast ? 'fast' : 'declined';
  }
  if (!('error' in slow)) throw new Error('Chevrotain neither parsed nor threw');
  expect('error' in both && shown(both.error)).toEqual(shown(slow.error));
  // Too long, a lexing error or too deep a nesting are refused before either path: the same error.
  if ('error' in fast) expect(shown(fast.error)).toEqual(shown(slow.error));
  else expect(fast).toEqual({ declined: true });
  return 'rejected';
}

// ---- valid queries, written in every way the lexer allows ------------------

const blank = fc.constantFrom(' ', '  ', '\t', '\n', ' \n\t', '\r\n');

/** The lexer's tokens of a text joined by random whitespace: the same tokens, differently spaced. */
function respaced(text: string, gaps: readonly string[]): string {
  const { tokens } = language.tokens.lexer.tokenize(text);
  return tokens.map((t, i) => (i === 0 ? '' : gaps[i % gaps.length]!) + t.image).join('');
}

/** Respellings that keep the meaning: `==` for `=` and `<>` for `!=` in a condition, keywords of structure in any case. */
function respelled(text: string, seed: number): string {
  const { tokens } = language.tokens.lexer.tokenize(text);
  let n = seed;
  const coin = () => ((n = (n * 1103515245 + 12345) % 2 ** 31) & 1) === 1;
  let inWhere = false;
  return tokens
    .map((t, i) => {
      const name = t.tokenType.name;
      // A stage's keyword stands first or right after `|`; elsewhere the same
      // word is a name (sync's `where=` option), whose `=` is no condition's.
      const stageStart = i === 0 || tokens[i - 1]!.tokenType.name === 'Pipe';
      if (name === 'Where' && stageStart) inWhere = true;
      else if (name === 'Pipe') inWhere = false;
      if (inWhere && name === 'Eq' && coin()) return '==';
      if (inWhere && name === 'NotEq' && coin()) return '<>';
      if ((['Where', 'Sort', 'Head', 'Fields', 'Mlmodel'].includes(name) && stageStart) || (['And', 'Or'].includes(name) && inWhere)) {
        if (coin()) return t.image.toUpperCase();
      }
      return t.image;
    })
    .join(' ');
}

const validText = fc.oneof(
  query.map(print),
  fc.tuple(query.map(print), fc.array(blank, { minLength: 1, maxLength: 5 })).map(([t, gaps]) => respaced(t, gaps)),
  fc.tuple(query.map(print), fc.nat()).map(([t, seed]) => respelled(t, seed)),
  // IRIS's `* |` prefix, and a bare `mlmodel` for list.
  query.map((q) => `* | ${print(q)}`),
  fc.array(fc.constantFrom('| head 3', '| where a = 1', '| sort -b', '| fields a, b'), { maxLength: 3 }).map((s) => `mlmodel ${s.join(' ')}`),
);

// ---- near-valid and invalid input -----------------------------------------

/** Every keyword (so new commands' words are in it) and every piece of punctuation, and words of each kind. */
const FRAGMENTS = [...KEYWORDS, '*', '|', ',', '(', ')', '=', '==', '!=', '<>', '>', '>=', '<', '<=', "'q'", '"a\\"b"', 'x', '5', '-3', '1e999', 'm@2', 'm@', '@x', '-f', '--g', 'a=b'];

/** A valid query's tokens with some deleted, duplicated, swapped or replaced, or cut short, or junk put in. */
const mutatedText = fc
  .tuple(
    query.map(print),
    fc.array(
      fc.tuple(fc.nat(), fc.constantFrom('delete', 'duplicate', 'swap', 'replace', 'insert', 'junk', 'truncate'), fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 })),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([text, edits]) => {
    const tokens = language.tokens.lexer.tokenize(text).tokens.map((t) => t.image);
    let junk: { at: number; chars: string } | undefined;
    for (const [at, kind, fragment, chars] of edits) {
      const i = tokens.length === 0 ? 0 : at % tokens.length;
      if (kind === 'delete') tokens.splice(i, 1);
      else if (kind === 'duplicate') tokens.splice(i, 0, tokens[i] ?? fragment);
      else if (kind === 'swap' && i + 1 < tokens.length) [tokens[i], tokens[i + 1]] = [tokens[i + 1]!, tokens[i]!];
      else if (kind === 'replace') tokens[i] = fragment;
      else if (kind === 'insert') tokens.splice(i, 0, fragment);
      else if (kind === 'truncate') tokens.length = i;
      else junk = { at, chars };
    }
    let s = tokens.join(' ');
    if (junk) {
      const i = s.length === 0 ? 0 : junk.at % (s.length + 1);
      s = s.slice(0, i) + junk.chars + s.slice(i);
    }
    return s;
  });

const soup = fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 20 }).map((parts) => parts.join(' '));

describe('the fast path', () => {
  it('reads every generated valid query, to the AST Chevrotain builds', () => {
    let fast = 0;
    fc.assert(
      fc.property(validText, (text) => {
        // A valid query is one Chevrotain reads; the fast path must take it, not decline it.
        expect(run(language.paths.chevrotain, text)).toHaveProperty('ast');
        expect(agrees(text)).toBe('fast');
        fast++;
      }),
      { numRuns: runs(2500) },
    );
    expect(fast).toBeGreaterThan(0);
  });

  it('reads each command of the list in its examples and at its edges', () => {
    const texts = [
      ...COMMANDS.flatMap((c) => c.examples),
      'mlmodel',
      'MLMODEL',
      '* | mlmodel list',
      'mlmodel | head 1',
      'mlmodel runs a stale=5m',
      'mlmodel runs stale=5m',
      'mlmodel summary m a, b',
      'mlmodel run start a b=1',
      'mlmodel rename a as',
      'mlmodel rename a as b',
      'mlmodel rename a b',
      'mlmodel list | where not like = 1',
      'mlmodel list | where not like x',
      'mlmodel list | where not not a = 1',
      'mlmodel list | where not in in (1)',
      'mlmodel list | where a not in (1, "2") and not (b like c or d != -0)',
      "mlmodel list | where s = 'it\\'s' and t = \"a\\nb\\tc\\0\\q\"",
      'mlmodel list | sort a asc, -b, c desc | head 0',
      'mlmodel list | fields a,b | where x=1|head 2',
      'mlmodel list\n| where a = 1\n| head 2',
    ];
    for (const text of texts) expect(agrees(text), text).toBe('fast');
  });

  it('declines whatever Chevrotain rejects, so parse reports Chevrotain\'s errors', () => {
    const counts = { fast: 0, declined: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.oneof(mutatedText, soup), (text) => {
        counts[agrees(text)]++;
      }),
      // Describing an error costs Chevrotain a few milliseconds, twice here (alone and through parse).
      { numRuns: runs(1200) },
    );
    // The mutations must reach both verdicts, or the property says little.
    expect(counts.rejected).toBeGreaterThan(200);
    expect(counts.fast).toBeGreaterThan(20);
    // And a mutation Chevrotain still reads, the fast path reads too.
    expect(counts.declined).toBe(0);
  }, 100 * runs(1200));

  it('declines each problem only the AST builder finds, which Chevrotain then reports', () => {
    const texts = [
      'mlmodel deploy m@0',
      'mlmodel deploy m@',
      'mlmodel deploy @1',
      'mlmodel deploy m@1@2',
      'mlmodel deploy m lable=x',
      'mlmodel deploy m label=a label=b',
      'mlmodel files m sortby=nope',
      'mlmodel runs stale=forever',
      'mlmodel run stop a',
      'mlmodel log params r a=1 A=2',
      'mlmodel list | head x',
      'mlmodel list | head 99999999999999999999',
      'mlmodel list | sort -',
      'mlmodel list | sort --a',
      'mlmodel list | sort -a desc',
      'mlmodel list | where a = 1e999',
      'mlmodel list | where a in (1e999)',
      'mlmodel list | where a = 1 |',
      'mlmodel list | where (a = 1',
      'mlmodel list extra',
      'mlmodel nope',
      'serving',
      "mlmodel list | where a = 'open",
      'mlmodel list | where a ! b',
      `mlmodel list | where ${'not '.repeat(80)}a = 1`,
      '',
      '   ',
    ];
    for (const text of texts) expect(agrees(text), text).toBe('rejected');
  });

  it('is made from the command list: a language of other commands is read by its own fast path', () => {
    const small = createLanguage([
      { keywords: ['ping'], args: [{ kind: 'word', field: 'host', label: 'a host', optionalKeyword: 'as' }, { kind: 'options' }], options: { n: { type: 'integer', min: 1, summary: 'count' } } },
      { kind: 'pair', prefix: 'serving', keywords: ['pair', 'unpair'], args: [{ kind: 'model' }, { kind: 'names', field: 'with', label: 'a name', optional: true }] },
    ]);
    expect(small.paths.fast('mlmodel ping as as n=3 | head 1')).toEqual(small.paths.chevrotain('mlmodel ping as as n=3 | head 1'));
    expect(small.paths.fast('mlmodel ping h n=3')).toEqual({ kind: 'query', command: { kind: 'ping', host: 'h', options: [{ key: 'n', value: '3' }] }, stages: [] });
    expect(small.paths.fast('serving unpair m@2 a, b')).toEqual({ kind: 'query', command: { kind: 'pair', model: { name: 'm', version: 2 }, with: ['a', 'b'] }, stages: [] });
    expect(small.paths.fast('mlmodel ping h n=0')).toBeUndefined();
    // This language has no list: the real language's commands are no words of its own.
    expect(small.paths.fast('mlmodel list')).toBeUndefined();
    expect(() => small.parse('mlmodel list')).toThrow(ParseError);
  });
});
