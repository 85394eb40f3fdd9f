import { setImmediate as nextTurn } from 'node:timers/promises';
import { MlmodelError } from '../errors.js';

/**
 * In-memory stages run on the event loop, and a long one (a `where` over a
 * few hundred thousand rows, a sort of as many) would keep every timer and
 * signal handler waiting: query_timeout, Ctrl-C and SIGTERM could not fire.
 * A Pacer gives the loop a turn whenever SLICE_MS of work has gone by and
 * then throws CANCELLED if the query's signal fired, so cancellation takes
 * effect within about a slice. A small table never waits: checking the
 * clock costs one call per CHECK_EVERY steps.
 */
const SLICE_MS = 25;
/** Units of work between looks at the clock; a step may weigh several (see due). */
const CHECK_EVERY = 64;

export const EVERY_TIME = CHECK_EVERY;

export class Pacer {
  private steps = 0;
  private since = performance.now();

  constructor(private readonly signal: AbortSignal | undefined) {}

  /**
   * Counts `weight` units of work: true when the loop is due a turn.
   * Synchronous, so that the common case costs no promise: `if (p.due())
   * await p.pause()`. A unit is about one comparison of a sort; a row a
   * condition is tested on weighs a whole check (its cost has no bound
   * worth counting on: hundreds of `or`ed patterns are a few milliseconds).
   */
  due(weight = 1): boolean {
    this.steps += weight;
    if (this.steps < CHECK_EVERY) return false;
    this.steps = 0;
    return performance.now() - this.since >= SLICE_MS;
  }

  /** Gives the event loop a turn, then throws CANCELLED if the signal fired meanwhile. */
  async pause(): Promise<void> {
    await nextTurn();
    this.since = performance.now();
    this.check();
  }

  /** Throws CANCELLED if the signal has fired. */
  check(): void {
    if (this.signal?.aborted) throw new MlmodelError('CANCELLED', 'the query was cancelled');
  }
}
