/**
 * The cache's memory: entries by name, least recently used first (a Map keeps
 * insertion order: a hit moves its entry to the end, eviction takes from the
 * front), an index from each key name to the entries that read it, and the
 * bounds (`maxEntries`, `maxBytes`, `ttl`).
 */
import type { Reply } from '../resp/types.js';

export interface CacheLimits {
  /** Most entries kept. */
  maxEntries: number;
  /** Most (estimated) bytes of entry names and values kept. */
  maxBytes: number;
  /** An entry is served for at most this many ms (0: until invalidated or evicted). */
  ttl: number;
}

export interface Entry {
  readonly name: string;
  readonly value: Reply;
  /** The key names it read (cacheable.ts keyName). */
  readonly keys: readonly string[];
  readonly bytes: number;
  /** Date.now() past which it is not served; 0 for never. */
  readonly expires: number;
}

/** A per-entry cost beyond its name and value (the entry, its index slots): an estimate. */
const ENTRY_OVERHEAD = 96;

export function entryBytes(name: string, keys: readonly string[], valueBytes: number): number {
  let n = ENTRY_OVERHEAD + name.length + valueBytes;
  for (const k of keys) n += k.length;
  return n;
}

export class Store {
  readonly #entries = new Map<string, Entry>();
  readonly #byKey = new Map<string, Set<Entry>>();
  #bytes = 0;

  constructor(private readonly limits: CacheLimits) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The live entry named `name`, made most recently used; undefined if absent or past its ttl. */
  get(name: string, now: number): Entry | undefined {
    const e = this.#entries.get(name);
    if (e === undefined) return undefined;
    if (e.expires !== 0 && now >= e.expires) {
      this.#remove(e);
      return undefined;
    }
    this.#entries.delete(name);
    this.#entries.set(name, e);
    return e;
  }

  /** Keep `value`, evicting the least recently used entries to stay within bounds. False if it alone is too large. */
  set(name: string, value: Reply, keys: readonly string[], valueBytes: number, now: number): boolean {
    const bytes = entryBytes(name, keys, valueBytes);
    const { maxEntries, maxBytes, ttl } = this.limits;
    if (bytes > maxBytes || maxEntries === 0) return false;
    const old = this.#entries.get(name);
    if (old !== undefined) this.#remove(old);
    while (this.#entries.size >= maxEntries || this.#bytes + bytes > maxBytes) {
      const lru = this.#entries.values().next().value as Entry;
      this.#remove(lru);
    }
    const e: Entry = { name, value, keys, bytes, expires: ttl > 0 ? now + ttl : 0 };
    this.#entries.set(name, e);
    this.#bytes += bytes;
    for (const k of keys) {
      let set = this.#byKey.get(k);
      if (set === undefined) this.#byKey.set(k, (set = new Set()));
      set.add(e);
    }
    return true;
  }

  /** Drop every entry that read key `key`; returns how many. */
  invalidate(key: string): number {
    const set = this.#byKey.get(key);
    if (set === undefined) return 0;
    let n = 0;
    for (const e of [...set]) {
      this.#remove(e);
      n++;
    }
    return n;
  }

  /** Drop everything; returns how many entries there were. */
  clear(): number {
    const n = this.#entries.size;
    this.#entries.clear();
    this.#byKey.clear();
    this.#bytes = 0;
    return n;
  }

  #remove(e: Entry): void {
    if (this.#entries.get(e.name) !== e) return;
    this.#entries.delete(e.name);
    this.#bytes -= e.bytes;
    for (const k of e.keys) {
      const set = this.#byKey.get(k);
      if (set === undefined) continue;
      set.delete(e);
      if (set.size === 0) this.#byKey.delete(k);
    }
  }
}
