/**
 * Slot map questions waiting on a node's connection. A refused connect
 * (nothing listens there, no route to it) is a definite answer: the question
 * fails at once and the next node is asked, instead of waiting out the
 * question's timeout while its command sits queued for a reconnect. A connect
 * timeout is not definite (the node may only be slow): it waits.
 */
import { ConnectError, ConnectTimeoutError } from '../../errors.js';

export class ConnectRefusals {
  /** Questions in progress, by the address they wait on; empty entries are dropped. */
  readonly #waiting = new Map<string, Set<(err: Error) => void>>();

  /** `refused` rejects when the connection to `address` is refused; call `stop` once the question is over. */
  watch(address: string): { refused: Promise<never>; stop(): void } {
    let fail: (err: Error) => void = () => {};
    const refused = new Promise<never>((_, reject) => (fail = reject));
    refused.catch(() => {}); // raced by the question; never left unobserved
    const set = this.#waiting.get(address) ?? new Set();
    this.#waiting.set(address, set);
    set.add(fail);
    const stop = () => {
      set.delete(fail);
      if (set.size === 0 && this.#waiting.get(address) === set) this.#waiting.delete(address);
    };
    return { refused, stop };
  }

  /** The connection to `address` failed (a node unit's 'error'). */
  failed(address: string, err: Error): void {
    if (!(err instanceof ConnectError) || err instanceof ConnectTimeoutError) return;
    for (const fail of this.#waiting.get(address) ?? []) fail(err);
  }
}
