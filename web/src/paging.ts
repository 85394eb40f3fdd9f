/**
 * Server-side paging of the model list through the query language itself:
 * each page is one `mlmodel list | where … | sort … | head N` that the
 * metadata store runs pushed down (docs/commands/list.md), continuing after
 * the last row shown (keyset paging) rather than counting past earlier pages,
 * so page 20,000 of a 1,000,000-model registry costs what page 1 does.
 *
 * Text and number keys continue after (value, id), rows without a value
 * included where they sort. Times compare at one-second
 * resolution in the language, so a time key continues from the last row's
 * second and skips the rows of that second already shown.
 */
export const LIST_COLUMNS = ['id', 'name', 'user', 'type', 'category', 'algorithm', 'serving', 'create', 'modified'] as const;
export type ListColumn = (typeof LIST_COLUMNS)[number];
const TIMES: ReadonlySet<string> = new Set(['create', 'modified']);

export interface Sort {
  readonly column: ListColumn;
  readonly descending: boolean;
}

/** Where the next page starts: the last row's key and id, and for times how many rows of its second were shown. */
export interface Cursor {
  readonly value: unknown;
  readonly id: number;
  readonly skip: number;
}

/** The language's quoting of a text value (grammar/printer.ts quote). */
export function quote(text: string): string {
  return `'${text.replace(/[\\'\n\r\t\0]/g, (ch) => ({ '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' })[ch]!)}'`;
}

/** The search box's text as a condition: a leading `where` is optional. */
export function condition(search: string): string {
  return search.trim().replace(/^where\s+/i, '').trim();
}

/** 2026-11-23T13:57:37+00:00 (the API's time, in the server's offset) → 20261123135737 (the language's, in the server's local time). */
export function stamp(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(iso);
  if (!m) throw new Error(`not a time: ${iso}`);
  return m.slice(1).join('');
}

function literal(v: unknown): string {
  return typeof v === 'number' ? String(v) : quote(String(v));
}

/**
 * The rows after (value, id) in the order of a text or number column. No
 * value (null, a missing field) sorts first ascending and last descending,
 * and never compares with a value: `COL like '%'` holds exactly when there is one.
 */
function after(col: string, cursor: Cursor, descending: boolean): string {
  const has = `${col} like '%'`;
  const none = `${col} not like '%'`;
  const gt = descending ? '<' : '>';
  if (cursor.value === null || cursor.value === undefined) {
    return descending ? `(${none} and id < ${cursor.id})` : `((${none} and id > ${cursor.id}) or ${has})`;
  }
  const v = literal(cursor.value);
  const same = `(${col} ${gt} ${v} or (${col} = ${v} and id ${gt} ${cursor.id}))`;
  return descending ? `(${same} or ${none})` : same;
}

/** The query for one page of `size` rows (one more is asked for, to know whether another page follows). */
export function pageQuery(search: string, sort: Sort, cursor: Cursor | null, size: number): { q: string; skip: number } {
  const conds: string[] = [];
  const c = condition(search);
  if (c !== '') conds.push(`(${c})`);
  const col = sort.column;
  const gt = sort.descending ? '<' : '>';
  let skip = 0;
  if (cursor !== null) {
    if (col === 'id') conds.push(`id ${gt} ${cursor.id}`);
    else if (TIMES.has(col)) {
      conds.push(`${col} ${gt}= ${stamp(String(cursor.value))}`);
      skip = cursor.skip;
    } else conds.push(after(col, cursor, sort.descending));
  }
  const dir = sort.descending ? '-' : '';
  const keys = col === 'id' ? `${dir}id` : `${dir}${col}, ${dir}id`;
  const where = conds.length > 0 ? ` | where ${conds.join(' and ')}` : '';
  return { q: `mlmodel list${where} | sort ${keys} | head ${skip + size + 1}`, skip };
}

/** The cursor after a page whose rows (id first, the sort key at `keyIndex`) were shown. */
export function nextCursor(rows: readonly (readonly unknown[])[], idIndex: number, keyIndex: number, sort: Sort, previous: Cursor | null): Cursor | null {
  const last = rows.at(-1);
  if (last === undefined) return null;
  const value = last[keyIndex];
  let skip = 0;
  if (TIMES.has(sort.column)) {
    const s = stamp(String(value));
    skip = rows.filter((r) => stamp(String(r[keyIndex])) === s).length;
    if (previous !== null && stamp(String(previous.value)) === s) skip += previous.skip;
  }
  return { value, id: Number(last[idIndex]), skip };
}
