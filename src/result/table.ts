/**
 * What every query yields: named, typed columns and rows of plain values.
 * The engine builds these; only the console turns them into text.
 */
export type ColumnType = 'LONG' | 'DOUBLE' | 'TEXT' | 'BOOLEAN' | 'DATETIME' | 'JSON';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** LONG/DOUBLE: number; TEXT: string; BOOLEAN: boolean; DATETIME: Date; JSON: any JSON value. null means no value. */
export type Cell = number | string | boolean | Date | JsonValue | null;

export interface ResultTable {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Cell[])[];
  /**
   * What a checking command (fsck) found, whatever stages then keep of its
   * rows: problems it corrected and problems left. Front ends that report a
   * status derive it from this (the CLI's fsck(8)-style exit statuses).
   */
  readonly findings?: Findings;
}

export interface Findings {
  readonly corrected: number;
  readonly uncorrected: number;
}

export function table(columns: readonly Column[], rows: readonly (readonly Cell[])[]): ResultTable {
  return { columns, rows };
}

export const col = (name: string, type: ColumnType): Column => ({ name, type });
