/**
 * Slot fences: order through a resharding. The first MOVED for a slot from a
 * node means commands for that slot written to it before are still coming
 * back MOVED, one by one, and are re-sent in that order. New commands for the
 * slot wait behind a fence until a PING on that node answers (FIFO: every
 * older reply is in, every older command re-sent), so commands for one slot
 * keep their order.
 */
import { commandInfo } from '../../commands/index.js';
import { countsAsTimeout } from '../../connection/call-timeouts.js';
import { Command, failCommand } from '../../connection/command.js';
import { ReplyTimeoutError } from '../../errors.js';
import type { Standalone } from '../standalone.js';

export class SlotFences {
  /** Slots that just moved, with the sends waiting for the old owner's older replies. */
  readonly #held = new Map<number, (() => void)[]>();
  /** Commands whose deadline passed while they waited behind a fence (see hold). */
  timeouts = 0;

  /** The sends waiting behind the fence of `slot` (push one there; each must not throw), or undefined: none, send now. */
  of(slot: number): (() => void)[] | undefined {
    return this.#held.get(slot);
  }

  /** Fence `slot` until a PING on `old` (the node that answered MOVED) settles; no fence when that node has no unit. */
  raise(slot: number, old: Standalone | undefined, timeout: number): void {
    if (this.#held.has(slot) || old === undefined) return;
    const held: (() => void)[] = [];
    this.#held.set(slot, held);
    const ping = new Command('PING', [], commandInfo('PING'), 0, -1);
    const release = () => {
      this.#held.delete(slot);
      for (const go of held) go();
    };
    ping.toPromise().then(release, release);
    old.send(ping, timeout, true);
  }

  /**
   * Hold `cmd` behind `fence`: `go` once the fence lifts, unless its deadline
   * (`timeout` ms from now; 0: none) passed first. Then it fails at that
   * deadline, never sent: the fence lifts when the old owner answers its
   * PING, which only the command timeout bounds, and a shorter per-call
   * deadline must not wait for it (nor be sent once it passed). That expiry
   * is counted in `timeouts`: it happens here, at no node, so no node's
   * stats count it, and the command is never sent to one that would.
   */
  hold(fence: (() => void)[], cmd: Command, timeout: number, go: () => void, report: (err: Error, cmd: Command) => void): void {
    const timer =
      timeout > 0
        ? setTimeout(() => {
            if (cmd.settled) return; // given up meanwhile (its signal): no deadline of its passed
            if (countsAsTimeout(cmd)) this.timeouts++; // a split part: once per call
            const why = 'the deadline passed before the command could be sent (its slot had just moved; older commands for it were still being redirected)';
            failCommand(cmd, new ReplyTimeoutError(why, false, { command: cmd.info.name }), report);
          }, timeout)
        : undefined;
    fence.push(() => {
      clearTimeout(timer);
      if (!cmd.settled) go();
    });
  }
}
