/**
 * RESP3 maps as JavaScript values (the decoder's header comment says why a
 * map with an aggregate key is a \`Map\` whatever the flags).
 */
import { DECODE_MAPS, type Reply } from './types.js';

/**
 * Build a map value: a null-prototype object by default (no prototype
 * pollution), or a `Map` with `DECODE_MAPS`, or when a key is an aggregate
 * (see the header comment: an object key can only be a string).
 */
export function buildMap(items: Reply[], flags: number): Reply {
  if (flags & DECODE_MAPS) return toMap(items);
  const obj: { [key: string]: Reply } = Object.create(null);
  for (let i = 0; i + 1 < items.length; i += 2) {
    const k = items[i]!;
    if (typeof k === 'string') obj[k] = items[i + 1]!;
    else if (Buffer.isBuffer(k)) obj[k.toString('utf8')] = items[i + 1]!;
    else if (k === null || typeof k !== 'object') obj[String(k)] = items[i + 1]!;
    else return toMap(items);
  }
  return obj;
}

function toMap(items: Reply[]): Map<Reply, Reply> {
  const map = new Map<Reply, Reply>();
  for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
  return map;
}
