/**
 * Giving commands up with the caller's `AbortSignal` (`db.with({ signal })`).
 *
 * An abort settles a command the way a deadline does (deadlines.ts), and the
 * same rules hold: a command never written is never sent (every place that
 * holds unwritten commands skips settled ones); a written one rejects at once
 * and keeps its FIFO slot until its reply arrives and is dropped (rule 1); a
 * blocking command on a leased connection is handed to its pool, which drains
 * the lease (CLIENT UNBLOCK, or waiting) before it is used again.
 *
 * One `abort` listener per signal and client while it has commands in
 * flight, not one per command: 100k commands on one signal add one listener
 * (EventTarget warns past 10), and a call without a signal does no work at
 * all. The listener is removed when the last of them settles (commands of a
 * signal view report their settlement: observed.ts; db.run's calls are
 * followed), so a long-lived signal never keeps a closed client, or settled
 * commands, alive (db.watch's own commands report too: transaction.ts).
 * Should a command ever fail to report, it is pruned as the set grows, so the
 * set holds at most about twice its live commands.
 */
import { AbortError } from '../errors.js';
import { failCommand, wasSent, type Command } from './command.js';

/** Smallest set size at which settled commands are pruned. */
const PRUNE_FLOOR = 64;

export type ReportUnobserved = (err: Error, cmd: Command) => void;

export class AbortWatch {
  private readonly live = new Set<Command>();
  private pruneAt = PRUNE_FLOOR;
  private listening = false;
  private readonly onAbort = () => this.fire();

  constructor(
    readonly signal: AbortSignal,
    private readonly report: ReportUnobserved,
  ) {}

  /**
   * Settle `cmd` now if the signal already fired (true: do not send it), else
   * watch it until it settles.
   */
  refuse(cmd: Command): boolean {
    if (this.signal.aborted) {
      abortCommand(cmd, this.signal.reason, this.report);
      return true;
    }
    if (!this.listening) {
      this.listening = true;
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.live.add(cmd);
    if (this.live.size >= this.pruneAt) this.prune();
    return false;
  }

  /**
   * Forget `cmd` once it settles, for a command that does not report that
   * itself (db.run's ScriptCommand is not an ObservedCommand): else it would
   * stay in the set, and the listener on the signal, until a prune.
   */
  follow(cmd: Command): void {
    const forget = () => this.settled(cmd);
    cmd.toPromise().then(forget, forget);
  }

  /** `cmd` settled: forget it; the last one removes the listener. */
  settled(cmd: Command): void {
    if (this.live.delete(cmd) && this.live.size === 0) this.detach();
  }

  private prune(): void {
    for (const cmd of this.live) if (cmd.settled) this.live.delete(cmd);
    this.pruneAt = Math.max(PRUNE_FLOOR, this.live.size * 2);
    if (this.live.size === 0) this.detach();
  }

  private detach(): void {
    if (!this.listening) return;
    this.listening = false;
    this.signal.removeEventListener('abort', this.onAbort);
  }

  private fire(): void {
    this.listening = false; // a once listener: gone now
    const reason = this.signal.reason;
    const cmds = [...this.live];
    this.live.clear();
    for (const cmd of cmds) abortCommand(cmd, reason, this.report);
  }
}

/** The node a command that may have run was written to (undefined while it was never written). */
export function sentTo(cmd: Command): string | undefined {
  return wasSent(cmd) ? cmd.writtenTo : undefined;
}

/** Give `cmd` up: its owner's hook (a blocking pool) if it has one, else reject it here. */
export function abortCommand(cmd: Command, reason: unknown, report: ReportUnobserved): void {
  if (cmd.settled) return;
  if (cmd.abortHook !== undefined) cmd.abortHook(reason);
  else failCommand(cmd, abortError(cmd.info.name, wasSent(cmd), sentTo(cmd), reason), report);
}

export function abortError(command: string, sent: boolean, node: string | undefined, reason: unknown): AbortError {
  const message = sent
    ? 'aborted by its signal after it was sent; it may have run (its reply is dropped)'
    : 'aborted by its signal before it was sent; it was never sent';
  return new AbortError(message, sent, { command, node, cause: reason });
}
