/**
 * A subscriber's calls waiting for routing to be able to place them: a
 * cluster client before its first slot map, which would otherwise send a
 * shard channel to a guessed seed and pin channels to a seed the map may
 * name otherwise. Routing says how long (`ready`, bounded by the call's
 * deadline); this keeps the calls in the order they were made (an
 * unsubscribe made while a subscribe waits comes after it, also when the
 * map came in between) and ends them at once when their subscriber closes.
 */
import { ClosedError } from '../errors.js';

interface Waiting {
  command: string;
  stop(err: Error): void;
}

export class Placement {
  readonly #waiting = new Set<Waiting>();
  /** The last call still waiting: a call made now goes after it. */
  #tail: Promise<void> | undefined;

  /**
   * Undefined when routing can place the call now and no earlier call waits
   * (the common case: nothing to await). Else resolves once `ready` did and
   * every earlier call went on; rejects with `ready`'s failure (its deadline
   * ran out, the client closed), or with ClosedError from end().
   */
  wait(ready: Promise<void> | undefined, command: string): Promise<void> | undefined {
    const before = this.#tail;
    if (ready === undefined && before === undefined) return undefined;
    const call = new Promise<void>((resolve, reject) => {
      const waiting: Waiting = {
        command,
        stop: (err) => {
          this.#waiting.delete(waiting);
          reject(err);
        },
      };
      this.#waiting.add(waiting);
      // Its own wait failing fails it at once; an earlier call failing is no reason for this one to (`before` never rejects).
      Promise.all([ready, before]).then(() => {
        if (!this.#waiting.delete(waiting)) return; // ended meanwhile
        resolve();
      }, waiting.stop);
    });
    const tail = call.then(() => {}, () => {});
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return call;
  }

  /** The subscriber closed: calls still waiting reject with ClosedError at once (nothing was sent for them). */
  end(): void {
    for (const w of [...this.#waiting]) w.stop(new ClosedError('the subscriber was closed while the call waited for the cluster slot map; nothing was subscribed', { command: w.command }));
  }
}
