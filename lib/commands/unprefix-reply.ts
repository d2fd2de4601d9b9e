/**
 * A view's key prefix (`db.with({ prefix })`, prefix.ts) taken off the key
 * names a reply holds, so the caller gets back the names it passed: the
 * stream names of XREAD / XREADGROUP, the key of BLPOP, BRPOP, BZPOPMIN,
 * BZPOPMAX, LMPOP, BLMPOP, ZMPOP, BZMPOP. The caller never sees the prefix
 * anywhere else (its keys go out prefixed, db.scan() yields them without it).
 *
 * Exact: a name loses the prefix once, and only when it starts with it: a
 * Buffer name by the prefix's bytes, a string name by the prefix's UTF-8
 * reading (U+FFFD for bytes of a binary prefix that are not UTF-8). Every
 * name here is one the caller passed, so its bytes are the prefix's and then
 * the key's, and their reading is the prefix's reading followed by the key's
 * whenever the key is UTF-8 itself (as every string key is), whatever the
 * prefix ends with (a key's first byte is never a continuation byte, so it
 * ends an unfinished sequence of the prefix as the end of the text would). A
 * key that is not UTF-8 reads with U+FFFD anyway: walk such names with
 * `decode: 'buffer'`. db.scan() takes it off the same way (scan.ts). Replies
 * are never changed in place (a MULTI result and its handle each get their
 * own), and a shape that is not the command's (an error, null, attributes)
 * passes through as it came.
 */
import type { Reply } from '../resp/types.js';

/** The prefix as a reply holds it. */
export interface ReplyPrefix {
  /** What a string name starts with: the prefix's UTF-8 reading. */
  readonly text: string;
  readonly bytes: Buffer;
}

/** Takes the prefix off the key names of one command's reply. */
export type ReplyUnprefixer = (value: Reply) => Reply;

/** One view's unprefixers, made once with its prefix (prefix.ts keyPrefix). */
export interface ReplyUnprefixers {
  /** The reply is `[key, ...]` (BLPOP, LMPOP, ...) or null. */
  readonly firstKey: ReplyUnprefixer;
  /** XREAD's reply: stream name -> entries (an object, a Map, or RESP2 pairs), or null. */
  readonly streams: ReplyUnprefixer;
}

const FIRST_IS_KEY: ReadonlySet<string> = new Set(['BLPOP', 'BRPOP', 'BZPOPMIN', 'BZPOPMAX', 'LMPOP', 'BLMPOP', 'ZMPOP', 'BZMPOP']);
const NAMES_STREAMS: ReadonlySet<string> = new Set(['XREAD', 'XREADGROUP']);

/** The unprefixer for a command (its CommandInfo name), or undefined when its reply names no keys. */
export function replyUnprefixer(name: string, of: ReplyUnprefixers): ReplyUnprefixer | undefined {
  return FIRST_IS_KEY.has(name) ? of.firstKey : NAMES_STREAMS.has(name) ? of.streams : undefined;
}

export function replyUnprefixers(text: string | undefined, bytes: Buffer): ReplyUnprefixers {
  const prefix = replyPrefix(text, bytes);
  return {
    firstKey: (value) => firstKey(value, prefix),
    streams: (value) => streams(value, prefix),
  };
}

/** A view's prefix (its text as given, or none for a Buffer prefix) as key names carry it: see the module comment. */
export function replyPrefix(text: string | undefined, bytes: Buffer): ReplyPrefix {
  return { text: text ?? bytes.toString('utf8'), bytes };
}

/**
 * `name` without the prefix, once, when it starts with it: a string by the
 * prefix's `text`, a Buffer by its `bytes`. Also db.scan()'s (scan.ts).
 */
export function unprefixed(name: Reply, prefix: ReplyPrefix): Reply {
  if (typeof name === 'string') return name.startsWith(prefix.text) ? name.slice(prefix.text.length) : name;
  if (Buffer.isBuffer(name)) {
    const n = prefix.bytes.length;
    return name.length >= n && prefix.bytes.compare(name, 0, n) === 0 ? name.subarray(n) : name;
  }
  return name;
}

function firstKey(value: Reply, prefix: ReplyPrefix): Reply {
  if (!Array.isArray(value) || value.length === 0) return value;
  const copy = value.slice();
  copy[0] = unprefixed(value[0]!, prefix);
  return copy;
}

function streams(value: Reply, prefix: ReplyPrefix): Reply {
  if (Array.isArray(value)) {
    // RESP2: [[name, entries], ...]
    return value.map((pair) => (Array.isArray(pair) && pair.length === 2 ? [unprefixed(pair[0]!, prefix), pair[1]!] : pair));
  }
  if (value instanceof Map) {
    const map = new Map<Reply, Reply>();
    for (const [name, entries] of value) map.set(unprefixed(name, prefix), entries);
    return map;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === null) {
    // RESP3's map as a null-prototype object (resp/maps.ts): its names are strings.
    const obj: { [name: string]: Reply } = Object.create(null);
    for (const name of Object.keys(value)) obj[unprefixed(name, prefix) as string] = (value as { [name: string]: Reply })[name]!;
    return obj;
  }
  return value;
}
