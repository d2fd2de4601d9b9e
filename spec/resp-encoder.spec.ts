import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ARGUMENT_BYTES, Encoder, encodeCommand, validateArgs } from '../lib/resp/encoder.js';
import { InvalidArgumentError } from '../lib/errors.js';

const wire = (parts: any[]) => encodeCommand(parts).toString('latin1');

describe('RESP encoder', () => {
  it('encodes commands as arrays of bulk strings', () => {
    expect(wire(['SET', 'k', 'v'])).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
    expect(wire(['PING'])).toBe('*1\r\n$4\r\nPING\r\n');
    expect(wire(['SET', 'k', ''])).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n');
  });

  it('numbers, floats, infinities and bigints as their decimal text', () => {
    expect(wire(['X', 0, 7, 1234567890, -5])).toBe('*5\r\n$1\r\nX\r\n$1\r\n0\r\n$1\r\n7\r\n$10\r\n1234567890\r\n$2\r\n-5\r\n');
    expect(wire(['X', 1.5, Infinity, -Infinity])).toBe('*4\r\n$1\r\nX\r\n$3\r\n1.5\r\n$3\r\ninf\r\n$4\r\n-inf\r\n');
    expect(wire(['X', 12345678901234567890n])).toBe('*2\r\n$1\r\nX\r\n$20\r\n12345678901234567890\r\n');
  });

  it('UTF-8 strings use their byte length', () => {
    const s = 'h\u00e9llo \u{1F600}';
    const bytes = Buffer.byteLength(s);
    expect(encodeCommand(['SET', s]).toString('utf8')).toBe(`*2\r\n$3\r\nSET\r\n$${bytes}\r\n${s}\r\n`);
    const long = '\u00e9'.repeat(5000);
    expect(encodeCommand(['SET', long]).toString('utf8')).toBe(`*2\r\n$3\r\nSET\r\n$10000\r\n${long}\r\n`);
    const longAscii = 'a'.repeat(3000);
    expect(wire(['SET', longAscii])).toBe(`*2\r\n$3\r\nSET\r\n$3000\r\n${longAscii}\r\n`);
  });

  it('every string length around the copy paths, ASCII or not, is its UTF-8 bytes with their length', () => {
    const reference = (parts: string[]) =>
      Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.map((p) => Buffer.concat([Buffer.from(`$${Buffer.byteLength(p)}\r\n`), Buffer.from(p, 'utf8'), Buffer.from('\r\n')]))]);
    const enc = new Encoder();
    for (const len of [0, 1, 9, 10, 63, 64, 65, 99, 100, 255, 256, 257, 1000, 2047, 2048, 2049]) {
      const ascii = 'k'.repeat(len);
      const variants = [ascii];
      if (len > 0) {
        // One char past ASCII at the start, the middle and the end; a character of 4 UTF-8 bytes; a lone surrogate (sent as U+FFFD, as Buffer.from does).
        for (const at of [0, len >> 1, len - 1]) variants.push(ascii.slice(0, at) + '\u00e9' + ascii.slice(at + 1));
        variants.push(ascii.slice(1) + '\u{1F600}', '\ud800' + ascii.slice(1), ascii.slice(1) + '\u007f');
      }
      for (const v of variants) {
        enc.encode('SET', ['key', v]);
        expect(Buffer.concat(enc.take()).equals(reference(['SET', 'key', v])), `length ${len}: ${JSON.stringify(v.slice(0, 12))}...`).toBe(true);
      }
    }
  });

  it('Buffers and Uint8Arrays are binary-safe', () => {
    const b = Buffer.from([0, 13, 10, 255]);
    const out = encodeCommand(['SET', 'k', b]);
    expect(out.subarray(out.length - 6)).toEqual(Buffer.from([0, 13, 10, 255, 13, 10]));
    const u = new Uint8Array([1, 2, 3]);
    expect(wire(['SET', u])).toBe('*2\r\n$3\r\nSET\r\n$3\r\n\x01\x02\x03\r\n');
  });

  it('large Buffer arguments are passed through as their own chunk, not copied', () => {
    const big = Buffer.alloc(100_000, 7);
    const enc = new Encoder();
    enc.encode('SET', ['k', big]);
    const pending = enc.pendingBytes;
    const chunks = enc.take();
    expect(chunks).toContain(big);
    expect(Buffer.concat(chunks).length).toBe(pending);
    expect(enc.pendingBytes).toBe(0);
    const all = Buffer.concat(chunks).toString('latin1');
    expect(all.startsWith('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n')).toBe(true);
    expect(all.endsWith('\r\n')).toBe(true);
  });

  it('many commands accumulate until take(), across buffer blocks', () => {
    const enc = new Encoder();
    let expected = '';
    for (let i = 0; i < 5000; i++) {
      enc.encode('SET', [`key:${i}`, 'x'.repeat(i % 50)]);
      expected += `*3\r\n$3\r\nSET\r\n$${`key:${i}`.length}\r\nkey:${i}\r\n$${i % 50}\r\n${'x'.repeat(i % 50)}\r\n`;
    }
    expect(Buffer.concat(enc.take()).toString('latin1')).toBe(expected);
    expect(enc.take()).toEqual([]);
  });

  it('rejects anything else with InvalidArgumentError that names the command but not the values', () => {
    for (const badArg of [undefined, null, true, {}, [], Symbol('s'), NaN, () => 1]) {
      let caught: unknown;
      try {
        validateArgs('SET', ['secret-key', badArg]);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as Error).message).toContain('SET');
      expect((caught as Error).message).toContain('argument 2');
      expect((caught as Error).message).not.toContain('secret-key');
    }
  });

  it('refuses an argument larger than the server accepts, before anything is sent', () => {
    expect(DEFAULT_MAX_ARGUMENT_BYTES).toBe(512 * 1024 * 1024);
    const refused = (args: unknown[], max: number): InvalidArgumentError => {
      let caught: unknown;
      try {
        validateArgs('SET', args, 0, max);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      return caught as InvalidArgumentError;
    };
    const secret = 'secret-value-'.repeat(2); // 26 bytes
    const err = refused(['key', secret], 25);
    expect(err.message).toContain('argument 2');
    expect(err.message).toContain('SET');
    expect(err.message).toContain('maxArgumentBytes');
    expect(err.message).not.toContain('secret');
    // Byte length, not string length: 9 characters of 3 UTF-8 bytes each are 27 bytes.
    expect(refused(['k', '\u20ac'.repeat(9)], 26).message).toContain('argument 2');
    expect(() => validateArgs('SET', ['k', '\u20ac'.repeat(9)], 0, 27)).not.toThrow();
    // Buffers and Uint8Arrays by their length; the index counts from `from`.
    expect(refused(['SET', 'k', Buffer.alloc(11)], 10).message).toContain('argument 3');
    expect(refused(['k', new Uint8Array(11)], 10).message).toContain('argument 2');
    let caught: unknown;
    try {
      validateArgs('SET', ['SET', 'k', Buffer.alloc(11)], 1, 10);
    } catch (e) {
      caught = e;
    }
    expect((caught as Error).message).toContain('argument 2');
    // At the limit is fine, and so are numbers and bigints under any sane limit.
    expect(() => validateArgs('SET', ['k', 'x'.repeat(10), Buffer.alloc(10), 1234567890, 12345678901234567890n], 0, 20)).not.toThrow();
    expect(() => validateArgs('SET', ['k', 'x'.repeat(10)], 0, 10)).not.toThrow();
    // The default limit applies when none is given.
    expect(() => validateArgs('SET', ['k', 'x'.repeat(1000)])).not.toThrow();
  });
});
