import type { StreamedTable } from '../../src/result/table.js';
import type { Format } from '../args.js';
import { lineEnd, rowWriter, type RenderOptions } from './formats.js';
import { writeTableStream } from './table.js';

/** Writes text and resolves when more may follow: the output's backpressure (a pipe's reader, a pager, an HTTP client). */
export type WriteText = (text: string) => Promise<void>;

/**
 * A streamed result written as its pages come, in the text `render` gives
 * for the whole table followed by its line end — a page at a time, so that
 * memory holds one page whatever the result's length. JSON Lines of no rows
 * is no text at all, as with a whole table. The table format is drawn in
 * slices (table.ts writeTableStream). If reading fails, the rows before are
 * written and the error is thrown: the text then ends where the rows did
 * (a JSON document left open, so no reader takes it for the whole result).
 * Returns the number of rows written.
 */
export async function writeStreamed(t: StreamedTable, format: Format, opts: RenderOptions, write: WriteText): Promise<number> {
  if (format === 'table') {
    const n = await writeTableStream(t, opts, write);
    await write(lineEnd(format));
    return n;
  }
  const w = rowWriter(t.columns, format, opts);
  let rows = 0;
  // The start goes out at once: a CSV reader has its header before the first row is read.
  if (w.start !== '') await write(w.start);
  for await (const page of t.pages) {
    const text = page.map(w.row).join(w.between);
    await write((rows === 0 ? w.startSep : w.between) + text);
    rows += page.length;
  }
  if (rows === 0 && w.alwaysSep) await write(w.startSep);
  const tail = (rows > 0 || w.alwaysSep ? w.endSep : '') + w.end;
  if (rows > 0 || format !== 'jsonl') await write(tail + lineEnd(format));
  return rows;
}
