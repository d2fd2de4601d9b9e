/**
 * Cached replies are shared by every caller that reads them: each caller gets
 * its own copy of anything mutable (arrays, objects, Maps, Sets, Buffers), so
 * one caller changing its reply can never change what another one reads.
 * Strings, numbers, bigints, booleans and null are immutable and shared as is.
 */
import { Attributed, type Reply } from '../resp/types.js';

export function copyReply(v: Reply): Reply {
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) {
    const out = new Array<Reply>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyReply(v[i]!);
    return out;
  }
  if (v instanceof Map) {
    const m = new Map<Reply, Reply>();
    for (const [k, x] of v as Map<Reply, Reply>) m.set(copyReply(k), copyReply(x));
    return m as unknown as Reply;
  }
  if (v instanceof Set) {
    const s = new Set<Reply>();
    for (const x of v as Set<Reply>) s.add(copyReply(x));
    return s as unknown as Reply;
  }
  if (v instanceof Attributed) return new Attributed(copyReply(v.value), copyReply(v.attributes));
  if (v instanceof Error) return v; // never cached (error replies are not stored); kept as is inside arrays
  const o = Object.create(null) as Record<string, Reply>;
  for (const k of Object.keys(v)) o[k] = copyReply((v as Record<string, Reply>)[k]!);
  return o as unknown as Reply;
}

/** Fixed cost counted for every value (object headers, pointers): an estimate, not a measure. */
const OVERHEAD = 16;

/** A character V8 cannot keep in one byte: a string with one takes two bytes a character. */
const TWO_BYTE = /[^\u0000-\u00ff]/;
/** Shorter strings are counted one byte a character: what the test would add is below the estimate's own error. */
const TWO_BYTE_CHECKED_FROM = 64;

function stringSize(s: string): number {
  return OVERHEAD + (s.length >= TWO_BYTE_CHECKED_FROM && TWO_BYTE.test(s) ? 2 * s.length : s.length);
}

/** An estimate of the memory a reply holds, in bytes: what `maxBytes` bounds. */
export function replySize(v: Reply): number {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? stringSize(v) : OVERHEAD;
  if (Buffer.isBuffer(v)) return OVERHEAD + v.length;
  let n = OVERHEAD;
  if (Array.isArray(v)) for (const x of v) n += replySize(x);
  else if (v instanceof Map) for (const [k, x] of v as Map<Reply, Reply>) n += replySize(k) + replySize(x);
  else if (v instanceof Set) for (const x of v as Set<Reply>) n += replySize(x);
  else if (v instanceof Attributed) n += replySize(v.value) + replySize(v.attributes);
  else if (!(v instanceof Error)) for (const k of Object.keys(v)) n += stringSize(k) + replySize((v as Record<string, Reply>)[k]!);
  return n;
}
