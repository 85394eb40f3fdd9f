import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Cell, Column, ResultTable } from '../../src/result/table.js';
import { HttpError } from './errors.js';

/** A finished job's result, in memory or in a file, read a page at a time. */
export interface HeldResult {
  readonly columns: readonly Column[];
  readonly total: number;
  /** Estimated bytes it takes in memory, or the file's size once spilled. */
  readonly bytes: number;
  /** The spill file, or null while in memory. */
  readonly file: string | null;
  /** Rows `offset` … `offset + limit` (limit null: to the end). */
  page(offset: number, limit: number | null): Promise<readonly (readonly Cell[])[]>;
  /** The whole table again (a download). */
  table(): Promise<ResultTable>;
}

export interface ResultLimits {
  /** Bytes of results held in memory, all jobs together; past it a result goes to disk. */
  readonly memoryBytes: number;
  /** The largest result held in memory; a larger one goes to disk at once. */
  readonly inlineBytes: number;
  /** Bytes of spill files one user may have at once; past it the job fails with 507 RESULT_TOO_LARGE. */
  readonly diskBytesPerUser: number;
}

/** Rows between two remembered file offsets: a page read starts at most this many rows early. */
const STRIDE = 256;
/** Rows encoded between two yields to the event loop, so that a spill never holds up other requests. */
const CHUNK = 1_000;

/**
 * Where finished results live. Memory is bounded whatever the jobs: a result
 * stays in memory only while it is small and the total held stays under
 * `memoryBytes`; anything else is written to a file of its own (mode 0600,
 * in a directory of this server's, mode 0700) and read back a page at a
 * time. Files go when their job is forgotten and the directory when the
 * server closes; a directory left by a server that died is removed by the
 * next one that starts.
 */
export class ResultStore {
  readonly #dir: string;
  readonly #limits: ResultLimits;
  #inMemory = 0;
  readonly #diskByUser = new Map<string, number>();
  #made = false;

  /** `parent` holds one directory per running server, `results-<pid>-<random>`. */
  constructor(parent: string, limits: ResultLimits) {
    this.#dir = join(parent, `results-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.#limits = limits;
    removeAbandoned(parent);
  }

  get inMemoryBytes(): number {
    return this.#inMemory;
  }

  diskBytes(user: string): number {
    return this.#diskByUser.get(user) ?? 0;
  }

  /** Takes a finished job's table: kept in memory if it fits, else written to disk (or refused past the user's disk share). */
  async keep(user: string, table: ResultTable, signal?: AbortSignal): Promise<HeldResult> {
    const estimate = estimateBytes(table, this.#limits.inlineBytes);
    if (estimate <= this.#limits.inlineBytes && this.#inMemory + estimate <= this.#limits.memoryBytes) {
      this.#inMemory += estimate;
      return memoryResult(table, estimate);
    }
    return this.#spill(user, table, signal);
  }

  /** Frees what a result holds: its share of memory, or its file (at once, so that a deleted job's file is gone when DELETE answers). */
  release(user: string, held: HeldResult): void {
    if (held.file === null) {
      this.#inMemory -= held.bytes;
      return;
    }
    this.#diskByUser.set(user, this.diskBytes(user) - held.bytes);
    rmSync(held.file, { force: true });
  }

  /** Removes every spill file (server shutdown). */
  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
    this.#diskByUser.clear();
  }

