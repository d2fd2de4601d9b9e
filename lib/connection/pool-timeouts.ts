/**
 * A blocking pool's part of `stats().timeouts`: the calls it gave up for
 * time (a blocking command at its deadline, or with no side connection free
 * in time, once each whatever its retry policy tried), and what its leases'
 * own connections counted (a db.watch transaction's commands have their
 * deadlines there). A lease's count is kept when its connection closes, so
 * the total never goes down as leases come and go; live leases are read.
 */
import { PoolTimeoutError, ReplyTimeoutError } from '../errors.js';
import { countsAsTimeout } from './call-timeouts.js';
import type { Command } from './command.js';
import type { Lease } from './lease.js';

export class PoolTimeouts {
  /** Calls the pool itself gave up for time. */
  private own = 0;
  /** What leases whose connection closed counted. */
  private closed = 0;
  /** Leases whose connection is open (idle, busy, or on its way out). */
  private readonly open = new Set<Lease>();

  opened(lease: Lease): void {
    this.open.add(lease);
  }

  /** Its connection closed (once): nothing more can time out on it. */
  gone(lease: Lease): void {
    if (this.open.delete(lease)) this.closed += lease.mux.stats.timeouts;
  }

  /** The pool is failing `cmd` with `err` (before it settles): counted when it is a timeout. */
  failing(cmd: Command, err: Error): void {
    if (cmd.settled) return;
    if ((err instanceof ReplyTimeoutError || err instanceof PoolTimeoutError) && countsAsTimeout(cmd)) this.own++;
  }

  /** A db.watch waited for a lease longer than `maxWait`: its call fails with PoolTimeoutError. */
  watchWaited(): void {
    this.own++;
  }

  get total(): number {
    let n = this.own + this.closed;
    for (const lease of this.open) n += lease.mux.stats.timeouts;
    return n;
  }
}
