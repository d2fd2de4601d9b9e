/**
 * RESP3 maps as JavaScript values (the decoder's header comment says why a
 * map with an aggregate key is a \`Map\` whatever the flags).
 */
import { isUtf8 } from 'node:buffer';
import { DECODE_MAPS, type Reply } from './types.js';

/**
 * Build a map value: a null-prototype object by default (no prototype
 * pollution), or a `Map` with `DECODE_MAPS`, or whenever the object form
 * would lose something: a key that is an aggregate (an object key can only be
 * a string), a Buffer key that is not UTF-8 (under `decode: 'buffer'`: its
 * text would not give its bytes back, and two such keys can share one text),
 * or a number, boolean or null key with the text of another key (the integer
 * 1 and the string '1', which a script can return in one map). Those maps
 * are `Map`s keyed by the decoded values.
 */
export function buildMap(items: Reply[], flags: number): Reply {
  if (flags & DECODE_MAPS) return toMap(items);
  const obj: { [key: string]: Reply } = Object.create(null);
  // Texts are compared once a number, boolean or null key was seen (it can share its text with a string). Keys of
  // one kind are left as before: a server repeats one only when asked to (XREAD STREAMS s s 0 0), and the object
  // keeps the last, under either decoding.
  let mixed = false;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const k = items[i]!;
    let text: string;
    if (typeof k === 'string') text = k;
    else if (Buffer.isBuffer(k)) {
      if (!isUtf8(k)) return toMap(items);
      text = k.toString('utf8');
    } else if (k !== null && typeof k === 'object') return toMap(items);
    else {
      text = String(k);
      mixed = true;
    }
    if (mixed && text in obj) return toMap(items);
    obj[text] = items[i + 1]!;
  }
  return obj;
}

function toMap(items: Reply[]): Map<Reply, Reply> {
  const map = new Map<Reply, Reply>();
  for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
  return map;
}
