/**
 * Slot fences: order through a resharding. The first MOVED for a slot from a
 * node means commands for that slot written to it before are still coming
 * back MOVED, one by one, and are re-sent in that order. New commands for the
 * slot wait behind a fence until a PING on that node answers (FIFO: every
 * older reply is in, every older command re-sent), so commands for one slot
 * keep their order.
 */
import { commandInfo } from '../../commands/index.js';
import { Command } from '../../connection/command.js';
import type { Standalone } from '../standalone.js';

export class SlotFences {
  /** Slots that just moved, with the sends waiting for the old owner's older replies. */
  readonly #held = new Map<number, (() => void)[]>();

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
}
