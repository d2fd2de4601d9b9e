/**
 * Following a cluster redirection (reading one is redirect.ts). A node
 * answering MOVED or ASK did not run the command, so it is sent again where
 * the node says, whatever it is (ASK as ASKING + the command, contiguous);
 * MOVED also fixes the slot map at once, schedules a refresh and fences the
 * slot (slot-fence.ts). More than `maxRedirects` is a ClusterRedirectError.
 * TRYAGAIN / CLUSTERDOWN: the command did not run either; it is sent again
 * after a backoff, within its deadline (try-again.ts; the retry policy of its
 * connection had its say first).
 *
 * The router owns the slot map and the units; this file only decides what a
 * redirected command does next, through `FollowRouting`.
 */
import { isBlockingCall } from '../../commands/index.js';
import { type Command, InternalCommand, QUEUED, failCommand } from '../../connection/command.js';
import { isServerRefusal, runsScript } from '../../connection/script-command.js';
import { AskError, ClosedError, ClusterDownError, ClusterRedirectError, MovedError, TryAgainError, type ServerError, annotate } from '../../errors.js';
import type { Standalone } from '../standalone.js';
import { slotOf } from './pinned.js';
import { redirectTarget } from './redirect.js';
import type { SlotFences } from './slot-fence.js';
import { TryAgainWaits } from './try-again.js';

/** What following a redirection needs from the router. */
export interface FollowRouting {
  readonly maxRedirects: number;
  readonly commandTimeout: number;
  closed(): boolean;
  /** The unit of a node, opened when needed (throws once the client is closed). */
  unit(host: string, port: number): Standalone;
  /** The unit already open at `address`, if any (the old owner a fence waits on). */
  existing(address: string): Standalone | undefined;
  /** A MOVED from `from`: the slot map says so at once; true when the map was wrong. */
  moveSlot(slot: number, host: string, port: number, from: string): boolean;
  refreshSoon(): void;
  /** An ASK for `slot`: the client-side cache drops what it read there (its keys may be written at the target). */
  slotMigrating(slot: number): void;
  /** Route `cmd` again (after a TRYAGAIN / CLUSTERDOWN backoff); may throw what routing refuses. */
  send(cmd: Command, timeout: number, custom: boolean): void;
  fail(cmd: Command, err: Error): void;
  report: (err: Error, cmd: Command) => void;
}

/** A command's deadline left, for sending it again (0: it has none of its own). */
export function remainingTime(cmd: Command): number {
  return cmd.deadline > 0 ? Math.max(1, cmd.deadline - Date.now()) : 0;
}

export class Redirects {
  /** TRYAGAIN / CLUSTERDOWN resends (try-again.ts). */
  readonly tryAgain: TryAgainWaits;

