import { nearest } from '../../grammar/suggest.js';
import { isNestedPath } from '../store/filter.js';
import { MODEL_FIELD_NAMES, MODEL_FIELD_TABLE, type FieldType, type ModelFieldSpec } from '../store/model-fields.js';
import type { ColumnType, ResultTable } from '../result/table.js';
import { MlmodelError } from '../errors.js';

/** Where a name in a query lives, and what kind of values it holds. */
export interface FieldSpec {
  readonly path: string;
  readonly type: FieldType;
}

/** The names a `where` or `sort` may use on one kind of table, and where each lives. */
export interface Schema {
  resolve(name: string): FieldSpec;
}

export function unknownField(name: string, valid: readonly string[]): MlmodelError {
  const suggestion = nearest(name, valid);
  return new MlmodelError('INVALID_ARGUMENT', `unknown field "${name}"${suggestion ? `; did you mean ${suggestion}?` : ''}; valid fields: ${valid.join(', ')}`, {
    field: name,
    valid,
    ...(suggestion ? { suggestion } : {}),
  });
}

/** The user-named part of a nested path, if every segment is allowed (see isNestedPath). */
function checkNested(name: string, segments: string[]): string {
  if (!isNestedPath(segments)) {
    throw new MlmodelError(
      'INVALID_ARGUMENT',
      `"${name}" is not a field path: nested names are up to 8 identifiers (letters, digits, '_', '-') joined by '.', and never __proto__, constructor or prototype`,
      { field: name },
    );
  }
  return segments.join('.');
}

/**
 * Model records as `mlmodel list` sees them: the list columns, the other
 * summary fields, and the recorded import options (nested with dots, like
 * `parameter.epochs`), which live under `options.` in the record.
 */
const MODEL_NAMES: Readonly<Record<string, FieldSpec>> = Object.fromEntries(
  MODEL_FIELD_NAMES.flatMap((f) => {
    const spec: ModelFieldSpec = MODEL_FIELD_TABLE[f];
    if (!spec.queryable) return [];
    return [f, ...(spec.aliases ?? [])].map((name) => [name, { path: f, type: spec.type }] as const);
  }),
);

/** Import options IRIS shows in a summary, in its order; they are stored under `options.`. */
export const IRIS_OPTION_FIELDS = [
  'feature',
  'label',
  'parameter',
  'evaluation',
  'cross_validation',
  'grid_info',
  'train_cnt',
  'elapsed',
  'dictionary',
] as const;

/** Every recorded import option. */
export const OPTION_FIELDS = [...IRIS_OPTION_FIELDS, 'description'] as const;

export const MODEL_SCHEMA: Schema = {
  resolve(name) {
    const direct = Object.hasOwn(MODEL_NAMES, name) ? MODEL_NAMES[name] : undefined;
    if (direct) return direct;
    const [head = '', ...rest] = name.split('.');
    if ((OPTION_FIELDS as readonly string[]).includes(head)) return { path: `options.${checkNested(name, name.split('.'))}`, type: 'any' };
    if (head === 'options' && rest.length > 0) return { path: `options.${checkNested(name, rest)}`, type: 'any' };
    throw unknownField(name, [...Object.keys(MODEL_NAMES), ...OPTION_FIELDS, 'options.<name>']);
  },
};

const COLUMN_TYPES: Readonly<Record<ColumnType, FieldType>> = {
  LONG: 'number',
  DOUBLE: 'number',
  TEXT: 'string',
  BOOLEAN: 'boolean',
  DATETIME: 'date',
  JSON: 'any',
};

/** Any result table: its columns, and dotted paths into its JSON columns. */
export function tableSchema(t: ResultTable): Schema {
  return {
    resolve(name) {
      const exact = t.columns.find((c) => c.name === name);
      if (exact) return { path: name, type: COLUMN_TYPES[exact.type] };
      const head = name.split('.')[0];
      const json = t.columns.find((c) => c.name === head && c.type === 'JSON');
      if (json) return { path: `${head}.${checkNested(name, name.split('.').slice(1))}`, type: 'any' };
      throw unknownField(name, t.columns.map((c) => c.name));
    },
  };
}
