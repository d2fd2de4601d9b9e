/**
 * Waiting for a cluster's first slot map. Until it is in, no command can be
 * routed (a guessed node would answer MOVED, a block EXECABORT), so commands,
 * transactions, leases and SCAN wait for it, each within its own bound.
 *
 * A wait that runs out says what the refreshes met meanwhile (a node
 * refusing CLUSTER SHARDS to this ACL user, nothing listening at the seeds)
 * and names the command that waited: "no seed answered" alone left the user
 * guessing which call failed and why.
 */
import { ClosedError, ConnectError } from '../../errors.js';

export class FirstMap {
  #ready = false;
  #closed = false;
  /** Why the last query for a slot map failed, while none has come in. */
  #lastFailure: Error | undefined;
  readonly #waiting = new Set<(closed: boolean) => void>();

  /** `ask`: start a refresh (single-flight) for a newcomer who waits. */
  constructor(private readonly ask: () => void) {}

  get ready(): boolean {
    return this.#ready;
  }

  /** A query for the slot map failed: kept as the reason given to waits that run out. */
  failed(err: Error): void {
    if (!this.#ready) this.#lastFailure = err;
  }

  /**
   * Resolves once the first slot map is in; rejects after `within` ms without
   * one (the waiting call's deadline), naming `command`, or when the client closes.
   */
  wait(within: number, command?: string): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#closed) return Promise.reject(new ClosedError('the client is closed', { command }));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(done);
        const why = this.#lastFailure;
        const detail = why === undefined ? 'no seed answered CLUSTER SHARDS' : why.message;
        reject(new ConnectError(`no cluster slot map within ${within} ms (${detail}); it was never sent`, { command, cause: why }));
      }, within);
      timer.unref();
      const done = (closed: boolean) => {
        clearTimeout(timer);
        if (closed) reject(new ClosedError('the client closed before the cluster topology was known; it was never sent', { command }));
        else resolve();
      };
      this.#waiting.add(done);
      this.ask();
    });
  }

  /** The first slot map is in: every wait resolves. */
  arrived(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.#lastFailure = undefined;
    for (const done of this.#waiting) done(false);
    this.#waiting.clear();
  }

  /** The client closed: every wait rejects (nothing was sent), and later ones at once. */
  end(): void {
    this.#closed = true;
    for (const done of this.#waiting) done(true);
    this.#waiting.clear();
  }
}
