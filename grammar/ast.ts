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
}

export type Command =
  | ListCommand
  | SummaryCommand
  | DeleteCommand
  | RenameCommand
  | ImportCommand
  | ExportCommand
  | DeployCommand
  | StopCommand
  | ServingStatusCommand
  | VersionsCommand
  | TagCommand
  | AliasCommand
  | FilesCommand
  | PullCommand
  | VerifyCommand
  | FsckCommand;

export interface ListCommand {
  readonly kind: 'list';
}

export interface SummaryCommand {
  readonly kind: 'summary';
  readonly model: ModelRef;
  /** The fields asked for, in the order given; `null` for every field. */
  readonly fields: readonly string[] | null;
}

export interface DeleteCommand {
  readonly kind: 'delete';
  readonly model: ModelRef;
}

export interface RenameCommand {
  readonly kind: 'rename';
  readonly model: ModelRef;
  readonly to: string;
}

export interface ImportCommand {
  readonly kind: 'import';
  readonly options: readonly OptionAssignment[];
}

export interface ExportCommand {
  readonly kind: 'export';
  readonly options: readonly OptionAssignment[];
}

export interface DeployCommand {
  readonly kind: 'deploy';
  readonly model: ModelRef;
  readonly options: readonly OptionAssignment[];
}

export interface StopCommand {
  readonly kind: 'stop';
  readonly model: ModelRef;
}

export interface ServingStatusCommand {
  readonly kind: 'servingStatus';
  readonly model: ModelRef;
}

export interface VersionsCommand {
  readonly kind: 'versions';
  readonly model: ModelRef;
}

/** `tag` adds tags to a version, `untag` removes them. */
export interface TagCommand {
  readonly kind: 'tag' | 'untag';
  readonly model: ModelRef;
  readonly tags: readonly string[];
}

/** `alias NAME@V a` points alias a at version V; `unalias NAME a` removes it. */
export interface AliasCommand {
  readonly kind: 'alias' | 'unalias';
  readonly model: ModelRef;
  readonly alias: string;
}

export interface FilesCommand {
  readonly kind: 'files';
  readonly model: ModelRef;
  readonly options: readonly OptionAssignment[];
}

export interface PullCommand {
  readonly kind: 'pull';
  readonly model: ModelRef;
  readonly options: readonly OptionAssignment[];
}

export interface VerifyCommand {
  readonly kind: 'verify';
  readonly model: ModelRef;
}

export interface FsckCommand {
  readonly kind: 'fsck';
  readonly options: readonly OptionAssignment[];
}

export type CommandKind = Command['kind'];

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
