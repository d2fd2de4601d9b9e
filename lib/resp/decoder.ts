/**
 * Resumable RESP2/RESP3 decoder (sans-IO: no sockets, no timers).
 *
 * `feed(bytes)` parses as many complete frames as the bytes allow and hands
 * each top-level one to the sink. Aggregates under construction live on a frame
 * stack, so a reply split across chunks is resumed where it stopped: only the
 * one scalar element that was cut is kept back, never the whole reply, and a
 * large bulk string is collected chunk by chunk and joined once.
 *
 * Any byte that is not RESP, or a reply beyond the configured limits (see
 * `DecoderLimits`: lengths, depth, and per reply its bytes and its values),
 * throws a `ProtocolError`; after that the decoder is unusable (the connection
 * must be dropped: RESP has no way to resynchronise).
 *
 * Maps become null-prototype objects (or `Map`s with `DECODE_MAPS`). RESP3
 * lets a map key be any value; an object key can only be a string, so a map
 * with an aggregate key (array, map, set, or an attributed value) decodes as a
 * `Map` keyed by the decoded values whatever the flags: it is never coerced to
 * a lossy string, and never a TypeError. Scalar keys (numbers, booleans, null,
 * big numbers, Buffers) keep the object form, keyed by their text, unless that
 * text would lose something (maps.ts).
 *
 * Reference: RESP3 specification (github.com/redis/redis-specifications).
 */
import { ProtocolError, serverErrorFrom } from '../errors.js';
import {
  Attributed,
  DECODE_ATTRIBUTES,
  DECODE_BUFFERS,
  DECODE_SETS,
  DEFAULT_LIMITS,
  type DecoderLimits,
  type DecoderSink,
  type Reply,
} from './types.js';
import { buildMap } from './maps.js';
import { parseInteger, parseLength } from './numbers.js';
import { asciiText } from './short-text.js';
import { BIG_BULK, BIG_BULK_MAX, BulkCollector, bulkValue, type BigBulk } from './big-bulk.js';

const enum Kind {
  Array,
  Map,
  Set,
  Push,
  Attribute,
  StreamedString,
}

interface Frame {
  kind: Kind;
  /** Elements still expected; -1 for streamed aggregates (ended by `.`). */
  remaining: number;
  items: Reply[];
  /** Attribute waiting to be attached to the next element of this frame. */
  attribute: Reply | undefined;
  /** Flags of the top-level reply this frame belongs to. */
  flags: number;
  /** Parts of a streamed string, joined once at its end (never summed per chunk: that was quadratic). */
  parts: Buffer[] | undefined;
  /** Bytes in `parts`. */
  bytes: number;
}

const EMPTY = Buffer.alloc(0);

/** The type bytes a RESP3 frame may start with: + - : $ ! = ; * % ~ > | _ # , ( . */
const RESP_TYPES: ReadonlySet<number> = new Set([43, 45, 58, 36, 33, 61, 59, 42, 37, 126, 62, 124, 95, 35, 44, 40, 46]);


type FastBuffer = Buffer & {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
};

export class Decoder {
  private buf: FastBuffer = EMPTY as FastBuffer;
  private off = 0;
  private stack: Frame[] = [];
  /** Flags of the top-level reply being decoded (valid while the stack is non-empty). */
  private flags = 0;
  /** Attribute read at top level, waiting for its value. */
  private topAttribute: Reply | undefined = undefined;
  /** A bulk string that did not fit in the bytes received: parts so far and bytes needed. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /**
   * A large bulk string (or error, or verbatim string) cut by the end of a
   * read: its bytes (and CRLF) are copied here as they arrive, once, instead
   * of keeping the cut and joining it with the whole next read (which copied
   * most bytes of a 64 KiB reply twice). See BigBulk.
   */
  private big: BigBulk | undefined = undefined;
  private readonly collector = new BulkCollector();
  private need = 0;
  private failed: ProtocolError | undefined;
  /** The sink asked to stop at the next reply boundary (pause()). */
  private pauseRequested = false;
  /** Stopped at a reply boundary with bytes left in \`buf\`: resume() goes on. */
  private paused = false;
  /*
   * Per-reply accounting, for replies that open a frame (aggregates, streamed
   * strings, a top-level attribute with its value); a plain top-level scalar is
   * bounded by its own length limits and skips it (the hot path).
   */
  /** Bytes of the current reply in the buffers before this one. */
  private replyBytes = 0;
  /** Where the current reply starts in this buffer (0 if it started in an earlier one). */
  private replyFrom = 0;
  /** Values of the current reply so far (DecoderLimits.maxReplyElements). */
  private elements = 0;
  private readonly maxReplyBytes: number;
  private readonly maxElements: number;
  private readonly limits: DecoderLimits;

