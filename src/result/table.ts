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
  /**
   * A name/value table shows every value as TEXT, as IRIS does (summary):
   * this holds each row's value in its own type and machine form (numbers
   * as numbers, times as ISO 8601 instants, tags as a list), keyed by the
   * row's `name`, so it still fits after where, sort or head. For front ends
   * that keep types (the notebook's DataFrame); text formats ignore it.
   */
  readonly typed?: Readonly<Record<string, TypedValue>>;
}

export interface TypedValue {
  readonly type: ColumnType;
  readonly value: JsonValue;
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

/** One row of cells. */
export type Row = readonly Cell[];

/**
 * A result whose rows come as the store reads them, a page at a time, for a
 * result too large to hold (`mlmodel list` of a million models): its
 * columns are known at once, its pages are read once, in order. Iterating
 * it gives the rows one by one; leaving the loop early (break, return, an
 * exception) closes what it reads from (a SQLite statement, a MongoDB
 * cursor), and so does `close()` for a stream never iterated to its end.
 * Only a runner asked for streams (`RunStatementsOptions.stream`) yields one:
 * every other front end gets whole ResultTables as before. It never carries
 * findings or a chart (no command that has them streams).
 */
export interface StreamedTable extends AsyncIterable<Row> {
  readonly columns: readonly Column[];
  /** The rows a page at a time (each page non-empty), for consumers that write in batches. */
  readonly pages: AsyncGenerator<readonly Row[], void, undefined>;
  /** Stops reading and frees the store's cursor; harmless after the end. */
  close(): Promise<void>;
}

/** What a statement may come to when the caller takes streams: a whole table or a streamed one. */
export type QueryResult = ResultTable | StreamedTable;

export function isStreamed(t: QueryResult): t is StreamedTable {
  return 'pages' in t;
}

/** A streamed table over pages from `pages` (a generator whose `finally` closes its cursor). */
export function streamedTable(columns: readonly Column[], pages: AsyncGenerator<readonly Row[], void, undefined>): StreamedTable {
  return {
    columns,
    pages,
    async *[Symbol.asyncIterator]() {
      for await (const page of pages) yield* page;
    },
    async close() {
      await pages.return(undefined);
    },
  };
}

/** A whole table as a stream of one page (a command that does not stream, asked for a stream). */
export function streamOf(t: ResultTable): StreamedTable {
  async function* one(): AsyncGenerator<readonly Row[], void, undefined> {
    if (t.rows.length > 0) yield t.rows;
  }
  return streamedTable(t.columns, one());
}

/** Reads a streamed table to its end, into a whole table (the REPL, a sort that needs every row). */
export async function collectTable(t: QueryResult): Promise<ResultTable> {
  if (!isStreamed(t)) return t;
  const rows: Row[] = [];
  for await (const page of t.pages) for (const r of page) rows.push(r);
  return { columns: t.columns, rows };
}
