/**
 * Redis Cluster hash slots: CRC16 (XMODEM) of the key's bytes modulo 16384,
 * with the hash-tag rule. Pure computation on the bytes a key is sent as, so
 * the slot we route by is the slot the server computes (`CLUSTER KEYSLOT`).
 *
 * Reference: the Redis Cluster specification, "Keys distribution model" and
 * "Hash tags" (CRC16 with polynomial 0x1021, initial value 0, no reflection:
 * `CRC16("123456789") = 0x31C3`).
 */
import { InvalidArgumentError } from '../errors.js';

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384;
const SLOT_MASK = SLOT_COUNT - 1;

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** CRC16-XMODEM, one entry per byte value (the table of the spec's reference implementation, computed). */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/** CRC16-XMODEM of `bytes[from..to)`. */
export function crc16(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/**
 * CRC16 of the UTF-8 encoding of `s[from..to)`, without encoding it into a
 * Buffer. Lone surrogates count as U+FFFD (EF BF BD), which is what the
 * encoder's `utf8Write` sends for them.
 */
function crc16String(s: string, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ c) & 0xff]!;
      continue;
    }
    let b0: number, b1: number, b2 = -1, b3 = -1;
    if (c < 0x800) {
      b0 = 0xc0 | (c >> 6);
      b1 = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < to ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: one code point above U+FFFF, four bytes.
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        b0 = 0xf0 | (c >> 18);
        b1 = 0x80 | ((c >> 12) & 0x3f);
        b2 = 0x80 | ((c >> 6) & 0x3f);
        b3 = 0x80 | (c & 0x3f);
      } else {
        b0 = 0xef;
        b1 = 0xbf;
        b2 = 0xbd;
      }
    } else {
      b0 = 0xe0 | (c >> 12);
      b1 = 0x80 | ((c >> 6) & 0x3f);
      b2 = 0x80 | (c & 0x3f);
    }
    crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ b0) & 0xff]!;
    crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ b1) & 0xff]!;
    if (b2 >= 0) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ b2) & 0xff]!;
    if (b3 >= 0) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ b3) & 0xff]!;
  }
  return crc;
}

/**
 * Slot of a string key. The hash tag is found on UTF-16 units: `{` and `}`
 * are single UTF-8 bytes and never occur inside a multi-byte sequence, so the
 * tag found on the string is exactly the tag the server finds in the bytes.
 */
function stringSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    // An empty tag (`{}`) does not count: the whole key is hashed.
    if (close > open + 1) return crc16String(key, open + 1, close) & SLOT_MASK;
  }
  return crc16String(key, 0, key.length) & SLOT_MASK;
}

function bytesSlot(key: Uint8Array): number {
  const len = key.length;
  let open = 0;
  while (open < len && key[open] !== OPEN) open++;
  if (open < len) {
    let close = open + 1;
    while (close < len && key[close] !== CLOSE) close++;
    if (close < len && close > open + 1) return crc16(key, open + 1, close) & SLOT_MASK;
  }
  return crc16(key, 0, len) & SLOT_MASK;
}

/** The text the encoder sends for a number (lib/resp/encoder.ts `writeNumber`). */
function numberText(n: number): string {
  if (n !== n) throw new InvalidArgumentError('a key is NaN; expected string, Buffer, Uint8Array, number or bigint');
  // Redis parses floats with strtold, which accepts "inf" but not "Infinity".
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

/**
 * The hash slot (0..16383) of a key, computed on the bytes the key is sent as:
 * strings as UTF-8, numbers and bigints as the encoder writes them, bytes as
 * they are. The hash tag rule applies: if the key has a `{`, and a `}` after
 * the first `{`, with at least one byte between them, only those bytes are
 * hashed (so `{user:1}:name` and `{user:1}:age` share a slot).
 *
 * No allocation: string keys are hashed from their char codes.
 */
export function keySlot(key: string | Buffer | Uint8Array | number | bigint): number {
  if (typeof key === 'string') return stringSlot(key);
  if (typeof key === 'number') return stringSlot(numberText(key));
  if (typeof key === 'bigint') return stringSlot(key.toString());
  return bytesSlot(key);
}
