/**
 * Temporary files and objects: what a write leaves while it runs, and what
 * it leaves behind when its process is killed (docs/reliability.md: a reader never sees
 * a partial object, so every write goes through one). Their names carry the
 * writer's host and process id, so `fsck` can tell the leftovers of a writer
 * that died from the work of one still running, even with grace=0.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/** What is known of the writer of a temporary: running, gone, or unknown (another host, or a name without a tag). */
export type WriterState = 'running' | 'gone' | 'unknown';

export interface TemporaryInfo {
  /** Where it is, relative to its store or serving base, '/'-separated. */
  readonly name: string;
  /** Bytes it holds (a directory: everything in it). */
  readonly size: number;
  /** Its last change (a directory: the newest change inside). */
  readonly modified: Date;
  readonly writer: WriterState;
}

/** This host, as 8 hex digits: a host name may hold characters a file name should not. */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** `<host>.<pid>.`: goes right after a temporary name's marker. */
export function writerTag(): string {
  return `${HOST}.${process.pid}.`;
}

/** A tag as writerTag writes it, after the marker (`.mlmodel-tmp-`, `.tmp-`). */
const TAG = /tmp-([0-9a-f]{8})\.(\d{1,10})\./;

/**
 * Whether the writer a temporary's name records is still running. Only a
 * writer on this host can be checked; a process id reused since the writer
 * died reads as running, which keeps the temporary (the safe mistake).
 */
export function writerState(name: string): WriterState {
  const m = TAG.exec(name);
  if (!m || m[1] !== HOST) return 'unknown';
  const pid = Number(m[2]);
  if (pid === process.pid) return 'running';
  try {
    process.kill(pid, 0);
    return 'running';
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'ESRCH' ? 'gone' : 'running';
  }
}
