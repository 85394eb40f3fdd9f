import fc from 'fast-check';
import type * as A from '../../grammar/ast.js';
import type { ArgSyntax, CommandSyntax, OptionSyntax } from '../../grammar/command-syntax.js';
import { printModelRef } from '../../grammar/printer.js';
import { readsTypedBare } from '../../grammar/ast-parts.js';
import { language } from '../../src/language.js';

/** Characters a WORD may hold (DESIGN §3), weighted towards ordinary names. */
const wordChar = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'.split('')) },
  { weight: 4, arbitrary: fc.constantFrom(...'0123456789'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom(...'.-:/{}[]%*+#;&$~^`?\\'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom('모', '델', '분', '류', '가', '힣', 'é', 'ß', '😀') },
);

/** Every keyword of the language, from its tokens (so a new command's keywords are tried as names at once), in three spellings. */
export const KEYWORDS: readonly string[] = language.tokens.keywords.flatMap((t) => {
  const w = String(t.LABEL);
  return [w, w.toUpperCase(), w.charAt(0).toUpperCase() + w.slice(1)];
});

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

/** A valid text for an option of this declared type. */
function optionText(spec: OptionSyntax): fc.Arbitrary<string> {
  switch (spec.type) {
    case 'string':
    case 'path':
      return anyText;
    case 'model':
      return modelRef.map(printModelRef);
    case 'boolean':
      return fc.constantFrom('true', 'false', 'TRUE', 'yes', 'no', '1', '0');
    case 'integer':
      return fc.integer({ min: spec.min ?? -1_000_000, max: spec.max ?? 1_000_000 }).map(String);
    case 'duration':
      return fc.oneof(fc.nat({ max: spec.max ?? 100_000 }).map(String), fc.constantFrom('90s', '15m', '1h', '2d'));
    case 'enum':
      return fc.constantFrom(...spec.values);
  }
}

/** Some of a command's declared options, each with a valid value, keys in any case. */
function optionsOf(syntax: CommandSyntax): fc.Arbitrary<A.OptionAssignment[]> {
  const declared = Object.entries(syntax.options ?? {});
  if (declared.length === 0) return fc.constant([]);
  return fc
    .subarray(declared, { maxLength: Math.min(5, declared.length) })
    .chain((chosen) =>
      fc.tuple(...chosen.map(([key, spec]) => fc.record({ key: fc.constantFrom(key, key.toUpperCase()), value: optionText(spec) }))),
    )
    .map((opts) => [...opts]);
}

function argument(arg: ArgSyntax, syntax: CommandSyntax): fc.Arbitrary<Record<string, unknown>> {
  switch (arg.kind) {
    case 'model':
      return modelRef.map((model) => ({ model }));
    case 'options': {
      const others = arg.others;
      if (!others) return optionsOf(syntax).map((options) => ({ options }));
      // Free pairs: keys that are no declared option, in any case.
      const declared = new Set(Object.keys(syntax.options ?? {}));
      // A free pair keeps that its value was quoted where that is meaning: a value that would read as a
      // number or boolean bare (readsTypedBare), quoted. Any other value is text either way.
      const value = fc.oneof(word, fc.constantFrom('1', '-2.5', '.5', '1e3', '+7', 'true', 'false', 'True'));
      const pair = fc
        .record({ key: plainName.filter((k) => !declared.has(k.toLowerCase()) && /^[A-Za-z_]/.test(k)), value, quoted: fc.boolean() })
        .map(({ key, value, quoted }): A.OptionAssignment => (quoted && readsTypedBare(value) ? { key, value, quoted: true } : { key, value }));
      const pairs = fc.uniqueArray(pair, { maxLength: 3, selector: (p) => p.key.toLowerCase() });
      return fc.tuple(optionsOf(syntax), pairs).map(([options, free]) => ({ options, [others.field]: free }));
    }
    case 'names': {
      const list = fc.array(word, { minLength: 1, maxLength: 4 });
      return (arg.optional ? fc.option(list, { nil: null }) : list).map((names) => ({ [arg.field]: names }));
    }
    case 'word':
      if (arg.words) return fc.constantFrom(...arg.words).map((w) => ({ [arg.field]: w }));
      return plainName.filter((w) => arg.check?.(w) === undefined).map((w) => ({ [arg.field]: w }));
  }
}

/** Every command of the language, each from its declared syntax: a new command is generated as soon as it is declared. */
export const command: fc.Arbitrary<A.Command> = fc.oneof(
  ...language.commandRules.map((rule) =>
    fc
      .tuple(
        fc.constantFrom(...(rule.syntax.kind !== undefined ? [rule.syntax.kind] : rule.syntax.keywords)),
        ...rule.syntax.args.map((a) => argument(a, rule.syntax)),
      )
      .map(([kind, ...parts]) => Object.assign({ kind }, ...parts) as A.Command),
  ),
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
