/**
 * RESP command encoder (sans-IO). Commands are appended as arrays of bulk
 * strings into a reusable write buffer; `take()` hands back the chunks written
 * since the last call, ready for one corked write. Large Buffer arguments are
 * never copied: they become chunks of their own between two slices of the
 * write buffer.
 */
import { InvalidArgumentError } from '../errors.js';

/** What a command argument may be. */
export type Arg = string | Buffer | Uint8Array | number | bigint;

/** Buffers at least this large go out as their own chunk instead of being copied. */
const ZERO_COPY_THRESHOLD = 4096;
const BLOCK_SIZE = 64 * 1024;
/**
 * Strings shorter than this are checked and copied char by char in JS; longer
 * ASCII ones are checked, then copied by latin1Write. The native call costs
 * more than the copy below about 256 chars (measured: a 100-char value in
 * 590 ns against 800 ns).
 */
const COPY_IN_JS = 256;

/** Node's undocumented but long-stable fast paths, which skip argument coercion. */
type FastBuffer = Buffer & {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length: number): number;
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value); // only NaN reaches here
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Largest argument sent by default: Redis's own default `proto-max-bulk-len`.
 * A longer bulk string makes the server reset the connection, which would fail
 * every command in flight beside it as "maybe executed"; refusing it up front
 * costs only the caller.
 */
export const DEFAULT_MAX_ARGUMENT_BYTES = 512 * 1024 * 1024;

/**
 * Throws `InvalidArgumentError` if any argument is not sendable: a type the
 * protocol has no form for, or an encoding longer than `maxBytes`. Called
 * before anything is encoded, so a bad command never leaves a partial frame
 * behind.
 */
export function validateArgs(command: string, args: ArrayLike<unknown>, from = 0, maxBytes = DEFAULT_MAX_ARGUMENT_BYTES): void {
  for (let i = from; i < args.length; i++) {
    const a = args[i];
    const t = typeof a;
    if (t === 'string') {
      // A UTF-16 unit is at most 3 UTF-8 bytes: only a string that long can be too long.
      if ((a as string).length * 3 > maxBytes && Buffer.byteLength(a as string, 'utf8') > maxBytes) tooLarge(command, i - from, maxBytes);
      continue;
    }
    if (t === 'bigint') continue;
    if (t === 'number') {
      if (a === a) continue; // not NaN; infinities encode as inf / -inf
    } else if (a instanceof Uint8Array) {
      // .length, not .byteLength (the same for bytes): the accessor is several times slower.
      if (a.length > maxBytes) tooLarge(command, i - from, maxBytes);
      continue;
    }
    throw new InvalidArgumentError(
      `argument ${i - from + 1} is ${describe(a)}; expected string, Buffer, Uint8Array, number or bigint`,
      { command },
    );
  }
}

function tooLarge(command: string, index: number, maxBytes: number): never {
  throw new InvalidArgumentError(
    `argument ${index + 1} is longer than ${maxBytes} bytes, more than the server accepts in one argument; ` +
      'if the server allows more (proto-max-bulk-len), raise the maxArgumentBytes option to match, or split the value',
    { command },
  );
}

export class Encoder {
  private buf = Buffer.allocUnsafe(BLOCK_SIZE) as FastBuffer;
  /** Start of the bytes not yet handed out by `take()`. */
  private start = 0;
  private pos = 0;
  private chunks: Buffer[] = [];
  /** Bytes in `chunks` (cut from the write buffer or passed through). */
  private chunkBytes = 0;

  /** Bytes encoded and not yet taken. */
  get pendingBytes(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  /**
   * Append one command: `name` followed by `args[from..]`. Arguments must have
   * passed `validateArgs` (the encoder trusts them).
   */
  encode(name: string, args: ArrayLike<Arg>, from = 0): void {
    const count = args.length - from + 1;
    this.ensure(16);
    this.buf[this.pos++] = 0x2a; // '*'
    this.writeDecimal(count);
    this.writeString(name);
    for (let i = from; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'string') this.writeString(a);
      else if (typeof a === 'number') this.writeNumber(a);
      else if (typeof a === 'bigint') this.writeAscii(a.toString());
      else this.writeBytes(a);
    }
  }

  /** Encode a whole command given as one array (name first). */
  encodeArray(parts: ArrayLike<Arg>): void {
    this.encode(String(parts[0]), parts, 1);
  }

  /** The chunks encoded since the last call, in order. */
  take(): Buffer[] {
    this.cut();
    const out = this.chunks;
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }

