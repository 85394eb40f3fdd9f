import fc from 'fast-check';
import type * as A from '../../grammar/ast.js';

/** Characters a WORD may hold (DESIGN §3), weighted towards ordinary names. */
const wordChar = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'.split('')) },
  { weight: 4, arbitrary: fc.constantFrom(...'0123456789'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom(...'.-:/{}[]%*+#;&$~^`?\\'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom('모', '델', '분', '류', '가', '힣', 'é', 'ß', '😀') },
);

const KEYWORDS = [
  'mlmodel', 'serving', 'list', 'summary', 'delete', 'rename', 'as', 'import', 'export', 'deploy', 'stop',
  'status', 'where', 'fields', 'sort', 'head', 'and', 'or', 'not', 'like', 'in', 'asc', 'desc', 'LIST', 'Where',
];

/** Any word, a keyword now and then: keywords must work as names. */
export const word = fc.oneof(
  { weight: 8, arbitrary: fc.array(wordChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join('')) },
  { weight: 2, arbitrary: fc.constantFrom(...KEYWORDS) },
);

/** A name with no '@' (that separates a model's name from its version or alias). */
export const plainName = word.filter((w) => !w.includes('@'));

export const modelRef: fc.Arbitrary<A.ModelRef> = fc.oneof(
  plainName.map((name) => ({ name })),
  fc.tuple(plainName, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })).map(([name, version]) => ({ name, version })),
  fc.tuple(plainName, plainName.filter((a) => !/^\d+$/.test(a))).map(([name, alias]) => ({ name, alias })),
);

/** Any text at all: a quoted value may hold anything, lone surrogates and control characters included. */
const anyText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  word,
  fc.constantFrom('', ' ', "'", '"', '\\', '\n', 'a b', '5', '-0', '1e3', 'and', '*', '|', '='),
);

const options = fc.uniqueArray(fc.record({ key: word, value: anyText }), {
  maxLength: 5,
  selector: (o) => o.key.toLowerCase(),
});

const literal: fc.Arbitrary<A.Literal> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ kind: 'number' as const, value: v === 0 ? 0 : v })),
  fc.integer().map((v) => ({ kind: 'number' as const, value: v === 0 ? 0 : v })),
  anyText.map((value) => ({ kind: 'string' as const, value })),
);

const op = fc.constantFrom<A.ComparisonOperator>('=', '!=', '>', '>=', '<', '<=');

const { condition } = fc.letrec<{ condition: A.Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('compare' as const), field: word, op, value: literal }),
    fc.record({ kind: fc.constant('like' as const), field: word, pattern: anyText }),
    fc.record({ kind: fc.constant('in' as const), field: word, values: fc.array(literal, { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('not' as const), operand: tie('condition') }),
    fc.record({ kind: fc.constant('and' as const), operands: fc.array(tie('condition'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('or' as const), operands: fc.array(tie('condition'), { minLength: 2, maxLength: 3 }) }),
  ),
}));

/** A sort field cannot start with '-': that is the descending mark. */
const sortField = word.filter((w) => !w.startsWith('-'));

const stage: fc.Arbitrary<A.Stage> = fc.oneof(
  fc.record({ kind: fc.constant('where' as const), condition }),
  fc.record({ kind: fc.constant('fields' as const), fields: fc.array(word, { minLength: 1, maxLength: 4 }) }),
  fc.record({
    kind: fc.constant('sort' as const),
    keys: fc.array(fc.record({ field: sortField, direction: fc.constantFrom<'asc' | 'desc'>('asc', 'desc') }), {
      minLength: 1,
      maxLength: 3,
    }),
  }),
  fc.record({ kind: fc.constant('head' as const), count: fc.nat({ max: Number.MAX_SAFE_INTEGER }) }),
);

export const command: fc.Arbitrary<A.Command> = fc.oneof(
  fc.constant({ kind: 'list' as const }),
  fc.record({ kind: fc.constant('summary' as const), model: modelRef, fields: fc.option(fc.array(word, { minLength: 1, maxLength: 4 }), { nil: null }) }),
  fc.record({ kind: fc.constant('delete' as const), model: modelRef }),
  fc.record({ kind: fc.constant('rename' as const), model: modelRef, to: plainName }),
  fc.record({ kind: fc.constant('import' as const), options }),
  fc.record({ kind: fc.constant('export' as const), options }),
  fc.record({ kind: fc.constant('deploy' as const), model: modelRef, options }),
  fc.record({ kind: fc.constant('stop' as const), model: modelRef }),
  fc.record({ kind: fc.constant('servingStatus' as const), model: modelRef }),
  fc.record({ kind: fc.constant('versions' as const), model: modelRef }),
  fc.record({ kind: fc.constantFrom('tag' as const, 'untag' as const), model: modelRef, tags: fc.array(word, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constantFrom('alias' as const, 'unalias' as const),
    model: modelRef,
    alias: plainName.filter((a) => !/^\d+$/.test(a)),
  }),
  fc.record({ kind: fc.constantFrom('files' as const, 'pull' as const), model: modelRef, options }),
  fc.record({ kind: fc.constant('verify' as const), model: modelRef }),
  fc.record({ kind: fc.constant('fsck' as const), options }),
);

export const query: fc.Arbitrary<A.Query> = fc.record({
  kind: fc.constant('query' as const),
  command,
  stages: fc.array(stage, { maxLength: 4 }),
});

/** Property-test runs: the default, or MLMODEL_FUZZ_RUNS for a long fuzzing session. */
export function runs(normal: number): number {
  const asked = Number(process.env.MLMODEL_FUZZ_RUNS);
  return Number.isSafeInteger(asked) && asked > 0 ? asked : normal;
}
