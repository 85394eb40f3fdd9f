import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainedOrClosed } from '../../src/result/drain.js';
import type { Row, StreamedTable } from '../../src/result/table.js';
import { machineCell } from '../render/cells.js';

export const NDJSON = 'application/x-ndjson';

/** A client that asks for JSON Lines (`Accept: application/x-ndjson`) gets a query's rows as they are read. */
export function wantsNdjson(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').split(',').some((t) => t.split(';')[0]!.trim().toLowerCase() === NDJSON);
}

/**
 * A result as chunked JSON Lines, written as the store reads it, with the
 * connection's backpressure: `{"fields":[…]}`, then one line per row (its
 * cells as in `results`), then `{"status":{"current":N,"total":N},"isEnd":true}`.
 * The first page is read before the head goes out, so that a query failing
 * at once is answered with its own status; one failing later ends the text
 * with a line holding the error body (`errorLine`) and `"isEnd":false`.
 * Stops reading, and closes the stream, when the client goes away.
 */
export async function writeNdjson(res: ServerResponse, t: StreamedTable, errorLine: (e: unknown) => object): Promise<void> {
  const pages = t.pages;
  try {
    const first = await pages.next();
    res.writeHead(200, { 'Content-Type': `${NDJSON}; charset=utf-8`, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    let rows = 0;
    const write = async (text: string) => {
      if (res.destroyed) throw new ClientGone();
      if (!res.write(text)) await drainedOrClosed(res);
    };
    const lines = (page: readonly Row[]) => page.map((r) => JSON.stringify(r.map((v) => machineCell(v))) + '\n').join('');
    await write(JSON.stringify({ fields: t.columns.map((c) => ({ name: c.name, type: c.type, ...(c.typed ? { typed: c.typed } : {}) })) }) + '\n');
    try {
      if (!first.done) {
        rows += first.value.length;
        await write(lines(first.value));
        for await (const page of pages) {
          rows += page.length;
          await write(lines(page));
        }
      }
      res.end(JSON.stringify({ status: { current: rows, total: rows }, isEnd: true }) + '\n');
    } catch (e) {
      if (e instanceof ClientGone) return;
      if (!res.destroyed) res.end(JSON.stringify({ status: { current: rows, total: rows }, isEnd: false, ...errorLine(e) }) + '\n');
    }
  } finally {
    await t.close();
  }
}

class ClientGone extends Error {}
