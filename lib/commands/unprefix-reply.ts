/**
 * A view's key prefix (`db.with({ prefix })`, prefix.ts) taken off the key
 * names a reply holds, so the caller gets back the names it passed: the
 * stream names of XREAD / XREADGROUP, the key of BLPOP, BRPOP, BZPOPMIN,
 * BZPOPMAX, LMPOP, BLMPOP, ZMPOP, BZMPOP. The caller never sees the prefix
 * anywhere else (its keys go out prefixed, db.scan() yields them without it).
 *
 * Exact: a name loses the prefix once, and only when it starts with it. A
 * string name is compared with the prefix's text (a binary prefix whose
 * bytes are not UTF-8 has none: the string the decoder made of such a name
 * cannot be told apart, so it stays as stored; with `decode: 'buffer'` its
 * bytes are compared). Replies are never changed in place (a MULTI result
 * and its handle each get their own), and a shape that is not the command's
 * (an error, null, attributes) passes through as it came.
 */
import type { Reply } from '../resp/types.js';

/** The prefix as a reply holds it. */
export interface ReplyPrefix {
  /** Its text, when its bytes read back as exactly this text. */
  readonly text: string | undefined;
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
  const prefix: ReplyPrefix = { text: text ?? textOf(bytes), bytes };
  return {
    firstKey: (value) => firstKey(value, prefix),
    streams: (value) => streams(value, prefix),
  };
}

/** `bytes` as text, when reading them as UTF-8 and writing the text back gives the same bytes. */
function textOf(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/**
 * `name` without the prefix, once, when it starts with it: a string by the
 * prefix's `text` (none: kept), a Buffer by its `bytes`. Also db.scan()'s (scan.ts).
 */
export function unprefixed(name: Reply, prefix: ReplyPrefix): Reply {
  if (typeof name === 'string') {
    const text = prefix.text;
    return text !== undefined && name.startsWith(text) ? name.slice(text.length) : name;
  }
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
