import { randomBytes } from 'node:crypto';
import type { Progress } from '../../src/engine/context.js';
import { HttpError } from './errors.js';
import type { HeldResult } from './results.js';

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
  result: HeldResult | null;
  error: HttpError | null;
  finished: number | null;
  readonly abort: AbortController;
}

export interface JobLimits {
  /** Jobs kept at once, all users together; past it a new job is refused, never another user's result dropped. */
  readonly maxJobs: number;
  /** Jobs one user keeps at once; that user's oldest finished job makes room for a new one. */
  readonly maxJobsPerUser: number;
  /** How long a finished job's result stays readable. */
  readonly ttlMs: number;
}

/**
 * The jobs the server holds. Bounded in number and in time: a finished job
 * expires `ttlMs` after it finished. Slots are per user: a user past
 * `maxJobsPerUser`, or a full table, makes room only by dropping that same
 * user's oldest finished job, so one user's jobs never cut short the
 * promised lifetime of another's result; with none to drop, a new job is
 * refused (429). A job is visible only to the user who owns it. `forget` is
 * told of every job dropped, so its result's memory or file is freed.
 */
export class JobTable {
  readonly #jobs = new Map<string, Job>();
  readonly #limits: JobLimits;
  readonly #now: () => number;
  readonly #forget: (job: Job) => void;

  constructor(limits: JobLimits, forget: (job: Job) => void = () => undefined, now: () => number = Date.now) {
    this.#limits = limits;
    this.#forget = forget;
    this.#now = now;
  }

  get size(): number {
    return this.#jobs.size;
  }

  create(user: string, query: string, size: number | null): Job {
    this.sweep();
    const mine = [...this.#jobs.values()].filter((j) => j.user === user);
    const full = mine.length >= this.#limits.maxJobsPerUser || this.#jobs.size >= this.#limits.maxJobs;
    if (full) {
      let oldest: Job | undefined;
      for (const j of mine) if (j.state !== 'running' && (!oldest || j.finished! < oldest.finished!)) oldest = j;
      if (!oldest) {
        const why =
          mine.length >= this.#limits.maxJobsPerUser
            ? `${user} has ${mine.length} jobs running (at most ${this.#limits.maxJobsPerUser} per user); try again when one has finished`
            : `the server holds ${this.#jobs.size} jobs (at most ${this.#limits.maxJobs}); try again shortly`;
        throw new HttpError(429, 'TOO_MANY_QUERIES', why, {}, { 'Retry-After': '1' });
      }
      this.#drop(oldest);
    }
    const job: Job = {
      sid: randomBytes(16).toString('hex'),
      user,
      query,
      size,
      created: this.#now(),
      state: 'running',
      progress: null,
      result: null,
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

  /** Records a job's outcome; false when the job was dropped meanwhile (its result is then the caller's to free). */
  finish(job: Job, outcome: { result: HeldResult } | { error: HttpError }): boolean {
    if ('result' in outcome) {
      job.result = outcome.result;
      job.state = 'done';
    } else {
      job.error = outcome.error;
      job.state = 'failed';
    }
    job.finished = this.#now();
    return this.#jobs.get(job.sid) === job;
  }

  /** Cancels a running job and forgets it. */
  delete(job: Job): boolean {
    const wasRunning = job.state === 'running';
    if (wasRunning) job.abort.abort(new Error('deleted'));
    this.#drop(job);
    return wasRunning;
  }

  sweep(): void {
    const now = this.#now();
    for (const j of this.#jobs.values()) {
      if (j.finished !== null && now - j.finished > this.#limits.ttlMs) this.#drop(j);
    }
  }

  /** Cancels every running job and forgets every job (server shutdown). */
  abortAll(): void {
    for (const j of this.#jobs.values()) {
      if (j.state === 'running') j.abort.abort(new Error('server stopping'));
      this.#drop(j);
    }
  }

  #drop(job: Job): void {
    if (this.#jobs.delete(job.sid)) this.#forget(job);
  }
}
