/**
 * The typed AST of the mlmodel language. Every node is a plain JSON-able
 * object with a `kind` discriminant, so `--parse` can print it and tests can
 * compare it with `toEqual`. Nodes carry no source positions: two texts that
 * mean the same thing have equal ASTs.
 */

export interface Query {
  readonly kind: 'query';
  readonly command: Command;
  readonly stages: readonly Stage[];
}

/** `name`, `name@3` (a version) or `name@champion` (an alias). */
export interface ModelRef {
  readonly name: string;
  readonly version?: number;
  readonly alias?: string;
}

export interface OptionAssignment {
  readonly key: string;
  readonly value: string;
  /**
   * Set on a command's free pairs (`lr=0.01`, `lr='0.01'`) when the value was
   * quoted and would read as a number or boolean bare (readsTypedBare): there
   * quoting is meaning — a quoted `'1'` is the text "1", a bare `1` a number —
   * so the printer keeps the quotes and the command reads it as text. Any
   * other value is text quoted or not and never carries it; nor do declared
   * options, which are typed by their declaration.
   */
  readonly quoted?: true;
}

/**
 * A command. Its fields come from its module's declared syntax (see
 * CommandSyntax and CommandAst in command-syntax.ts): `model` for a model
 * reference, `options` for `key=value` options, and a field per named part
 * (`fields`, `tags`, `to`, …). A command module types its own node with
 * `CommandAst<typeof syntax>`.
 */
export interface Command {
  readonly kind: string;
  readonly model?: ModelRef;
  readonly options?: readonly OptionAssignment[];
  readonly [field: string]: unknown;
}

export type Stage = WhereStage | FieldsStage | SortStage | HeadStage;

export interface WhereStage {
  readonly kind: 'where';
  readonly condition: Condition;
}

export interface FieldsStage {
  readonly kind: 'fields';
  readonly fields: readonly string[];
}

export interface SortKey {
  readonly field: string;
  readonly direction: 'asc' | 'desc';
}

export interface SortStage {
  readonly kind: 'sort';
  readonly keys: readonly SortKey[];
}

export interface HeadStage {
  readonly kind: 'head';
  readonly count: number;
}

/**
 * A literal in a condition. An unquoted word that reads as a number is a
 * number (so `train_cnt > 500` compares numerically, and dates compare as
 * `yyyyMMddHHmmss` numbers); anything else, and anything quoted, is a string.
 */
export type Literal =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string };

/** `==` is stored as `=`, `<>` as `!=`. */
export type ComparisonOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';

export type Condition = AndCondition | OrCondition | NotCondition | Comparison | LikeCondition | InCondition;

export interface AndCondition {
  readonly kind: 'and';
  readonly operands: readonly Condition[];
}

export interface OrCondition {
  readonly kind: 'or';
  readonly operands: readonly Condition[];
}

export interface NotCondition {
  readonly kind: 'not';
  readonly operand: Condition;
}

export interface Comparison {
  readonly kind: 'compare';
  readonly field: string;
  readonly op: ComparisonOperator;
  readonly value: Literal;
}

/** `%` matches any run of characters and `_` exactly one; the whole value must match. */
export interface LikeCondition {
  readonly kind: 'like';
  readonly field: string;
  readonly pattern: string;
}

export interface InCondition {
  readonly kind: 'in';
  readonly field: string;
  readonly values: readonly Literal[];
}
