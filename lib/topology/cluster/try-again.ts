/**
 * Waiting out TRYAGAIN (a multi-key command on a slot being migrated) and
 * CLUSTERDOWN (a failover in progress): the command did not run, so it is
 * sent again after a backoff (settings.ts tryAgainDelay), within its deadline
 * (a blocking one: its own block timeout). Each command counts its own waits:
 * waiting out a migration is not a redirection.
 */
import { QUEUED, type Command } from '../../connection/command.js';
import { tryAgainDelay, tryAgainUntil } from './settings.js';

export class TryAgainWaits {
  /** Waits so far, and until when, per command. */
  readonly #waits = new WeakMap<Command, { n: number; until: number }>();
  /** The commands waiting now, with their timers: the client's close() or disconnect() ends them (endAll). */
  readonly #pending = new Map<Command, NodeJS.Timeout>();

  constructor(
    private readonly commandTimeout: number,
    /** Route a command again once its backoff is over. */
    private readonly resend: (cmd: Command) => void,
  ) {}

  /** Send `cmd` again after its next backoff; false when its deadline leaves no room (it fails with the refusal). */
  later(cmd: Command): boolean {
    const w = this.#waits.get(cmd) ?? { n: 0, until: tryAgainUntil(cmd, this.commandTimeout) };
    const delay = tryAgainDelay(w.n);
    if (Date.now() + delay >= w.until) return false;
    this.#waits.set(cmd, { n: w.n + 1, until: w.until });
    cmd.redirects = 0; // the ASK that led here was right: the slot is in flux, not the map wrong
    if (cmd.attempts > 0) cmd.attempts--; // it did not run
    cmd.state = QUEUED;
    // Unref'd: an open client's sockets keep the process alive; a closed one ends the wait itself (endAll).
    const timer = setTimeout(() => {
      this.#pending.delete(cmd);
      if (!cmd.settled) this.resend(cmd);
    }, delay).unref();
    this.#pending.set(cmd, timer);
    return true;
  }

  /**
   * The client closed: every command still waiting fails now with `fail`
   * (it never ran), not when its timer would have fired; an unref'd timer
   * alone would let the process exit with the caller's await unsettled.
   */
  endAll(fail: (cmd: Command) => void): void {
    const waiting = [...this.#pending];
    this.#pending.clear();
    for (const [cmd, timer] of waiting) {
      clearTimeout(timer);
      if (!cmd.settled) fail(cmd);
    }
  }
}