  private cut(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos));
      this.chunkBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  private ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.cut();
    this.buf = Buffer.allocUnsafe(Math.max(BLOCK_SIZE, n)) as FastBuffer;
    this.start = this.pos = 0;
  }

  private writeDecimal(n: number): void {
    // n is a non-negative safe integer; caller reserved room for digits + CRLF.
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = 48 + n;
    } else {
      let digits = 1;
      for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
      let p = this.pos + digits;
      this.pos = p;
      while (n > 0) {
        const q = Math.floor(n / 10);
        buf[--p] = 48 + (n - q * 10);
        n = q;
      }
    }
    buf[this.pos] = 13;
    buf[this.pos + 1] = 10;
    this.pos += 2;
  }

  private writeString(s: string): void {
    const len = s.length;
    if (len < 2048) {
      // Short strings: a UTF-16 unit is at most 3 UTF-8 bytes, so reserve that and write in place.
      this.ensure(len * 3 + 32);
      const buf = this.buf;
      const headerAt = this.pos;
      buf[this.pos++] = 0x24; // '$'
      this.writeDecimal(len);
      let ascii = true;
      if (len < COPY_IN_JS) {
        // Copy as ASCII while checking; most keys and values are.
        let p = this.pos;
        for (let i = 0; i < len; i++) {
          const c = s.charCodeAt(i);
          if (c > 0x7f) {
            ascii = false;
            break;
          }
          buf[p++] = c;
        }
        if (ascii) this.pos = p;
      } else {
        for (let i = 0; i < len; i++) {
          if (s.charCodeAt(i) > 0x7f) {
            ascii = false;
            break;
          }
        }
        if (ascii) this.pos += buf.latin1Write(s, this.pos, len);
      }
      if (!ascii) {
        // Rewrite the header with the UTF-8 byte length.
        const bytes = Buffer.byteLength(s, 'utf8');
        this.pos = headerAt + 1;
        this.writeDecimal(bytes);
        this.pos += buf.utf8Write(s, this.pos, bytes);
      }
    } else {
      const bytes = Buffer.byteLength(s, 'utf8');
      this.ensure(bytes + 32);
      this.buf[this.pos++] = 0x24;
      this.writeDecimal(bytes);
      this.pos += this.buf.utf8Write(s, this.pos, bytes);
    }
    this.buf[this.pos] = 13;
    this.buf[this.pos + 1] = 10;
    this.pos += 2;
  }

  private writeAscii(s: string): void {
    this.ensure(s.length + 32);
    const buf = this.buf;
    buf[this.pos++] = 0x24;
    this.writeDecimal(s.length);
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    buf[p] = 13;
    buf[p + 1] = 10;
    this.pos = p + 2;
  }

  private writeNumber(n: number): void {
    if (Number.isSafeInteger(n) && n >= 0) {
      this.ensure(40);
      const buf = this.buf;
      buf[this.pos++] = 0x24;
      let digits = 1;
      for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
      this.writeDecimal(digits);
      this.pos -= 2; // writeDecimal's CRLF is rewritten after the value
      buf[this.pos] = 13;
    buf[this.pos + 1] = 10;
      this.pos += 2;
      this.writeDecimal(n);
      return;
    }
    this.writeAscii(numberText(n));
  }

  private writeBytes(b: Uint8Array): void {
    const len = b.length;
    this.ensure(len < ZERO_COPY_THRESHOLD ? len + 32 : 32);
    const buf = this.buf;
    buf[this.pos++] = 0x24;
    this.writeDecimal(len);
    if (len < ZERO_COPY_THRESHOLD) {
      buf.set(b, this.pos);
      this.pos += len;
    } else {
      this.cut();
      this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.chunkBytes += len;
    }
    this.ensure(2);
    this.buf[this.pos] = 13;
    this.buf[this.pos + 1] = 10;
    this.pos += 2;
  }
}

/**
 * The text a number argument is sent as (key prefixes use it too, so that a
 * prefixed number key is the prefix plus what the key alone would be). What
 * `String(n)` says (`-0` is `0`, `1e+21`), except the infinities: Redis
 * parses floats with strtold, which accepts "inf" but not "Infinity".
 */
export function numberText(n: number): string {
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

/** Encode one command into a single Buffer (tests, handshake, tools). */
export function encodeCommand(parts: ArrayLike<Arg>): Buffer {
  validateArgs(String(parts[0]), parts, 1);
  const enc = new Encoder();
  enc.encodeArray(parts);
  const chunks = enc.take();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
