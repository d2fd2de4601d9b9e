/**
 * Calls that could not reach their node and were never sent (a db.watch's
 * WATCH, a blocking command on a side connection) wait here for routing to
 * know better: Cluster until its next slot map refresh, Sentinel for a short
 * pause (each new lease asks the sentinels again). Every wait is bounded by
 * the call's budget since it first found its node unreachable, and the
 * client closing ends every wait at once, with ClosedError.
 */
import { ClosedError } from '../errors.js';

export class PlaceWaits {
  readonly #pending = new Set<() => void>();

  constructor(
    /** Whether the client closed (then a wait ends with ClosedError). */
    private readonly closed: () => boolean,
    /** Why, for that ClosedError: what the call waited for. */
    private readonly why: string,
  ) {}

  /**
   * Resolves true once `pause` ms passed or `wake()` settled, while
   * `since + budget` is still ahead; false once it is not (the call then
   * fails with its own error). `wake` is only called when there is time left.
   */
  wait(since: number, budget: number, pause: number, wake?: () => Promise<unknown>): Promise<boolean> {
    const left = () => since + budget - Date.now();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#pending.delete(done);
        if (this.closed()) reject(new ClosedError(`the client closed while the call waited for ${this.why}; it was never sent`));
        else resolve(left() > 0);
      };
      const timer = setTimeout(done, Math.max(0, Math.min(pause, left())));
      this.#pending.add(done);
      if (this.closed() || left() <= 0) done();
      else void wake?.().then(done);
    });
  }

  /** The client closed: every wait ends now. */
  endAll(): void {
    for (const done of [...this.#pending]) done();
  }
}
