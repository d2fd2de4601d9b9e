/**
 * The decimal numbers of RESP lines: integers (`:`), exact past 2^53 as a
 * bigint, and the length headers of bulk strings and aggregates, bounded by
 * the decoder's limits before anything is allocated. Bytes that are not a
 * number are a ProtocolError (the decoder then gives the connection up).
 */
import { ProtocolError } from '../errors.js';

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

function bad(what: string): never {
  throw new ProtocolError(`invalid RESP from server: ${what}`);
}

/** A signed decimal in `buf[from, to)`: a number, or a bigint beyond the safe integers. */
export function parseInteger(buf: Buffer, from: number, to: number): number | bigint {
  let i = from;
  let negative = false;
  if (buf[i] === 45 /* - */) {
    negative = true;
    i++;
  } else if (buf[i] === 43 /* + */) i++;
  if (i >= to) bad('empty number');
  if (to - i > 15) {
    const text = (buf as Latin1Buffer).latin1Slice(from, to);
    if (!/^[-+]?\d+$/.test(text)) bad('bad integer');
    const big = BigInt(text);
    return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
  }
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) bad('bad integer');
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** A length header in `buf[from, to)`, at most `max`: -1 for null, -2 for `?` (streamed). */
export function parseLength(buf: Buffer, from: number, to: number, max: number): number {
  if (to - from === 1 && buf[from] === 63 /* ? */) return -2;
  if (to - from === 2 && buf[from] === 45 && buf[from + 1] === 49) return -1;
  if (to === from || to - from > 12) bad('bad length');
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) bad('bad length');
    n = n * 10 + d;
  }
  if (n > max) bad(`length ${n} exceeds the limit of ${max}`);
  return n;
}
