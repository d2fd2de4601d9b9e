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

  constructor(private readonly commandTimeout: number) {}

  /** Send `cmd` again through `resend` after its next backoff; false when its deadline leaves no room (it fails with the refusal). */
  later(cmd: Command, resend: (cmd: Command) => void): boolean {
    const w = this.#waits.get(cmd) ?? { n: 0, until: tryAgainUntil(cmd, this.commandTimeout) };
    const delay = tryAgainDelay(w.n);
    if (Date.now() + delay >= w.until) return false;
    this.#waits.set(cmd, { n: w.n + 1, until: w.until });
    cmd.redirects = 0; // the ASK that led here was right: the slot is in flux, not the map wrong
    if (cmd.attempts > 0) cmd.attempts--; // it did not run
    cmd.state = QUEUED;
    setTimeout(() => {
      if (!cmd.settled) resend(cmd);
    }, delay).unref();
    return true;
  }
}
