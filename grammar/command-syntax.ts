import type { ModelRef, OptionAssignment } from './ast.js';

/**
 * What a command module declares about its syntax. The parser's rules, the
 * AST, the printer, help, completion and the test generators are all
 * derived from a list of these (see language.ts); nothing else in grammar/
 * knows a command by name. Pure data plus pure checks: no I/O.
 */
export interface CommandSyntax {
  /** The AST discriminant. With several keywords and no `kind`, the keyword used is the kind (tag/untag). */
  readonly kind?: string;
  /** The word before the keyword: `mlmodel` (the default) or `serving`. */
  readonly prefix?: CommandPrefix;
  /** The first word(s) after the prefix; each becomes a keyword token (still usable as a name). */
  readonly keywords: readonly [string, ...string[]];
  /** What follows the keyword, in order. */
  readonly args: readonly ArgSyntax[];
  /** The `key=value` options, when `args` has an `options` part. */
  readonly options?: Readonly<Record<string, OptionSyntax>>;
  /** The command a bare prefix stands for (IRIS: `mlmodel` alone lists). */
  readonly bareDefault?: boolean;
}

export type CommandPrefix = 'mlmodel' | 'serving';
export const COMMAND_PREFIXES: readonly CommandPrefix[] = ['mlmodel', 'serving'];

export type ArgSyntax =
  /** `name`, `name@3` or `name@alias`: the AST's `model`. */
  | { readonly kind: 'model' }
  /** `a, b, c` into the AST field `field`; null when optional and absent. */
  | { readonly kind: 'names'; readonly field: string; readonly label: string; readonly optional?: boolean }
  /**
   * One word into the AST field `field`. `optionalKeyword` may stand before
   * it (`rename a as b` or `rename a b`); `check` says what is wrong with a
   * word, if anything. With `words`, the word is one of those (any case,
   * read as written in `words`): a sub-command such as `run start`, while
   * the words stay usable as names everywhere else.
   */
  | {
      readonly kind: 'word';
      readonly field: string;
      readonly label: string;
      readonly optionalKeyword?: 'as';
      readonly check?: (text: string) => string | undefined;
      readonly words?: readonly [string, ...string[]];
    }
  /**
   * `key=value …`: the AST's `options`, checked against the declared options.
   * With `others`, keys that are not declared options are not errors but
   * free pairs, kept in order in the AST field `others.field` (a run's
   * `lr=0.01 epochs=10`); the command checks their keys and values.
   */
  | { readonly kind: 'options'; readonly others?: { readonly field: string; readonly label: string } };

/** How an option's text is read. The same reading checks a query at parse time and gives executors their values. */
export type OptionType =
  | { readonly type: 'string' }
  /** A location: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path (checked where it is opened). */
  | { readonly type: 'path' }
  /** A model reference, `name`, `name@3` or `name@alias`. */
  | { readonly type: 'model' }
  | { readonly type: 'integer'; readonly min?: number; readonly max?: number }
  | { readonly type: 'boolean' }
  /** Seconds, or a number with s, m, h or d; read as seconds. */
  | { readonly type: 'duration'; readonly min?: number; readonly max?: number }
  | { readonly type: 'enum'; readonly values: readonly string[] };

export type OptionSyntax = OptionType & {
  readonly required?: boolean;
  /** One line for help and completion. */
  readonly summary: string;
};

/** The AST node kinds a command declares. */
export function kindsOf(syntax: CommandSyntax): readonly string[] {
  if (syntax.kind !== undefined) return [syntax.kind];
  return syntax.keywords;
}

/** The AST kind a keyword stands for. */
export function kindFor(syntax: CommandSyntax, keyword: string): string {
  return syntax.kind ?? keyword.toLowerCase();
}

// ---- option values ---------------------------------------------------------

const TRUE = ['true', 'yes', 'on', '1'];
const FALSE = ['false', 'no', 'off', '0'];
const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/i;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

export type OptionValue = string | number | boolean | ModelRef;

