import { randomBytes } from 'node:crypto';
import type { Progress } from '../../src/engine/context.js';
import type { ResultTable } from '../../src/result/table.js';
import { HttpError } from './errors.js';

export type JobState = 'running' | 'done' | 'failed';

/** One query submitted with `POST /query/jobs`, owned by the user who submitted it. */
export interface Job {
  readonly sid: string;
  readonly user: string;
  readonly query: string;
  /** Rows per page when the job is read without `limit` (IRIS's `size`); null: all rows. */
  readonly size: number | null;
  readonly created: number;
  state: JobState;
  progress: Progress | null;
  table: ResultTable | null;
  error: HttpError | null;
  finished: number | null;
  readonly abort: AbortController;
}

export interface JobLimits {
  /** Jobs kept at once, running or finished; a finished job is dropped first to make room. */
  readonly maxJobs: number;
  /** How long a finished job's result stays readable. */
  readonly ttlMs: number;
}

/**
 * The jobs the server holds in memory. Bounded in number and in time: a
 * finished job expires `ttlMs` after it finished, and when the table is full
 * the oldest finished job makes room; when every slot holds a running job a
 * new one is refused (429). A job is visible only to the user who owns it.
 */
export class JobTable {
  readonly #jobs = new Map<string, Job>();
  readonly #limits: JobLimits;
  readonly #now: () => number;

  constructor(limits: JobLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#jobs.size;
  }

  create(user: string, query: string, size: number | null): Job {
    this.sweep();
    if (this.#jobs.size >= this.#limits.maxJobs) {
      let oldest: Job | undefined;
      for (const j of this.#jobs.values()) {
        if (j.state !== 'running' && (!oldest || (j.finished ?? 0) < (oldest.finished ?? 0))) oldest = j;
      }
      if (!oldest) {
        throw new HttpError(429, 'TOO_MANY_QUERIES', `${this.#limits.maxJobs} jobs are running; try again when one has finished`, {}, { 'Retry-After': '1' });
      }
      this.#jobs.delete(oldest.sid);
    }
    const job: Job = {
      sid: randomBytes(16).toString('hex'),
      user,
      query,
      size,
      created: this.#now(),
      state: 'running',
      progress: null,
      table: null,
      error: null,
      finished: null,
      abort: new AbortController(),
    };
    this.#jobs.set(job.sid, job);
    return job;
  }

  /** The job, if it exists, has not expired, and belongs to `user`; another user's job is reported as not found. */
  get(sid: string, user: string): Job {
    this.sweep();
    const job = this.#jobs.get(sid);
    if (!job || job.user !== user) throw new HttpError(404, 'JOB_NOT_FOUND', `no job ${sid}: it never existed, expired or was deleted`, { sid });
    return job;
  }

  finish(job: Job, outcome: { table: ResultTable } | { error: HttpError }): void {
    if ('table' in outcome) {
      job.table = outcome.table;
      job.state = 'done';
    } else {
      job.error = outcome.error;
      job.state = 'failed';
    }
    job.finished = this.#now();
  }

  /** Cancels a running job and forgets it. */
  delete(job: Job): boolean {
    const wasRunning = job.state === 'running';
    if (wasRunning) job.abort.abort(new Error('deleted'));
    this.#jobs.delete(job.sid);
    return wasRunning;
  }

  sweep(): void {
    const now = this.#now();
    for (const [sid, j] of this.#jobs) {
      if (j.finished !== null && now - j.finished > this.#limits.ttlMs) this.#jobs.delete(sid);
    }
  }

  /** Cancels every running job (server shutdown). */
  abortAll(): void {
    for (const j of this.#jobs.values()) if (j.state === 'running') j.abort.abort(new Error('server stopping'));
  }
}
