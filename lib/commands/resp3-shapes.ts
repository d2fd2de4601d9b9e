/**
 * RESP2 replies in RESP3 shapes, for the commands of the reply table
 * (reply-table.ts), so that the typed API holds on both protocols. Only a
 * connection that speaks RESP2 and a handle that asked for it (the `resp2:
 * 'resp3'` option) pay for this; RESP3 replies never pass here.
 *
 * What changes, and nothing else (a reply already in its RESP3 shape, as a
 * MULTI slot can be, is left as it is):
 *  - a map (HGETALL, CONFIG GET, XINFO ..., XREAD's streams): a flat array of
 *    keys and values, or an array of [key, value] pairs, becomes a
 *    null-prototype object (a `Map` with map: 'map');
 *  - a set (SMEMBERS, SINTER, ...): a `Set` with set: 'set' (else it is an
 *    array either way);
 *  - a double (ZSCORE, ZINCRBY, WITHSCORES scores, GEOPOS): its text becomes a
 *    number ('inf' -> Infinity);
 *  - pairs (WITHSCORES, WITHVALUES, ZPOPMIN with a count): a flat array
 *    becomes an array of [member, score] tuples.
 */
import { isUtf8 } from 'node:buffer';
import { DECODE_BUFFERS, DECODE_MAPS, DECODE_SETS, type Reply } from '../resp/types.js';
import { isKeyword } from './words.js';
import { REPLY_TABLE, type Shape } from './reply-table.js';

const table: Readonly<Record<string, Shape>> = REPLY_TABLE;

/** The reply shape of a call, or undefined when the table has none. `name` in any case; a container's subcommand is args[0]. */
export function replyShape(name: string, args: ArrayLike<unknown>): Shape | undefined {
  const upper = name.toUpperCase();
  const sub = args.length > 0 && typeof args[0] === 'string' ? `${upper} ${args[0].toUpperCase()}` : undefined;
  if (sub !== undefined && Object.hasOwn(table, sub)) return table[sub];
  return Object.hasOwn(table, upper) ? table[upper] : undefined;
}

/** A RESP2 reply of the call `name args` in its RESP3 shape (unchanged for commands the table does not know). */
export function resp2ToResp3(name: string, args: ArrayLike<unknown>, value: Reply, flags: number): Reply {
  const shape = replyShape(name, args);
  return shape === undefined ? value : toResp3(shape, value, args, flags);
}

/** Whether an argument at index `from` or later is the keyword `word` (any case, text or bytes). */
function hasWord(args: ArrayLike<unknown>, word: string, from: number): boolean {
  for (let i = from; i < args.length; i++) if (isKeyword(args[i], word)) return true;
  return false;
}

/** The branch of a `kw` / `argc` shape this call takes; other shapes as they are. */
export function branch(shape: Shape, args: ArrayLike<unknown>): Shape {
  if (typeof shape === 'string') return shape;
  if (shape[0] === 'kw') return branch(hasWord(args, shape[1], shape[2]) ? shape[3] : shape[4], args);
  if (shape[0] === 'argc') return branch(args.length > shape[1] ? shape[2] : shape[3], args);
  return shape;
}

function toDouble(v: Reply): Reply {
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const text = v.toString().toLowerCase();
    if (text === 'inf' || text === '+inf') return Infinity;
    if (text === '-inf') return -Infinity;
    return Number(text);
  }
  return v;
}

/** `value` (a RESP2 reply, or already RESP3) in the RESP3 shape `shape`, decoded per `flags` (DECODE_*). */
export function toResp3(shape: Shape, value: Reply, args: ArrayLike<unknown>, flags: number): Reply {
  const s = branch(shape, args);
  if (value === null || value instanceof Error) return value;
  if (s === 'double') return toDouble(value);
  if (typeof s !== 'string' && s[0] === '?') return toResp3(s[1], value, args, flags);
  if (typeof s === 'string' || !Array.isArray(value)) return value; // scalars, and aggregates already in a RESP3 form
  switch (s[0]) {
    case 'arr': {
      const of = branch(s[1], args);
      // Pairs sent flat (WITHSCORES): [m1, s1, m2, s2] -> [[m1, s1], [m2, s2]].
      if (typeof of !== 'string' && of[0] === 'tup' && value.length > 0 && !Array.isArray(value[0]) && value[0] !== null) {
        const width = of.length - 1;
        const out: Reply[] = [];
        for (let i = 0; i + width <= value.length; i += width) out.push(toResp3(of, value.slice(i, i + width), args, flags));
        return out;
      }
      return value.map((v) => toResp3(of, v, args, flags));
    }
    case 'set': {
      const items = value.map((v) => toResp3(s[1], v, args, flags));
      return flags & DECODE_SETS ? new Set(items) : items;
    }
    case 'map':
      return toMap(s[1], value, args, flags);
    case 'tup':
      return value.map((v, i) => (i + 1 < s.length ? toResp3(s[i + 1] as Shape, v, args, flags) : v));
    case 'or':
      // The alternatives of the table differ only in RESP3-neutral ways (geo items: doubles inside).
      return toResp3(s[2], toResp3(s[1], value, args, flags), args, flags);
    default:
      return value;
  }
}

/**
 * A RESP2 map: flat [k, v, k, v] or pairs [[k, v], ...] -> a null-prototype object, or a `Map`: with `DECODE_MAPS`,
 * or (as for a RESP3 map, resp/maps.ts) when a Buffer key is not UTF-8, whose text would not give its bytes back.
 */
function toMap(of: Shape, value: Reply[], args: ArrayLike<unknown>, flags: number): Reply {
  const pairs = value.length > 0 && Array.isArray(value[0]);
  const step = pairs ? 1 : 2;
  if (flags & DECODE_MAPS || (flags & DECODE_BUFFERS && hasBinaryKey(value, pairs, step))) {
    const map = new Map<Reply, Reply>();
    for (let i = 0; i + step <= value.length; i += step) {
      const [k, v] = pairs ? (value[i] as Reply[]) : [value[i]!, value[i + 1]!];
      map.set(k!, toResp3(of, v ?? null, args, flags));
    }
    return map;
  }
  const obj: { [key: string]: Reply } = Object.create(null);
  for (let i = 0; i + step <= value.length; i += step) {
    const [k, v] = pairs ? (value[i] as Reply[]) : [value[i]!, value[i + 1]!];
    obj[String(k)] = toResp3(of, v ?? null, args, flags);
  }
  return obj;
}

function hasBinaryKey(value: Reply[], pairs: boolean, step: number): boolean {
  for (let i = 0; i + step <= value.length; i += step) {
    const k = pairs ? (value[i] as Reply[])[0] : value[i];
    if (Buffer.isBuffer(k) && !isUtf8(k)) return true;
  }
  return false;
}
