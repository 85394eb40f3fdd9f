/**
 * What every query yields: named, typed columns and rows of plain values.
 * The engine builds these; only the console turns them into text.
 */
export type ColumnType = 'LONG' | 'DOUBLE' | 'TEXT' | 'BOOLEAN' | 'DATETIME' | 'JSON';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /**
   * How a person should see it, for the renderers: `sparkline`, a JSON list
   * of numbers drawn as a small line; `marks-row`, a BOOLEAN that, when
   * true, highlights its whole row (compare's `changed`); `bytes`, a LONG
   * count of bytes the table format shows as `300 MiB` (expanded display and
   * the machine formats keep the exact number). Machine formats ignore it.
   */
  readonly display?: 'sparkline' | 'marks-row' | 'bytes';
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
  /**
   * The rows are a chart's points: the table renderer draws a line chart,
   * `--format html` an SVG; the other formats give the points as rows.
   * Stages that follow keep the rows and drop the chart.
   */
  readonly chart?: ChartSpec;
}

export interface Findings {
  readonly corrected: number;
  readonly uncorrected: number;
}

/** Which columns hold a chart's series name, x (step) and y (value). */
export interface ChartSpec {
  readonly title: string;
  readonly series: string;
  readonly x: string;
  readonly y: string;
}

export function table(columns: readonly Column[], rows: readonly (readonly Cell[])[]): ResultTable {
  return { columns, rows };
}

export const col = (name: string, type: ColumnType): Column => ({ name, type });

/** A LONG column of byte counts, shown human-readable in tables. */
export const bytesCol = (name: string): Column => ({ name, type: 'LONG', display: 'bytes' });