  constructor(
    private readonly sink: DecoderSink,
    limits: Partial<DecoderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.maxReplyBytes = this.limits.maxReplyBytes;
    this.maxElements = this.limits.maxReplyElements;
  }

  /** True when no partial frame is buffered (the stream is at a reply boundary). */
  get idle(): boolean {
    return this.stack.length === 0 && this.off >= this.buf.length && this.partsLength === 0 && this.big === undefined;
  }

  /** Drop all partial state (after the connection was replaced). */
  reset(): void {
    this.replyBytes = 0;
    this.replyFrom = 0;
    this.elements = 0;
    this.buf = EMPTY as FastBuffer;
    this.off = 0;
    this.stack = [];
    this.topAttribute = undefined;
    this.parts = [];
    this.partsLength = 0;
    this.need = 0;
    this.big = undefined;
    this.failed = undefined;
    this.pauseRequested = false;
    this.paused = false;
  }

  /**
   * Stop after the reply being delivered (call it from the sink's onReply):
   * feed() or resume() then returns true, keeping the rest of the bytes for
   * resume(). Nothing happens if the bytes end there anyway.
   */
  pause(): void {
    this.pauseRequested = true;
  }

  /** Go on decoding after a pause; true if it paused again. */
  resume(): boolean {
    if (!this.paused) return false;
    this.paused = false;
    return this.decode(undefined);
  }

