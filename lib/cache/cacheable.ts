/**
 * Which reads the client-side cache may answer, and the names it files them
 * under.
 *
 * A read is cacheable when its reply changes only when one of its keys is
 * written: the server then tells us (a tracking invalidation) before anything
 * else we hear from it. Never cacheable: replies that change with time (TTL,
 * PTTL, EXPIRETIME, OBJECT IDLETIME/FREQ, TIME), random ones (RANDOMKEY,
 * SRANDMEMBER, HRANDFIELD, ZRANDMEMBER), cursors (SCAN family), and anything
 * that is not a read.
 */
import type { Arg } from '../resp/encoder.js';

/** Upper-case names (CommandInfo.name) of the cacheable reads. */
export const CACHEABLE: ReadonlySet<string> = new Set([
  // strings
  'GET', 'MGET', 'STRLEN', 'GETRANGE', 'SUBSTR', 'GETBIT', 'BITCOUNT', 'BITPOS',
  // keys
  'EXISTS', 'TYPE',
  // hashes
  'HGET', 'HMGET', 'HGETALL', 'HKEYS', 'HVALS', 'HLEN', 'HEXISTS', 'HSTRLEN',
  // sets
  'SMEMBERS', 'SISMEMBER', 'SMISMEMBER', 'SCARD',
  // sorted sets
  'ZSCORE', 'ZMSCORE', 'ZCARD', 'ZCOUNT', 'ZLEXCOUNT', 'ZRANK', 'ZREVRANK',
  'ZRANGE', 'ZRANGEBYSCORE', 'ZRANGEBYLEX', 'ZREVRANGE', 'ZREVRANGEBYSCORE', 'ZREVRANGEBYLEX',
  // lists
  'LRANGE', 'LLEN', 'LINDEX', 'LPOS',
  // streams (without BLOCK: XRANGE / XREVRANGE / XLEN never block)
  'XRANGE', 'XREVRANGE', 'XLEN',
  // geo
  'GEOPOS', 'GEODIST', 'GEOHASH',
]);

const SURROGATE = /[\uD800-\uDFFF]/;

/** A string as the server receives it: a lone surrogate goes out as U+FFFD (Buffer's UTF-8 encoding). */
function wellFormed(s: string): string {
  return SURROGATE.test(s) ? Buffer.from(s, 'utf8').toString('utf8') : s;
}

/** The text the encoder sends for a number (encoder.ts writeNumber), so `5` and `'5'` are one entry. */
function numberText(n: number): string {
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

/**
 * A key's name as the cache indexes it: the UTF-8 reading of its bytes, which
 * is what an `invalidate` push decodes to. Two binary keys that read the same
 * only share invalidations (an extra miss, never a stale hit).
 */
export function keyName(key: Arg | Buffer): string {
  if (typeof key === 'string') return wellFormed(key);
  if (typeof key === 'number') return numberText(key);
  if (typeof key === 'bigint') return key.toString();
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
}

/**
 * The entry name of a call: database, decoding, command and arguments, each
 * argument length-prefixed so no two calls share a name. Bytes-exact: a
 * Buffer argument is filed by its bytes (latin1 keeps each byte), marked apart
 * from strings.
 */
export function entryName(db: number, decodeFlags: number, name: string, args: ArrayLike<Arg>): string {
  let s = `${db}/${decodeFlags}/${name}`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let text: string;
    if (typeof a === 'string') text = wellFormed(a);
    else if (typeof a === 'number') text = numberText(a);
    else if (typeof a === 'bigint') text = a.toString();
    else text = '\u0000' + Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('latin1');
    s += `|${text.length}:${text}`;
  }
  return s;
}