  constructor(
    private readonly r: FollowRouting,
    private readonly fences: SlotFences,
  ) {
    this.tryAgain = new TryAgainWaits(r.commandTimeout, (cmd) => this.#resend(cmd));
  }

  /**
   * The redirect hook. A connection calls it while it settles a reply, the
   * command already out of its FIFO: it must not throw (the command would
   * never settle, and the connection would be dropped as out of step). What
   * goes wrong while following a redirection settles the command with it.
   */
  redirect(cmd: Command, err: ServerError, replyingHost: string, replyingPort = 0): boolean {
    try {
      return this.#follow(cmd, err, replyingHost, replyingPort);
    } catch (thrown) {
      this.r.fail(cmd, thrown as Error);
      return true;
    }
  }

  /** MOVED / ASK: send `cmd` again where the node says; TRYAGAIN / CLUSTERDOWN: later. False: not a redirection it follows. */
  #follow(cmd: Command, err: ServerError, replyingHost: string, replyingPort: number): boolean {
    const r = this.r;
    if (err instanceof ClusterDownError || err instanceof TryAgainError) {
      // A script can answer TRYAGAIN / CLUSTERDOWN itself, after it ran: only the server's own text means it did not.
      if (runsScript(cmd.info) && !isServerRefusal(err)) return false;
      return this.#later(cmd, err);
    }
    const moved = err instanceof MovedError;
    if (!moved && !(err instanceof AskError)) return false;
    const target = redirectTarget(err.serverMessage, replyingHost);
    if (target === undefined) return false;
    // A script can answer MOVED / ASK itself, after it ran: the server's names its keys' slot (and none comes without keys).
    if (runsScript(cmd.info) && !redirectsItsKeys(cmd, target.slot)) return false;
    if (moved) {
      // One refresh per change: a MOVED the map already agrees with (sent before an earlier MOVED fixed it) asks for none.
      if (r.moveSlot(target.slot, target.host, target.port, `${replyingHost}:${replyingPort}`)) r.refreshSoon();
      if (replyingPort > 0) this.fences.raise(target.slot, r.existing(`${replyingHost}:${replyingPort}`), r.commandTimeout || 2000);
    } else r.slotMigrating(target.slot); // ASK: the slot is migrating; keys we read at the source may be written at the target
    // Parts of a transaction: the block fails whole (EXECABORT) or is re-sent whole; the map is fixed for it.
    if (cmd instanceof InternalCommand || cmd.pinned) return false;
    if (r.closed()) {
      // A graceful close lets commands finish where they are; it opens nothing to follow them.
      const why = `the client closed while the command was redirected (${err.serverMessage}); it did not run, and was not sent again`;
      failCommand(cmd, new ClosedError(why, { command: cmd.info.name, node: replyingPort > 0 ? `${replyingHost}:${replyingPort}` : replyingHost }), r.report);
      return true;
    }
    if (++cmd.redirects > r.maxRedirects) {
      const tooMany = new ClusterRedirectError(
        `redirected more than ${r.maxRedirects} times; the cluster's slot map does not converge (last: ${err.serverMessage}). It did not run on the nodes that redirected it`,
        err.code,
      );
      failCommand(cmd, annotate(tooMany, cmd.info.name, `${target.host}:${target.port}`), r.report);
      return true;
    }
    if (cmd.attempts > 0) cmd.attempts--; // it did not run
    cmd.state = QUEUED;
    const unit = r.unit(target.host, target.port);
    const left = remainingTime(cmd);
    // A blocking command's deadline lives in its pool, not on the command: the new node's pool computes it again.
    const again = left === 0 && isBlockingCall(cmd.info, cmd.args, 0);
    if (moved) unit.send(cmd, again ? r.commandTimeout : left, !again);
    else unit.sendAsked(cmd, again ? r.commandTimeout : left, !again); // ASKING first, on a lease if it blocks
    return true;
  }

  /** TRYAGAIN / CLUSTERDOWN: the command did not run; sent again after a backoff, within its deadline (try-again.ts). */
  #later(cmd: Command, err: ServerError): boolean {
    if (err instanceof ClusterDownError) this.r.refreshSoon();
    return !(cmd instanceof InternalCommand || cmd.pinned || this.r.closed()) && this.tryAgain.later(cmd);
  }

  /** A command whose TRYAGAIN / CLUSTERDOWN backoff is over, routed again (a blocking one: its pool computes its deadline again). */
  #resend(cmd: Command): void {
    try {
      this.r.send(cmd, cmd.deadline > 0 ? remainingTime(cmd) : this.r.commandTimeout, cmd.deadline > 0);
    } catch (e) {
      this.r.fail(cmd, e as Error);
    }
  }
}

/**
 * Whether a MOVED / ASK for `slot` can be the server's for `cmd`: the server
 * redirects a call by the slot of its keys (one slot: keys in several are
 * refused with CROSSSLOT) and runs a call without keys wherever it is sent.
 */
function redirectsItsKeys(cmd: Command, slot: number): boolean {
  try {
    return slotOf(cmd) === slot;
  } catch {
    return false; // keys the table cannot place, or in several slots: not a call the server redirects
  }
}

