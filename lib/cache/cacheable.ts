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
 * An argument as the cache files it, byte-exact: a Buffer by its bytes
 * (latin1 keeps each byte) after a \u0000 mark; a string that itself starts
 * with \u0000 or \u0001 after a \u0001 mark, so it never reads as a Buffer's.
 */
export function argText(a: Arg): string {
  if (typeof a === 'string') {
    const c = a.charCodeAt(0);
    return c === 0 || c === 1 ? '\u0001' + wellFormed(a) : wellFormed(a);
  }
  if (typeof a === 'number') return numberText(a);
  if (typeof a === 'bigint') return a.toString();
  return '\u0000' + Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('latin1');
}

/**
 * Entries are filed in two levels (store.ts): by their first argument (as
 * the caller's string, usually the key, whose hash V8 keeps on the string),
 * then by the rest: database, decoding, whether a cluster replica answers it
 * (client-cache.ts FillTarget.replicaReads), command and the other
 * arguments, each length-prefixed so no two calls share a name. The rest of
 * a one-argument call is an interned prefix: a hit allocates no string.
 */
export class EntryNames {
  /** (db, decode flags, replica) -> command name -> interned prefix. */
  readonly #prefixes = new Map<number, Map<string, string>>();

  rest(db: number, decodeFlags: number, name: string, args: ArrayLike<Arg>, replica: boolean): string {
    const slot = db * 64 + decodeFlags * 2 + (replica ? 1 : 0); // decode flags (DECODE_*) are below 32
    let byName = this.#prefixes.get(slot);
    if (byName === undefined) {
      if (this.#prefixes.size >= 1024) this.#prefixes.clear(); // bounded, whatever databases callers name
      this.#prefixes.set(slot, (byName = new Map()));
    }
    let prefix = byName.get(name);
    if (prefix === undefined) byName.set(name, (prefix = `${db}/${decodeFlags}${replica ? 'r' : ''}/${name}`));
    if (args.length <= 1) return prefix;
    let s = prefix;
    for (let i = 1; i < args.length; i++) {
      const text = argText(args[i]!);
      s += `|${text.length}:${text}`;
    }
    return s;
  }
}
