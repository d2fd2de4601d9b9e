import { randomBytes } from 'node:crypto';

/**
 * What a SCAN iteration has yielded so far, for `dedupe`: an exact set of
 * keys (or fields, members) kept in a few typed arrays instead of a
 * `Set<string>`.
 *
 * Why not a Set: it holds every key string alive until the iteration ends, so
 * every young-generation GC of the walk copies all of them again (4-5 ms a
 * scavenge at 100k keys) and then promotes them; with the Set's own hashing
 * that doubled the CPU of a 100k-key `db.scan()` (1.45 against 0.7 µs a key
 * with `dedupe: false`). Here a key's code units are copied once into an
 * arena and the GC sees a handful of large arrays; the memory is also smaller
 * (a byte per character of a Latin-1 key, plus 16-32 bytes of index).
 *
 * Keys compare by UTF-16 code units; a Buffer by its bytes, so a Buffer and
 * the Latin-1 string of the same bytes are the same key (the decoder gives one
 * or the other for a whole iteration, never both).
 *
 * The hash starts from a random seed per set, as V8's own string hash does:
 * keys are often named by outsiders (user names, ids), and from a known start
 * FNV-1a collisions are cheap to chain, so that n crafted keys would share
 * one probe run and cost n^2/2 probes on the event loop.
 */
export class SeenKeys {
  readonly #seed: number;
  /** The code units of every key, back to back: bytes until a key needs more. */
  #units: Uint8Array | Uint16Array = new Uint8Array(4096);
  #used = 0;
  /**
   * Per key, in the order first seen: where its units end (it starts where
   * the one before ends: the arena only grows at its end) and its hash.
   */
  #end = new Int32Array(256);
  #hash = new Int32Array(256);
  #count = 0;
  /** Open addressing, linear probing, at most half full: 0 is empty, else a key's index + 1. */
  #slots = new Int32Array(512);
  #probes = 0;

  /** `seed`: the hash's start (a spec gives one to make keys collide); random by default. */
  constructor(seed: number = randomSeed()) {
    this.#seed = seed | 0;
  }

  /** How many distinct keys were seen. */
  get size(): number {
    return this.#count;
  }

  /** Occupied slots add() stepped over, in all: about one per add while hashes spread (a spec checks they do). */
  get probes(): number {
    return this.#probes;
  }

  /** Whether `key` was not seen before; it is remembered from now on. */
  add(key: unknown): boolean {
    const units = typeof key === 'string' || Buffer.isBuffer(key) ? key : String(key);
    const n = units.length;
    // Copy the units to the arena's free end while hashing them; kept only if the key is new.
    const at = this.#reserve(n);
    const h = typeof units === 'string' ? this.#copyString(units, at) : this.#copyBytes(units, at);
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = h & mask;
    for (let e = slots[i]!; e !== 0; i = (i + 1) & mask, e = slots[i]!) {
      this.#probes++;
      if (this.#hash[e - 1] !== h) continue;
      const start = e === 1 ? 0 : this.#end[e - 2]!;
      if (this.#end[e - 1]! - start === n && this.#sameUnits(start, at, n)) return false;
    }
    const index = this.#count++;
    if (index === this.#end.length) this.#growEntries();
    this.#end[index] = at + n;
    this.#hash[index] = h;
    this.#used = at + n;
    slots[i] = index + 1;
    if (this.#count * 2 > slots.length) this.#rehash();
    return true;
  }

  /** The arena offset where `n` more units fit (the arena grows by doubling). */
  #reserve(n: number): number {
    const at = this.#used;
    if (at + n > this.#units.length) {
      let size = this.#units.length * 2;
      while (size < at + n) size *= 2;
      const wider = this.#units instanceof Uint8Array ? new Uint8Array(size) : new Uint16Array(size);
      wider.set(this.#units.subarray(0, at));
      this.#units = wider;
    }
    return at;
  }

  /** Copy a string's code units to `at`, widening the arena at the first unit past 0xFF; its hash. */
  #copyString(s: string, at: number): number {
    let units = this.#units;
    let h = this.#seed;
    for (let j = 0; j < s.length; j++) {
      const u = s.charCodeAt(j);
      if (u > 0xff && units instanceof Uint8Array) units = this.#widen();
      units[at + j] = u;
      h = step(h, u);
    }
    return finish(h);
  }

  /** Copy a Buffer's bytes to `at`; its hash (the same as the Latin-1 string's). */
  #copyBytes(b: Buffer, at: number): number {
    const units = this.#units;
    let h = this.#seed;
    for (let j = 0; j < b.length; j++) {
      const u = b[j]!;
      units[at + j] = u;
      h = step(h, u);
    }
    return finish(h);
  }

  /** Switch the arena to 16-bit units (once, when a key has a character past U+00FF). */
  #widen(): Uint16Array {
    const wide = new Uint16Array(this.#units.length);
    wide.set(this.#units);
    this.#units = wide;
    return wide;
  }

  #sameUnits(a: number, b: number, n: number): boolean {
    const units = this.#units;
    for (let j = 0; j < n; j++) if (units[a + j] !== units[b + j]) return false;
    return true;
  }

  #growEntries(): void {
    const end = new Int32Array(this.#end.length * 2);
    end.set(this.#end);
    this.#end = end;
    const hash = new Int32Array(this.#hash.length * 2);
    hash.set(this.#hash);
    this.#hash = hash;
  }

  /** Twice the slots, every key placed again by its hash. */
  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.#count; e++) {
      let i = this.#hash[e]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = e + 1;
    }
    this.#slots = slots;
  }
}

/** A random 32-bit start for a set's hash. */
function randomSeed(): number {
  return randomBytes(4).readInt32LE(0);
}

/** One code unit into FNV-1a's state. */
function step(h: number, u: number): number {
  return Math.imul(h ^ u, 0x01000193);
}

/** FNV-1a's state mixed (murmur3's finalizer) so that its low bits, the slot index, spread. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The hash a `SeenKeys` made with `seed` files a string under (for the spec that makes two keys collide). */
export function seenHash(s: string, seed: number): number {
  let h = seed | 0;
  for (let j = 0; j < s.length; j++) h = step(h, s.charCodeAt(j));
  return finish(h);
}
