/**
 * Deadlines without a timer per command (node-redis loses 3-4x of its
 * throughput to one AbortSignal.timeout() per command). Each command carries
 * an absolute deadline; one timer per connection, armed for the earliest
 * deadline that matters, sweeps the FIFO heads.
 *
 * Default deadlines grow in FIFO order, so a sweep only walks the heads of the
 * in-flight and queued FIFOs until the first command still in time. Per-call
 * (custom) deadlines can be out of order: they live in a small set scanned whole.
 */
import { ConnectionLostError, ReplyTimeoutError } from '../errors.js';
import { SETTLED, wasSent, type Command } from './command.js';

/** What the sweep needs of a FIFO. */
interface Fifo {
  readonly length: number;
  peekAt(i: number): Command | undefined;
  peekFront(): Command | undefined;
}

export interface DeadlineEvents {
  /** The command's deadline passed; `sent` tells whether it had been written. */
  expire(cmd: Command, sent: boolean): void;
  /** The oldest written command is overdue past the grace: the connection is presumed half-open. */
  stale(): void;
}

export class Deadlines {
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (valid while `timer` is set). */
  private timerAt = 0;
  private readonly custom = new Set<Command>();
  /** `custom`'s size at which settled entries are swept out before the next add (amortised: doubles with what is live). */
  private pruneAt = 64;
  /** Extra ms every deadline is given while the server says it is under maintenance (maintenance.ts). */
  private slack = 0;

  constructor(
    private readonly inflight: Fifo,
    private readonly queue: Fifo,
    private readonly events: DeadlineEvents,
    private readonly staleGrace: number,
  ) {}

  /**
   * Give `cmd` a deadline `timeout` ms from now. The clock is read for every
   * command: a deadline counts from the call, even after a long synchronous
   * turn. The timer is re-armed whenever this deadline comes before the one it
   * is armed for, so a later deadline never hides an earlier one.
   */
  set(cmd: Command, timeout: number, custom: boolean): void {
    const at = Date.now() + timeout;
    cmd.deadline = at;
    if (custom) {
      cmd.customDeadline = true;
      // Commands settled without a reply (aborted while queued, given up with a connection) never call done():
      // sweep them out now and then, so the set follows what is live, not rate x timeout.
      if (this.custom.size >= this.pruneAt) this.prune();
      this.custom.add(cmd);
    }
    if (this.timer === undefined || at < this.timerAt) this.arm(at);
  }

  /** The command got its reply: forget a custom deadline. */
  done(cmd: Command): void {
    if (cmd.customDeadline) this.custom.delete(cmd);
  }

  /** Give every deadline `ms` more (0: back to the deadlines as set), for those set before and after. */
  relax(ms: number): void {
    this.slack = ms;
    if (this.timer !== undefined) this.arm(Date.now()); // a sweep re-arms for the deadlines as they now are
  }

  private prune(): void {
    for (const c of this.custom) if (c.state === SETTLED) this.custom.delete(c);
    this.pruneAt = Math.max(64, 2 * this.custom.size);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.custom.clear();
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(1, at - Date.now()));
    this.timer.unref(); // a pending deadline alone must not keep the process alive
  }

  private sweep(): void {
    this.timer = undefined;
    const now = Date.now() - this.slack; // relaxed: a deadline passes `slack` ms later
    let next = Infinity;
    const scan = (q: Fifo, sent: boolean) => {
      for (let i = 0; i < q.length; i++) {
        const cmd = q.peekAt(i)!;
        if (cmd.state === SETTLED || cmd.customDeadline || cmd.deadline === 0) continue;
        if (cmd.deadline > now) {
          next = Math.min(next, cmd.deadline);
          return;
        }
        this.events.expire(cmd, sent || wasSent(cmd)); // queued again after a loss: it may have run
      }
    };
    scan(this.inflight, true);
    scan(this.queue, false);
    for (const cmd of this.custom) {
      if (cmd.state === SETTLED) this.custom.delete(cmd);
      else if (cmd.deadline <= now) {
        this.custom.delete(cmd);
        this.events.expire(cmd, wasSent(cmd));
      } else next = Math.min(next, cmd.deadline);
    }
    // A timed-out command keeps its FIFO slot until its reply; if that reply is
    // overdue by the grace too, the connection is presumed dead.
    const head = this.inflight.peekFront();
    if (head !== undefined && head.deadline > 0 && head.state === SETTLED) {
      if (now > head.deadline + this.staleGrace) {
        this.events.stale();
        return;
      }
      next = Math.min(next, head.deadline + this.staleGrace + 1);
    }
    if (next !== Infinity) this.arm(next + this.slack);
  }
}

/** The error for a command whose deadline passed; `down` is why the connection is not up, if it is not. */
export function timeoutError(cmd: Command, sent: boolean, node: string, down: Error | undefined): ReplyTimeoutError {
  const message = sent
    ? 'no reply before the deadline; the command was sent and may have run'
    : `the deadline passed before the command could be sent${down ? ' (not connected)' : ''}; it was never sent`;
  return new ReplyTimeoutError(message, sent, { command: cmd.info.name, node, cause: down });
}

/**
 * Why a connection is recycled when a reply is overdue past the grace: it is
 * presumed half-open. A connection loss like any other (rule 2), so a command
 * safe to send twice is resent per its retry policy, the others may have run.
 */
export function halfOpenError(node: string, grace: number): ConnectionLostError {
  return new ConnectionLostError(`a reply is ${grace} ms overdue past its deadline; recycling the connection`, true, {
    node,
    cause: new ReplyTimeoutError('a reply is overdue', true, { node }),
  });
}
