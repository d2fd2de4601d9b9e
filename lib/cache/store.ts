/**
 * The cache's memory: entries filed in two levels (first argument, then the
 * rest of the call: cacheable.ts EntryNames), an index from each key name and
 * from each cluster hash slot to the entries that read it, and the bounds
 * (`maxEntries`, `maxBytes`, `ttl`).
 *
 * Eviction is least recently used, approximated the CLOCK way: a hit only
 * marks its entry as used (no reordering on the read path); eviction takes
 * the oldest entry, giving a marked one a second chance at the back instead.
 *
 * Dropping a cluster shard's slots (a node's connection lost or new) is
 * immediate for reads and gradual for memory: each slot is stamped with the
 * drop, and an entry older than a stamp of one of its slots is never served
 * again; the entries themselves are removed `SWEEP_PER_TURN` at a time: at
 * once when there are no more, else one turn of the event loop after another. Removing them all at once costs
 * about 3 µs each: 100 ms of a blocked event loop for a third of a 100k-entry
 * cache, when one node of three reconnects.
 */
import { SLOT_COUNT } from '../commands/slot.js';
import type { Reply } from '../resp/types.js';
import { addTo, removeFrom, valuesOf, type MultiMap } from './multimap.js';

export interface CacheLimits {
  /** Most entries kept. */
  maxEntries: number;
  /** Most (estimated) bytes of entry names and values kept. */
  maxBytes: number;
  /** An entry is served for at most this many ms (0: until invalidated or evicted). */
  ttl: number;
}

export interface Entry {
  readonly first: string;
  readonly rest: string;
  readonly value: Reply;
  /** The key names it read (cacheable.ts keyName). */
  readonly keys: readonly string[];
  /** The hash slots of those keys, from their exact bytes (a cluster drops a slot's entries when it moves). */
  readonly slots: readonly number[];
  readonly bytes: number;
  /** Date.now() past which it is not served; 0 for never. */
  readonly expires: number;
  /** Read since it was last passed over by eviction. */
  used: boolean;
  /** The store's sequence number when it was kept: older than a drop of one of its slots (`droppedAt`) means dropped. */
  readonly born: number;
}

/** Entries of dropped slots removed per turn of the event loop (about 3 ms of work). */
export const SWEEP_PER_TURN = 1000;

/** A per-entry cost beyond its names and value (the entry, its index slots): an estimate. */
const ENTRY_OVERHEAD = 128;

export function entryBytes(first: string, rest: string, keys: readonly string[], valueBytes: number): number {
  let n = ENTRY_OVERHEAD + first.length + rest.length + valueBytes;
  for (const k of keys) n += k.length;
  return n;
}

export class Store {
  /** first argument -> rest of the call -> entry. */
  readonly #entries = new Map<string, Map<string, Entry>>();
  /** Every entry, oldest first (eviction order). */
  readonly #order = new Set<Entry>();
  readonly #byKey: MultiMap<Entry> = new Map();
  readonly #bySlot: MultiMap<Entry, number> = new Map();
  #bytes = 0;
  /** Bumped by every entry kept and every drop of slots. */
  #seq = 0;
  /** Per hash slot, the `#seq` of its last drop (0: never dropped). */
  readonly #droppedAt = new Float64Array(SLOT_COUNT);
  /** Dropped slots whose entries are still to be removed. */
  #toSweep: number[] = [];
  #sweepScheduled = false;
  /** Entries removed because a drop of their slots made them stale (for the invalidation count). */
  slotDrops = 0;

  constructor(private readonly limits: CacheLimits) {}

