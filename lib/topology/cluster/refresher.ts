/**
 * Single-flight refresh of the cluster's slot map. However many reasons to
 * refresh arrive at once (a burst of MOVED replies, several nodes lost), one
 * query is in flight at a time; a reason that arrives during a query asks for
 * exactly one more after it (the answer in flight may predate the change).
 * Refreshes are spaced by at least `minInterval` ms, so a cluster in the
 * middle of a failover is not hammered, and `every` ms one happens anyway.
 * The IO (which node to ask, how) is injected: this file only schedules.
 */
export interface RefreshIo<T> {
  /** Ask the cluster for its current map. */
  query(): Promise<T>;
  /** A map was obtained (maybe equal to the current one). */
  apply(map: T): void;
  /** A query failed (every node refused or timed out); another is scheduled. Never told after stop(). */
  failed(err: Error): void;
}

/** Consecutive failed queries after which the refresher waits for the next reason. */
const MAX_FAILURES = 10;

export class Refresher<T> {
  #running: Promise<void> | undefined;
  #again = false;
  #lastStart = 0;
  #timer: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly io: RefreshIo<T>,
    private readonly minInterval: number,
    every: number,
  ) {
    if (every > 0) {
      this.#periodic = setInterval(() => this.soon(), every);
      this.#periodic.unref();
    }
  }

  /** Refresh as soon as the spacing allows; resolves when a refresh that started after this call has ended. */
  refresh(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true; // the loop below runs once more before it settles
      return this.#running;
    }
    const wait = Math.max(0, this.#lastStart + this.minInterval - Date.now());
    this.#running = new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, wait);
    }).then(() => this.#run());
    return this.#running;
  }

  /** Ask for a refresh without waiting for it. */
  soon(): void {
    void this.refresh();
  }

  /** Whether a refresh is running or scheduled. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#periodic) clearInterval(this.#periodic);
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.(); // a loop asleep between tries ends now, and whoever awaits it
  }

  async #run(): Promise<void> {
    let failures = 0;
    for (;;) {
      if (this.#stopped) break;
      this.#again = false;
      this.#lastStart = Date.now();
      try {
        this.io.apply(await this.io.query());
        failures = 0;
      } catch (err) {
        // Stopped while it was asked (close() settled its questions, or a node failed while
        // the client was closing): the map would route nothing, its failure is nobody's news.
        if (this.#stopped) break;
        this.io.failed(err as Error);
        // Unreachable or changing: try again after the spacing, a bounded number
        // of times (the next reason to refresh, or the periodic one, starts over).
        if (++failures < MAX_FAILURES) this.#again = true;
      }
      if (!this.#again || this.#stopped) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.minInterval);
        this.#timer.unref();
      });
      this.#wake = undefined;
    }
    this.#running = undefined;
  }
}
