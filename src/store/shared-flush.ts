/**
 * A flush that callers share: one runs at a time; a request made while it
 * runs may come after the change the running one missed, so it waits for the
 * next one, which starts when the running one ends and serves every request
 * made meanwhile. Each request is served by a flush that began after it.
 */
export class SharedFlush {
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly idle: () => void,
  ) {}

  request(): Promise<void> {
    if (this.#running === null) return this.#start();
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = null;
        return this.#start();
      });
    return this.#queued;
  }

  #start(): Promise<void> {
    const p = this.run().finally(() => {
      if (this.#running !== p) return;
      this.#running = null;
      if (this.#queued === null) this.idle();
    });
    this.#running = p;
    return p;
  }
}
