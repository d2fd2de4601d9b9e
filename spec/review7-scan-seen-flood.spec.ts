/**
 * Review of a77f850 (SCAN dedupe in an open-addressing table, lib/scan-seen.ts).
 * Its hash was FNV-1a from the published offset basis: anyone who can name
 * keys (user names, ids in key names) can compute it, and FNV-1a collisions
 * chain. Keys that share the whole 32-bit hash all land on one probe run, so
 * each add walks every one before it: a walk over n such keys is n^2/2 probes
 * on the event loop (16k crafted keys took 5 s, where a Set took 8 ms; 100k
 * would take minutes), felt by every caller of the client. A per-set random
 * seed, as V8's own string hash has, makes the hash unknown from outside.
 */
import { describe, expect, it } from 'vitest';
import { SeenKeys } from '../lib/scan-seen.js';

/** FNV-1a from its published offset basis: what the code says, so what anyone can compute. */
function publishedHash(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193);
  return h;
}

/**
 * Pairs of blocks that take the hash's state before them to one same state
 * after (found by a birthday search from the basis, then from each state
 * reached): every key made of one block of each pair has the same hash.
 */
const PAIRS: [string, string][] = [['7yzx', 'e6ad'], ...Array.from({ length: 9 }, (): [string, string] => ['33zx', 'epad'])];

describe('SeenKeys against keys crafted to collide', () => {
  it('1024 keys sharing the published hash cost a few probes each, not one per key before them', () => {
    const keys: string[] = [];
    for (let m = 0; m < 1 << PAIRS.length; m++) keys.push(PAIRS.map((pair, i) => pair[(m >> i) & 1]).join(''));
    expect(new Set(keys.map(publishedHash)).size).toBe(1); // the attack's input is what it claims
    const seen = new SeenKeys();
    for (const k of keys) expect(seen.add(k)).toBe(true);
    expect(seen.size).toBe(keys.length);
    for (const k of keys) expect(seen.add(k)).toBe(false);
    expect(seen.probes).toBeLessThan(8 * keys.length); // was n^2 (1048576): every add stepped over every key before it
  });
});