  async #spill(user: string, table: ResultTable, signal?: AbortSignal): Promise<HeldResult> {
    if (!this.#made) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      this.#made = true;
    }
    const file = join(this.#dir, `${randomBytes(16).toString('hex')}.jsonl`);
    const fh = await open(file, 'wx', 0o600);
    const offsets: number[] = [];
    let written = 0;
    const share = this.#limits.diskBytesPerUser;
    // The user's share is taken as the file grows, so two spills at once cannot both pass the check.
    const take = (n: number) => {
      const used = this.diskBytes(user);
      if (used + n > share) {
        throw new HttpError(507, 'RESULT_TOO_LARGE', `the result does not fit in the ${share} bytes of disk each user's job results may take (${used} in use); read or delete earlier jobs, or narrow the query`, {
          limit: share,
        });
      }
      this.#diskByUser.set(user, used + n);
    };
    try {
      for (let start = 0; start < table.rows.length; start += CHUNK) {
        signal?.throwIfAborted();
        const lines: string[] = [];
        let at = written;
        for (const row of table.rows.slice(start, start + CHUNK)) {
          const i = start + lines.length;
          if (i % STRIDE === 0) offsets.push(at);
          const line = JSON.stringify(row.map(encodeCell)) + '\n';
          at += Buffer.byteLength(line);
          lines.push(line);
        }
        const chunk = Buffer.from(lines.join(''));
        take(chunk.length);
        written += chunk.length;
        await fh.write(chunk);
        await new Promise((r) => setImmediate(r));
      }
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(file).catch(() => undefined);
      this.#diskByUser.set(user, this.diskBytes(user) - written);
      throw e;
    }
    return fileResult(file, table.columns, table.rows.length, written, offsets);
  }
}

function memoryResult(table: ResultTable, bytes: number): HeldResult {
  return {
    columns: table.columns,
    total: table.rows.length,
    bytes,
    file: null,
    page: (offset, limit) => Promise.resolve(table.rows.slice(offset, limit === null ? undefined : offset + limit)),
    table: () => Promise.resolve(table),
  };
}

function fileResult(file: string, columns: readonly Column[], total: number, bytes: number, offsets: readonly number[]): HeldResult {
  const read = async (offset: number, limit: number | null): Promise<(readonly Cell[])[]> => {
    const end = limit === null ? total : Math.min(total, offset + limit);
    if (offset >= end) return [];
    const first = Math.floor(offset / STRIDE);
    const rows: (readonly Cell[])[] = [];
    const stream = createReadStream(file, { start: offsets[first]!, highWaterMark: 64 * 1024 });
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let i = first * STRIDE;
    try {
      for await (const line of lines) {
        if (i >= offset) rows.push((JSON.parse(line) as unknown[]).map(decodeCell));
        if (++i >= end) break;
      }
    } catch (e) {
      // The job was deleted or expired between being found and its file being opened.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, 'JOB_NOT_FOUND', 'the job was deleted or expired while it was being read');
      throw e;
    } finally {
      lines.close();
      stream.destroy();
    }
    return rows;
  };
  return { columns, total, bytes, file, page: read, table: async () => ({ columns, rows: await read(0, null) }) };
}

/**
 * A cell as JSON without loss: times, non-finite numbers and -0, and JSON values
 * are tagged (`{"d": ms}`, `{"n": "NaN"}`, `{"j": value}`) so that reading
 * them back gives the cells the renderers were given in memory.
 */
function encodeCell(c: Cell): unknown {
  if (c instanceof Date) return { d: c.getTime() };
  if (typeof c === 'number' && (!Number.isFinite(c) || Object.is(c, -0))) return { n: Object.is(c, -0) ? '-0' : String(c) };
  if (c !== null && typeof c === 'object') return { j: c };
  return c ?? null;
}

function decodeCell(v: unknown): Cell {
  if (v === null || typeof v !== 'object') return v as Cell;
  const o = v as { d?: number; n?: string; j?: Cell };
  if (o.d !== undefined) return new Date(o.d ?? NaN);
  if (o.n !== undefined) return Number(o.n);
  return o.j ?? null;
}

/** Roughly what a table takes in memory (strings as UTF-16, boxed values); stops counting once past `stopAt`. */
function estimateBytes(table: ResultTable, stopAt: number): number {
  let bytes = 256 + table.columns.length * 64;
  for (const row of table.rows) {
    bytes += 32 + row.length * 8;
    for (const c of row) {
      if (typeof c === 'string') bytes += 24 + c.length * 2;
      else if (c instanceof Date) bytes += 48;
      else if (c !== null && typeof c === 'object') bytes += 24 + JSON.stringify(c).length * 2;
    }
    if (bytes > stopAt) return bytes;
  }
  return bytes;
}

/** Spill directories of servers that are no longer running (killed before they could clean up). */
function removeAbandoned(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^results-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