/** Reads one option's text by its type: the value, or a sentence saying what is valid. */
export function readOptionValue(
  key: string,
  spec: OptionType,
  text: string,
  readRef: (text: string) => { ref: ModelRef; problem?: { message: string } },
): { value: OptionValue } | { problem: string; valid: readonly string[] } {
  switch (spec.type) {
    case 'string':
    case 'path':
      return { value: text };
    case 'model': {
      const { ref, problem } = readRef(text);
      return problem ? { problem: `${key}: ${problem.message}`, valid: [] } : { value: ref };
    }
    case 'boolean': {
      const t = text.toLowerCase();
      if (TRUE.includes(t)) return { value: true };
      if (FALSE.includes(t)) return { value: false };
      return { problem: `${key}=${text} is not a boolean; use ${key}=true or ${key}=false`, valid: ['true', 'false'] };
    }
    case 'integer': {
      const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
      const range = rangeText(spec.min, spec.max);
      if (!Number.isSafeInteger(n)) return { problem: `${key}=${text} is not a whole number${range ? ` (${range})` : ''}`, valid: [] };
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { problem: `${key}=${text} is out of range: ${range}`, valid: [] };
      }
      return { value: n };
    }
    case 'duration': {
      const m = DURATION.exec(text);
      const range = rangeText(spec.min, spec.max, ' s');
      if (!m) return { problem: `${key}=${text} is not a duration; write seconds or a number with s, m, h or d, like 30, 90s, 15m, 1h, 2d`, valid: [] };
      const seconds = Number(m[1]) * UNIT_SECONDS[(m[2] ?? 's').toLowerCase()]!;
      if (!Number.isFinite(seconds) || (spec.min !== undefined && seconds < spec.min) || (spec.max !== undefined && seconds > spec.max)) {
        return { problem: `${key}=${text} is out of range: ${range}`, valid: [] };
      }
      return { value: seconds };
    }
    case 'enum': {
      const found = spec.values.find((v) => v.toLowerCase() === text.toLowerCase());
      if (found === undefined) return { problem: `${key}=${text} is not one of ${spec.values.join(', ')}`, valid: spec.values };
      return { value: found };
    }
  }
}

function rangeText(min: number | undefined, max: number | undefined, unit = ''): string {
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}${unit}`;
  if (min !== undefined) return `at least ${min}${unit}`;
  if (max !== undefined) return `at most ${max}${unit}`;
  return '';
}

/** The option's type in a word, for help: `whole number 0–…`, `true|false`, `a|b|c`. */
export function describeOptionType(spec: OptionType): string {
  switch (spec.type) {
    case 'string':
      return 'text';
    case 'path':
      return 'location';
    case 'model':
      return 'model';
    case 'boolean':
      return 'true|false';
    case 'integer':
      return `whole number${spec.min !== undefined || spec.max !== undefined ? ` ${rangeText(spec.min, spec.max)}` : ''}`;
    case 'duration':
      return 'duration (30, 90s, 15m, 1h, 2d)';
    case 'enum':
      return spec.values.join('|');
  }
}

// ---- the AST a syntax produces, as a type -----------------------------------

type ArgNode<A> = A extends { readonly kind: 'model' }
  ? { readonly model: ModelRef }
  : A extends { readonly kind: 'names'; readonly field: infer F extends string; readonly optional: true }
    ? { readonly [K in F]: readonly string[] | null }
    : A extends { readonly kind: 'names'; readonly field: infer F extends string }
      ? { readonly [K in F]: readonly string[] }
      : A extends { readonly kind: 'word'; readonly field: infer F extends string; readonly words: readonly (infer W extends string)[] }
        ? { readonly [K in F]: W }
        : A extends { readonly kind: 'word'; readonly field: infer F extends string }
          ? { readonly [K in F]: string }
          : A extends { readonly kind: 'options'; readonly others: { readonly field: infer F extends string } }
            ? { readonly options: readonly OptionAssignment[] } & { readonly [K in F]: readonly OptionAssignment[] }
            : A extends { readonly kind: 'options' }
              ? { readonly options: readonly OptionAssignment[] }
              : never;

type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

type KindOf<S extends CommandSyntax> = S extends { readonly kind: infer K extends string } ? K : S['keywords'][number];

/** The AST node of a command, computed from its declared syntax. */
export type CommandAst<S extends CommandSyntax> = { readonly kind: KindOf<S> } & Intersect<ArgNode<S['args'][number]>>;

type ValueOfType<T> = T extends { readonly type: 'integer' | 'duration' }
  ? number
  : T extends { readonly type: 'boolean' }
    ? boolean
    : T extends { readonly type: 'model' }
      ? ModelRef
      : T extends { readonly type: 'enum'; readonly values: readonly (infer V)[] }
        ? V
        : string;

/** The typed option values of a command: required ones always present. */
export type OptionValues<S extends CommandSyntax> = S['options'] extends Readonly<Record<string, OptionSyntax>>
  ? { readonly [K in keyof S['options'] as S['options'][K] extends { readonly required: true } ? K : never]: ValueOfType<S['options'][K]> } & {
      readonly [K in keyof S['options'] as S['options'][K] extends { readonly required: true } ? never : K]?: ValueOfType<S['options'][K]>;
    }
  : Record<string, never>;
