/**
 * The set behind `dedupe` in db.scan / hscan / sscan / zscan: exact (a key is
 * a repeat only when every code unit matches), whatever the keys' hashes.
 */
import { describe, expect, it } from 'vitest';
import { SeenKeys, seenHash } from '../lib/scan-seen.js';

describe('SeenKeys (dedupe of a SCAN iteration)', () => {
  it('says first time once per distinct key, across growth of the arena, the entries and the slots', () => {
    const seen = new SeenKeys();
    let firsts = 0;
    let repeats = 0;
    for (let i = 0; i < 200_000; i++) if (seen.add(`user:${i}`)) firsts++;
    for (let i = 0; i < 200_000; i += 7) if (!seen.add(`user:${i}`)) repeats++;
    expect([firsts, repeats, seen.size]).toEqual([200_000, Math.ceil(200_000 / 7), 200_000]);
    expect(seen.add('user:200000')).toBe(true);
  });

  it('two different keys with the same hash are both kept', () => {
    // Birthday search for a full 32-bit collision among generated keys, for a set of a known seed.
    const seed = 0x811c9dc5;
    const byHash = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const key = `k${i}`;
      const h = seenHash(key, seed);
      const other = byHash.get(h);
      if (other !== undefined) pair = [other, key];
      else byHash.set(h, key);
    }
    const [a, b] = pair;
    expect(a).not.toBe(b);
    const seen = new SeenKeys(seed);
    expect(seen.add(a)).toBe(true);
    expect(seen.add(b)).toBe(true);
    expect(seen.add(a)).toBe(false);
    expect(seen.add(b)).toBe(false);
    expect(seen.size).toBe(2);
  });

  it('prefixes, the empty key and keys past Latin-1 are distinct keys (the arena widens without losing what it holds)', () => {
    const seen = new SeenKeys();
    const keys = ['', 'a', 'ab', 'abc', 'b', 'é', 'ĕ', '键', '键a', 'a键', '😀', '\u0000', '\u0000\u0000', 'constructor', '__proto__'];
    for (const k of keys) expect(seen.add(k)).toBe(true); // 'ĕ' widens the arena to 16-bit units
    for (const k of keys) expect(seen.add(k)).toBe(false); // keys copied as bytes before are still found
    // The widened arena grows and keeps finding what it holds.
    for (let i = 0; i < 5000; i++) seen.add(`late:${i}:é`);
    let repeats = 0;
    for (let i = 0; i < 5000; i++) if (!seen.add(`late:${i}:é`)) repeats++;
    expect(repeats).toBe(5000);
    expect(seen.size).toBe(keys.length + 5000);
  });

  it('a Buffer is the same key as the Latin-1 string of its bytes, and differs from other bytes', () => {
    const seen = new SeenKeys();
    expect(seen.add(Buffer.from([0x61, 0xff, 0x00]))).toBe(true);
    expect(seen.add('a\u00ff\u0000')).toBe(false);
    expect(seen.add(Buffer.from([0x61, 0xff, 0x01]))).toBe(true);
    expect(seen.add(Buffer.alloc(0))).toBe(true);
    expect(seen.add('')).toBe(false);
    const big = Buffer.alloc(100_000, 0x41); // one key larger than the arena's start
    expect(seen.add(big)).toBe(true);
    expect(seen.add('A'.repeat(100_000))).toBe(false);
    expect(seen.add('A'.repeat(99_999))).toBe(true);
  });

  it('keys that are not strings or Buffers count by their text', () => {
    const seen = new SeenKeys();
    expect(seen.add(42)).toBe(true);
    expect(seen.add('42')).toBe(false);
  });
});
