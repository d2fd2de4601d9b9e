/**
 * Splitting a multi-key command whose keys span slots (MGET, MSET, DEL,
 * EXISTS, UNLINK, TOUCH: the `multi_shard` request policy) into one command
 * per slot, and putting the per-slot replies back in the caller's order.
 * Pure: the router sends the parts in parallel and calls `mergeByKey` or
 * combines per the response policy.
 *
 * Split by slot, not by node: a part is then never refused with CROSSSLOT,
 * even while a slot migrates, and a MOVED for one part moves only that part.
 */
import type { Arg } from '../../resp/encoder.js';
import type { Reply } from '../../resp/types.js';

export interface SlotPart {
  slot: number;
  /** The arguments of this part's command: its keys, each followed by its values. */
  args: Arg[];
  /** For each key of this part, its position among the caller's keys (0-based). */
  keyOrdinals: number[];
}

/**
 * Group `args[first..]`, a run of keys each followed by `step - 1` values
 * (MSET: step 2), by the slot of each key. Parts come in the order of their
 * first key, so a single-slot call is one part with the arguments as given.
 */
export function splitBySlot(args: readonly Arg[], first: number, step: number, slotOf: (key: Arg) => number): SlotPart[] {
  const bySlot = new Map<number, SlotPart>();
  let ordinal = 0;
  for (let i = first; i < args.length; i += step, ordinal++) {
    const slot = slotOf(args[i]!);
    let part = bySlot.get(slot);
    if (part === undefined) {
      part = { slot, args: [], keyOrdinals: [] };
      bySlot.set(slot, part);
    }
    for (let j = 0; j < step; j++) part.args.push(args[i + j]!);
    part.keyOrdinals.push(ordinal);
  }
  return [...bySlot.values()];
}

/** Put per-part array replies (one element per key, MGET) back in the caller's key order. */
export function mergeByKey(parts: readonly SlotPart[], replies: readonly Reply[][], keyCount: number): Reply[] {
  const out = new Array<Reply>(keyCount);
  parts.forEach((part, p) => {
    const reply = replies[p]!;
    part.keyOrdinals.forEach((ordinal, k) => {
      out[ordinal] = reply[k] as Reply;
    });
  });
  return out;
}