  /** Decode \`chunk\`; true if the sink paused the decoder with bytes left (see pause()). Never call it while paused. */
  feed(chunk: Buffer): boolean {
    if (this.failed) throw this.failed;
    this.pauseRequested = false;
    let from = 0;
    const big = this.big;
    if (big !== undefined) {
      from = big.fill(chunk);
      if (!big.complete) return false;
      this.big = undefined;
    } else if (this.partsLength > 0) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      if (this.partsLength < this.need) return false;
      chunk = Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
      this.need = 0;
    }
    this.buf = chunk as FastBuffer;
    this.off = from;
    return this.decode(big);
  }

  private decode(big: BigBulk | undefined): boolean {
    try {
      if (big !== undefined) this.bigDone(big);
      return this.run();
    } catch (err) {
      if (err instanceof ProtocolError) this.failed = err;
      throw err;
    }
  }

  private fail(message: string): never {
    throw new ProtocolError(`invalid RESP from server: ${message}`);
  }

  /** True while a reply that opened a frame is incomplete (the bytes and values it spans are counted). */
  private get inReply(): boolean {
    return this.stack.length > 0 || this.topAttribute !== undefined;
  }

  /** The current reply spans this buffer up to `end` (exclusive), and more: carry its count over. */
  private carry(end: number, more: number): void {
    this.replyBytes += end - this.replyFrom;
    this.replyFrom = 0;
    if (this.replyBytes + more > this.maxReplyBytes) this.tooLong();
  }

  /** The current reply ends at `this.off`. */
  private replyEnd(): void {
    if (this.replyBytes + this.off - this.replyFrom > this.maxReplyBytes) this.tooLong();
  }

  private tooLong(): never {
    this.fail(`a reply longer than ${this.maxReplyBytes} bytes (limits.maxReplyBytes)`);
  }

  /** Count one more value of the current reply. */
  private count(): void {
    if (++this.elements > this.maxElements) this.fail(`a reply of more than ${this.maxElements} elements (limits.maxReplyElements)`);
  }

  /** A streamed aggregate (no declared length) grew by one element: hold it to maxAggregateLength. */
  private streamedGrew(frame: Frame): void {
    const max = this.limits.maxAggregateLength;
    const pairs = frame.kind === Kind.Map || frame.kind === Kind.Attribute;
    if (frame.items.length > (pairs ? 2 * max : max)) this.fail(`a streamed aggregate of more than ${max} elements (limits.maxAggregateLength)`);
  }

  /** Keep the bytes from `start` for the next feed, needing `need` bytes in total. */
  private keep(start: number, need: number): void {
    // The kept element belongs to the reply: count what came before it, and fail now if it cannot fit.
    if (this.inReply) this.carry(start, need);
    const rest = this.buf.subarray(start);
    if (rest.length > 0) {
      this.parts = [rest];
      this.partsLength = rest.length;
      this.need = Math.max(need, rest.length + 1);
    }
    this.buf = EMPTY as FastBuffer;
    this.off = 0;
  }

  /** Position of the CR of the line starting at `from`, or -1 if not yet received. */
  private lineEnd(from: number): number {
    const buf = this.buf;
    const end = buf.length;
    const limit = Math.min(end, from + this.limits.maxLineLength + 1);
    for (let i = from; i < limit; i++) {
      if (buf[i] === 13) {
        if (i + 1 >= end) return -1;
        if (buf[i + 1] !== 10) this.fail('CR not followed by LF');
        return i;
      }
    }
    if (limit < end) this.fail(`line longer than ${this.limits.maxLineLength} bytes`);
    return -1;
  }

  private text(start: number, end: number, flags: number): string | Buffer {
    const buf = this.buf;
    if (flags & DECODE_BUFFERS) return Buffer.from(buf.subarray(start, end));
    if (end - start <= 64) {
      // Short ASCII (most keys and values): cheaper than UTF-8 decoding (see short-text.ts).
      let i = start;
      while (i < end && buf[i]! < 0x80) i++;
      if (i === end) return asciiText(buf, start, end);
    }
    return buf.utf8Slice(start, end);
  }

  /** The bulk whose header is at `start` and body at `next` goes past this read: collect it in its own buffer. */
  private bigStart(type: number, start: number, next: number, len: number, flags: number): void {
    // Its bytes count toward the reply it belongs to; fail now if they cannot fit.
    if (this.inReply) this.carry(start, next + len + 2 - start);
    this.big = this.collector.start(type, this.buf.subarray(next), len, next + len + 2 - start, flags);
    this.buf = EMPTY as FastBuffer;
    this.off = 0;
  }

  /** The bulk collected by bigStart is complete (and \`off\` is past it): deliver it like any other. */
  private bigDone(big: BigBulk): void {
    if (this.inReply) {
      this.replyBytes += big.bytes;
      this.replyFrom = this.off;
    }
    const top = this.stack.length === 0 && this.topAttribute === undefined;
    const value = bulkValue(big, top);
    if (top) this.sink.onReply(value);
    else this.emit(value);
  }

  /** Decode what \`buf\` holds from \`off\`; true if it stopped at a pause with bytes left. */
  private run(): boolean {
    const limits = this.limits;
    for (;;) {
      const buf = this.buf;
      const start = this.off;
      if (start >= buf.length) {
        if (this.inReply) this.carry(buf.length, 0);
        this.buf = EMPTY as FastBuffer;
        this.off = 0;
        this.pauseRequested = false;
        return false;
      }
      const stack = this.stack;
      if (this.pauseRequested && stack.length === 0 && this.topAttribute === undefined) {
        this.pauseRequested = false;
        this.paused = true;
        return true;
      }
      const type = buf[start]!;
      // Top-level frames take their flags from the sink, asked once per reply.
      if (stack.length === 0 && this.topAttribute === undefined) {
        this.flags = this.sink.replyFlags(type === 62);
      }
      const flags = this.flags;
      const eol = this.lineEnd(start + 1);
      if (eol < 0) {
        // Not RESP from its first byte (a blank line, an HTTP answer): refused now, not once a line completes,
        // which a server that goes silent may never send. Only here, off the path of complete lines.
        if (!RESP_TYPES.has(type)) this.fail(`unknown type byte 0x${type.toString(16).padStart(2, '0')}`);
        this.keep(start, buf.length - start + 1);
        return false;
      }
      const next = eol + 2;
      let value: Reply;
      switch (type) {
        case 43: // + simple string
          // "+OK" is most of the simple strings on the wire: skip the native call for it.
          value = eol === start + 3 && buf[start + 1] === 79 && buf[start + 2] === 75 ? 'OK' : buf.utf8Slice(start + 1, eol);
          break;
        case 45: // - simple error
          value = serverErrorFrom(buf.utf8Slice(start + 1, eol), stack.length === 0);
          break;
        case 58: // : integer
          value = parseInteger(this.buf, start + 1, eol);
          break;
        case 36: // $ bulk string
        case 33: // ! bulk error
        case 61: {
          // = verbatim string
          const len = parseLength(this.buf, start + 1, eol, limits.maxBulkLength);
          if (len === -1) {
            value = null;
            break;
          }
          if (len === -2) {
            if (type !== 36) this.fail('streamed length on a non-string type');
            this.push(Kind.StreamedString, -1, flags, start);
            this.stack[this.stack.length - 1]!.parts = [];
            this.off = next;
            continue;
          }
          const end = next + len;
          if (end + 2 - start > this.maxReplyBytes) this.tooLong();
          if (end + 2 > buf.length) {
            if (len >= BIG_BULK && len <= BIG_BULK_MAX) this.bigStart(type, start, next, len, flags);
            else this.keep(start, end + 2 - start);
            return false;
          }
          if (buf[end] !== 13 || buf[end + 1] !== 10) this.fail('bulk string not followed by CRLF');
          this.off = end + 2;
          if (type === 33) value = serverErrorFrom(buf.utf8Slice(next, end), stack.length === 0);
          else if (type === 61) {
            // Verbatim strings start with a 3-letter format and a colon ("txt:").
            if (len < 4 || buf[next + 3] !== 58) this.fail('verbatim string without format');
            value = this.text(next + 4, end, flags);
          } else value = this.text(next, end, flags);
          if (stack.length === 0 && this.topAttribute === undefined) this.sink.onReply(value);
          else this.emit(value);
          continue;
        }
        case 59: {
          // ; chunk of a streamed string
          const top = peek(stack);
          if (!top || top.kind !== Kind.StreamedString) this.fail('string chunk outside a streamed string');
          const len = parseLength(this.buf, start + 1, eol, limits.maxBulkLength);
          if (len < 0) this.fail('bad chunk length');
          if (len === 0) {
            stack.pop();
            const whole = Buffer.concat(top.parts!, top.bytes);
            this.off = next;
            this.emit(flags & DECODE_BUFFERS ? whole : whole.toString('utf8'));
            continue;
          }
          const end = next + len;
          if (top.bytes + len > limits.maxBulkLength) this.fail(`streamed string exceeds the limit of ${limits.maxBulkLength}`);
          if (end + 2 > buf.length) {
            this.keep(start, end + 2 - start);
            return false;
          }
          if (buf[end] !== 13 || buf[end + 1] !== 10) this.fail('string chunk not followed by CRLF');
          this.count(); // each part is an object until the string is joined
          top.parts!.push(Buffer.from(buf.subarray(next, end)));
          top.bytes += len;
          this.off = end + 2;
          continue;
        }
        case 42: // * array
        case 37: // % map
        case 126: // ~ set
        case 62: // > push
        case 124: {
          // | attribute
          const n = parseLength(this.buf, start + 1, eol, limits.maxAggregateLength);
          if (n === -1) {
            if (type !== 42) this.fail('null length on a non-array aggregate');
            value = null;
            break;
          }
          this.off = next;
          const kind =
            type === 42 ? Kind.Array : type === 37 ? Kind.Map : type === 126 ? Kind.Set : type === 62 ? Kind.Push : Kind.Attribute;
          if (n === 0) {
            this.push(kind, 0, flags, start);
            this.finishFrames();
            continue;
          }
          const elements = kind === Kind.Map || kind === Kind.Attribute ? (n === -2 ? -1 : n * 2) : n === -2 ? -1 : n;
          this.push(kind, elements, flags, start);
          continue;
        }
        case 95: // _ null
          if (eol !== start + 1) this.fail('null with payload');
          value = null;
          break;
        case 35: // # boolean
          if (eol !== start + 2) this.fail('bad boolean');
          if (buf[start + 1] === 116) value = true;
          else if (buf[start + 1] === 102) value = false;
          else this.fail('bad boolean');
          break;
        case 44: {
          // , double
          const t = buf.latin1Slice(start + 1, eol);
          if (t === 'inf' || t === '+inf') value = Infinity;
          else if (t === '-inf') value = -Infinity;
          else if (t === 'nan' || t === '-nan') value = NaN;
          else {
            value = Number(t);
            if (t.length === 0 || Number.isNaN(value)) this.fail('bad double');
          }
          break;
        }
        case 40: {
          // ( big number
          const t = buf.latin1Slice(start + 1, eol);
          if (!/^[-+]?\d+$/.test(t)) this.fail('bad big number');
          value = BigInt(t);
          break;
        }
        case 46: {
          // . end of a streamed aggregate
          const top = peek(stack);
          if (!top || top.remaining !== -1 || top.kind === Kind.StreamedString || eol !== start + 1) {
            this.fail('unexpected end marker');
          }
          top.remaining = 0;
          this.off = next;
          this.finishFrames();
          continue;
        }
        default:
          this.fail(`unknown type byte 0x${type.toString(16).padStart(2, '0')}`);
      }
      this.off = next;
      // Fast path: a complete top-level reply goes straight to the sink.
      if (stack.length === 0 && this.topAttribute === undefined) this.sink.onReply(value);
      else this.emit(value);
    }
  }

  /** Open a frame for the aggregate (or streamed string) whose header starts at `start`. */
  private push(kind: Kind, remaining: number, flags: number, start: number): void {
    const stack = this.stack;
    if (stack.length >= this.limits.maxDepth) this.fail(`nesting deeper than ${this.limits.maxDepth}`);
    if (stack.length === 0 && this.topAttribute === undefined) {
      // A new reply: its bytes and values are counted from here.
      this.replyBytes = 0;
      this.replyFrom = start;
      this.elements = 0;
    }
    this.count();
    // Elements are pushed as they arrive, never preallocated from the declared
    // length: a server that announces 2^32 elements gets no 2^32-slot array.
    stack.push({ kind, remaining, items: [], attribute: undefined, flags, parts: undefined, bytes: 0 });
  }

  /** Add a complete value to the innermost frame, or deliver it at top level. */
  private emit(value: Reply): void {
    const stack = this.stack;
    const top = peek(stack);
    if (top === undefined) {
      // Only replies that opened a frame get here (plain scalars go to the sink directly).
      this.replyEnd();
      if (this.topAttribute !== undefined) {
        if (this.flags & DECODE_ATTRIBUTES) value = new Attributed(value, this.topAttribute);
        this.topAttribute = undefined;
      }
      this.sink.onReply(value);
      return;
    }
    if (top.kind === Kind.StreamedString) this.fail('value inside a streamed string');
    this.count();
    if (top.attribute !== undefined) {
      if (top.flags & DECODE_ATTRIBUTES) value = new Attributed(value, top.attribute);
      top.attribute = undefined;
    }
    top.items.push(value);
    if (top.remaining > 0) {
      if (--top.remaining === 0) this.finishFrames();
    } else this.streamedGrew(top);
  }

  /** Pop every complete frame, building its JS value and emitting it upward. */
  private finishFrames(): void {
    const stack = this.stack;
    for (;;) {
      const top = peek(stack);
      if (top === undefined || top.remaining !== 0) return;
      stack.pop();
      if (stack.length === 0) this.replyEnd();
      let value: Reply;
      switch (top.kind) {
        case Kind.Array:
          value = top.items;
          break;
        case Kind.Set:
          value = top.flags & DECODE_SETS ? new Set(top.items) : top.items;
          break;
        case Kind.Push:
          if (stack.length > 0) this.fail('push frame nested in an aggregate');
          this.sink.onPush(top.items);
          continue;
        case Kind.Map:
        case Kind.Attribute:
          value = buildMap(top.items, top.kind === Kind.Attribute ? 0 : top.flags);
          if (top.kind === Kind.Attribute) {
            // An attribute describes the element that follows it; it is not an element itself.
            const parent = peek(stack);
            if (parent) parent.attribute = value;
            else this.topAttribute = value;
            continue;
          }
          break;
        default:
          this.fail('unexpected frame');
      }
      const parent = peek(stack);
      if (parent === undefined) {
        this.emit(value);
        return;
      }
      if (parent.attribute !== undefined) {
        if (parent.flags & DECODE_ATTRIBUTES) value = new Attributed(value, parent.attribute);
        parent.attribute = undefined;
      }
      parent.items.push(value);
      if (parent.remaining > 0) parent.remaining--;
      else this.streamedGrew(parent);
    }
  }
}

/**
 * The innermost frame, or undefined. Never `stack[-1]`: an out-of-bounds read
 * sends V8 down the slow keyed-load path (it was half the cost of a reply).
 */
function peek(stack: Frame[]): Frame | undefined {
  return stack.length === 0 ? undefined : stack[stack.length - 1];
}
