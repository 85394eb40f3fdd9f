/**
 * The one table of a model record's fields. The record checks (metadata.ts),
 * the filter validator (filter.ts), SQLite's real columns (sqlite.ts) and the
 * names a query may use (planner/schema.ts) all read it; a field added here
 * is checked, stored, filterable and sortable everywhere at once.
 */

/** What a filter or a sort sees of a field. */
export type FieldType = 'string' | 'number' | 'boolean' | 'date' | 'string[]' | 'any';

/** How a written value is checked (metadata.ts checkField). */
export type FieldCheck =
  | 'string' // non-empty, at most 1024 characters
  | 'nullable-string'
  | 'positive-integer'
  | 'count' // a non-negative integer
  | 'serving' // 'on' | 'off'
  | 'state' // 'ACTIVE' | 'DELETING'
  | 'boolean'
  | 'date'
  | 'tags'
  | 'options';

/** How SQLite keeps a field that is a real column (and so usable by SQL); the rest live in the JSON doc only. */
export type ColumnKind = 'text' | 'int' | 'bool' | 'date';

export interface ModelFieldSpec {
  readonly type: FieldType;
  readonly check: FieldCheck;
  /** Whether an update may set it; identity (uid, model_uid, id, version, create, imported) never changes. */
  readonly updatable: boolean;
  /** A real SQLite column of this kind. */
  readonly column?: ColumnKind;
  /** A name `where`, `sort` and `fields` may use on `mlmodel list`; internal fields (uid, state, object_key …) are not. */
  readonly queryable: boolean;
  /** More names a query may use for it (IRIS's cdate/mdate). */
  readonly aliases?: readonly string[];
}

export const MODEL_FIELD_TABLE = {
  uid: { type: 'string', check: 'string', updatable: false, column: 'text', queryable: false },
  model_uid: { type: 'string', check: 'string', updatable: false, column: 'text', queryable: false },
  id: { type: 'number', check: 'positive-integer', updatable: false, column: 'int', queryable: true },
  user: { type: 'string', check: 'string', updatable: true, column: 'text', queryable: true },
  name: { type: 'string', check: 'string', updatable: true, column: 'text', queryable: true },
  version: { type: 'number', check: 'positive-integer', updatable: false, column: 'int', queryable: true },
  type: { type: 'string', check: 'string', updatable: true, column: 'text', queryable: true },
  category: { type: 'string', check: 'nullable-string', updatable: true, column: 'text', queryable: true },
  algorithm: { type: 'string', check: 'nullable-string', updatable: true, column: 'text', queryable: true },
  format: { type: 'string', check: 'nullable-string', updatable: true, column: 'text', queryable: true },
  filename: { type: 'string', check: 'nullable-string', updatable: true, queryable: true },
  serving: { type: 'string', check: 'serving', updatable: true, column: 'text', queryable: true },
  serving_name: { type: 'string', check: 'nullable-string', updatable: true, column: 'text', queryable: true },
  state: { type: 'string', check: 'state', updatable: true, column: 'text', queryable: false },
  latest: { type: 'boolean', check: 'boolean', updatable: true, column: 'bool', queryable: false },
  create: { type: 'date', check: 'date', updatable: false, column: 'date', queryable: true, aliases: ['cdate'] },
  modified: { type: 'date', check: 'date', updatable: true, column: 'date', queryable: true, aliases: ['mdate'] },
  // When this version was stored; a rename, a tag or a deploy changes modified, never this.
  imported: { type: 'date', check: 'date', updatable: false, queryable: false },
  size: { type: 'number', check: 'count', updatable: true, column: 'int', queryable: true },
  sha256: { type: 'string', check: 'string', updatable: true, queryable: true },
  object_key: { type: 'string', check: 'string', updatable: true, queryable: false },
  tags: { type: 'string[]', check: 'tags', updatable: true, queryable: true },
  options: { type: 'any', check: 'options', updatable: true, queryable: false },
} as const satisfies Readonly<Record<string, ModelFieldSpec>>;

export type ModelField = keyof typeof MODEL_FIELD_TABLE;

/** The fields an update may set. */
export type UpdatableField = {
  [F in ModelField]: (typeof MODEL_FIELD_TABLE)[F]['updatable'] extends true ? F : never;
}[ModelField];

const TABLE: Readonly<Record<string, ModelFieldSpec>> = MODEL_FIELD_TABLE;

export const MODEL_FIELD_NAMES = Object.keys(MODEL_FIELD_TABLE) as ModelField[];

/** The spec of a field, or undefined for a name that is not one (never an inherited property). */
export function modelField(name: string): ModelFieldSpec | undefined {
  return Object.hasOwn(TABLE, name) ? TABLE[name] : undefined;
}

/** SQLite's real columns, in table order. */
export const SQLITE_COLUMNS: ReadonlyArray<readonly [ModelField, ColumnKind]> = MODEL_FIELD_NAMES.flatMap((f) => {
  const kind = (TABLE[f] as ModelFieldSpec).column;
  return kind ? [[f, kind] as const] : [];
});
