/**
 * Large bulk strings cut by the end of a read (decoder.ts): their bytes are
 * copied once, as they arrive, into a buffer of their own size, instead of
 * keeping the cut and joining it with the whole next read (which copied most
 * bytes of a 64 KiB reply twice, and made a new buffer each time).
 */
import { ProtocolError, serverErrorFrom } from '../errors.js';
import { DECODE_BUFFERS, type Reply } from './types.js';

/** Bulk strings from this length on are collected when a read cuts them. */
export const BIG_BULK = 4096;
/**
 * ... up to this length: the buffer is allocated when the header arrives, so a
 * server announcing a huge string gets no more than this before sending it
 * (longer ones are kept part by part as they arrive, then joined).
 */
export const BIG_BULK_MAX = 1024 * 1024;
/** Largest scratch buffer a collector keeps for text; longer strings get a buffer of their own. */
const SCRATCH_MAX = 512 * 1024;

type FastBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/** One bulk string being collected. */
export class BigBulk {
  constructor(
    /** Its type byte: $ (36), ! (33) or = (61). */
    readonly type: number,
    /** Its body and CRLF, `filled` bytes of it received. */
    readonly target: Buffer,
    private filled: number,
    /** Its bytes on the wire, header included (counted toward its reply's limit). */
    readonly bytes: number,
    readonly flags: number,
  ) {}

  get complete(): boolean {
    return this.filled === this.target.length;
  }

  /** Take what it still needs from the front of `chunk`; returns how many bytes it took. */
  fill(chunk: Buffer): number {
    const n = Math.min(this.target.length - this.filled, chunk.length);
    chunk.copy(this.target, this.filled, 0, n);
    this.filled += n;
    return n;
  }
}

/** Makes a decoder's BigBulks; text is decoded from one reused scratch buffer (never handed out). */
export class BulkCollector {
  private scratch: Buffer = Buffer.alloc(0);

  /** Start collecting a bulk of `len` bytes whose first bytes are `head`. */
  start(type: number, head: Buffer, len: number, bytes: number, flags: number): BigBulk {
    const text = type !== 36 || !(flags & DECODE_BUFFERS);
    let target: Buffer;
    if (text && len + 2 <= SCRATCH_MAX) {
      if (this.scratch.length < len + 2) this.scratch = Buffer.allocUnsafe(Math.max(len + 2, Math.min(SCRATCH_MAX, this.scratch.length * 2)));
      target = this.scratch.subarray(0, len + 2);
    } else target = Buffer.allocUnsafe(len + 2); // a Buffer reply: handed out as is, never copied again
    head.copy(target, 0);
    return new BigBulk(type, target, head.length, bytes, flags);
  }
}

/** The reply a complete bulk is (`top`: a top-level reply, for error classes). */
export function bulkValue(big: BigBulk, top: boolean): Reply {
  const t = big.target as FastBuffer;
  const len = t.length - 2;
  if (t[len] !== 13 || t[len + 1] !== 10) throw new ProtocolError('invalid RESP from server: bulk string not followed by CRLF');
  if (big.type === 33) return serverErrorFrom(t.utf8Slice(0, len), top);
  const buffers = (big.flags & DECODE_BUFFERS) !== 0;
  if (big.type === 61) {
    // Verbatim strings start with a 3-letter format and a colon ("txt:").
    if (len < 4 || t[3] !== 58) throw new ProtocolError('invalid RESP from server: verbatim string without format');
    return buffers ? Buffer.from(t.subarray(4, len)) : t.utf8Slice(4, len);
  }
  return buffers ? t.subarray(0, len) : t.utf8Slice(0, len);
}
