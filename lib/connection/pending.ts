/**
 * `Pending`: what `db.command()` hands the caller. A thenable over the
 * connection's command entry, and nothing more: the entry itself (its state,
 * its resolve/reject, its deadline) stays out of reach, so no caller can
 * settle, forge or re-time another's command. The entry sits in a private
 * field, the way undici keeps its internals off public objects.
 *
 * No Promise exists until someone calls `then`, so a fire-and-forget command
 * that fails is reported by its owner ('commandError'), never an unhandled
 * rejection.
 */
import type { Command } from './command.js';

export class Pending<T = unknown> implements PromiseLike<T> {
  readonly #entry: Command<T>;

  /** @internal made by the client for each command; not for users to construct. */
  constructor(entry: Command<T>) {
    this.#entry = entry;
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: Error) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#entry.toPromise().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: Error) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#entry.toPromise().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#entry.toPromise().finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return 'Pending';
  }
}