  get size(): number {
    return this.#order.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The live entry for a call; undefined if absent or past its ttl. */
  get(first: string, rest: string, now: number): Entry | undefined {
    const e = this.#entries.get(first)?.get(rest);
    if (e === undefined) return undefined;
    if (e.expires !== 0 && now >= e.expires) {
      this.#remove(e);
      return undefined;
    }
    if (this.#stale(e)) {
      this.#remove(e);
      this.slotDrops++;
      return undefined;
    }
    e.used = true;
    return e;
  }

  /** Kept before a drop of one of its slots. */
  #stale(e: Entry): boolean {
    for (const s of e.slots) if (this.#droppedAt[s]! > e.born) return true;
    return false;
  }

  /**
   * Drop every entry that read a key of these hash slots: none is served from
   * now on; they leave memory over the next turns (see the file comment).
   */
  dropSlots(slots: readonly number[]): void {
    const mark = ++this.#seq;
    for (const s of slots) {
      this.#droppedAt[s] = mark;
      if (this.#bySlot.has(s)) this.#toSweep.push(s);
    }
    if (!this.#sweepScheduled) this.#sweep(); // a small drop is done now; a large one goes on over the next turns
  }

  /** Remove up to about SWEEP_PER_TURN stale entries of dropped slots (whole slots at a time); the rest at the next turn. */
  readonly #sweep = (): void => {
    this.#sweepScheduled = false;
    let budget = SWEEP_PER_TURN;
    while (budget > 0 && this.#toSweep.length > 0) {
      const found = valuesOf(this.#bySlot, this.#toSweep.pop()!);
      if (found === undefined) continue;
      for (const e of Array.isArray(found) ? found : [found]) {
        budget--;
        if (this.#stale(e)) {
          this.#remove(e);
          this.slotDrops++;
        }
      }
    }
    if (this.#toSweep.length > 0) {
      this.#sweepScheduled = true;
      setImmediate(this.#sweep);
    }
  };

  /** Keep `value`, evicting to stay within bounds. False if it alone is too large. */
  set(first: string, rest: string, value: Reply, keys: readonly string[], slots: readonly number[], valueBytes: number, now: number): boolean {
    const bytes = entryBytes(first, rest, keys, valueBytes);
    const { maxEntries, maxBytes, ttl } = this.limits;
    if (bytes > maxBytes || maxEntries === 0) return false;
    let byRest = this.#entries.get(first);
    const old = byRest?.get(rest);
    if (old !== undefined) this.#remove(old);
    while (this.#order.size >= maxEntries || this.#bytes + bytes > maxBytes) this.#evictOne();
    const e: Entry = { first, rest, value, keys, slots, bytes, expires: ttl > 0 ? now + ttl : 0, used: false, born: ++this.#seq };
    byRest = this.#entries.get(first);
    if (byRest === undefined) this.#entries.set(first, (byRest = new Map()));
    byRest.set(rest, e);
    this.#order.add(e);
    this.#bytes += bytes;
    for (const k of keys) addTo(this.#byKey, k, e);
    for (const s of slots) addTo(this.#bySlot, s, e);
    return true;
  }

  /** Drop every entry that read key `key`; returns how many. */
  invalidate(key: string): number {
    return this.#drop(valuesOf(this.#byKey, key));
  }

  #drop(found: Entry | Entry[] | undefined): number {
    if (found === undefined) return 0;
    if (!Array.isArray(found)) {
      this.#remove(found);
      return 1;
    }
    for (const e of found) this.#remove(e);
    return found.length;
  }

  /** Drop everything; returns how many entries there were. */
  clear(): number {
    const n = this.#order.size;
    this.#entries.clear();
    this.#order.clear();
    this.#byKey.clear();
    this.#bySlot.clear();
    this.#toSweep = []; // nothing left to sweep (a scheduled sweep finds nothing)
    this.#bytes = 0;
    return n;
  }

  /** The oldest entry not read since it was last passed over. Terminates: a passed-over entry loses its mark. */
  #evictOne(): void {
    for (;;) {
      const e = this.#order.values().next().value as Entry;
      if (!e.used) {
        this.#remove(e);
        return;
      }
      e.used = false;
      this.#order.delete(e);
      this.#order.add(e);
    }
  }

  #remove(e: Entry): void {
    if (!this.#order.delete(e)) return;
    const byRest = this.#entries.get(e.first);
    byRest?.delete(e.rest);
    if (byRest?.size === 0) this.#entries.delete(e.first);
    this.#bytes -= e.bytes;
    for (const k of e.keys) removeFrom(this.#byKey, k, e);
    for (const s of e.slots) removeFrom(this.#bySlot, s, e);
  }
}
