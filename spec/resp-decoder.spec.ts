import { describe, expect, it } from 'vitest';
import { Decoder } from '../lib/resp/decoder.js';
import { Attributed, DECODE_ATTRIBUTES, DECODE_BUFFERS, DECODE_MAPS, DECODE_SETS, DEFAULT_LIMITS, type Reply } from '../lib/resp/types.js';
import { ProtocolError, ServerError, WrongTypeError, UnknownCommandError } from '../lib/errors.js';
import { UNTIL_BOUND_MS } from './support/until.js';

interface Out {
  replies: Reply[];
  pushes: Reply[][];
}

function decoderFor(flags = 0, limits = {}): { d: Decoder; out: Out } {
  const out: Out = { replies: [], pushes: [] };
  const d = new Decoder(
    {
      replyFlags: () => flags,
      onReply: (v) => out.replies.push(v),
      onPush: (v) => out.pushes.push(v),
    },
    limits,
  );
  return { d, out };
}

/** Decode `wire` whole, byte by byte, and at random split points; all must agree. */
function decodeAllWays(wire: string | Buffer, flags = 0, limits = {}): Out {
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire;
  const whole = decoderFor(flags, limits);
  whole.d.feed(bytes);
  const single = decoderFor(flags, limits);
  for (let i = 0; i < bytes.length; i++) single.d.feed(bytes.subarray(i, i + 1));
  expect(single.out).toEqual(whole.out);
  for (let round = 0; round < 20; round++) {
    const rnd = decoderFor(flags, limits);
    let i = 0;
    while (i < bytes.length) {
      const n = 1 + Math.floor(Math.random() * 7);
      rnd.d.feed(bytes.subarray(i, i + n));
      i += n;
    }
    expect(rnd.out).toEqual(whole.out);
  }
  return whole.out;
}

function one(wire: string, flags = 0): Reply {
  const out = decodeAllWays(wire, flags);
  expect(out.replies).toHaveLength(1);
  return out.replies[0]!;
}

describe('RESP decoder: every type, whole and split at every byte', () => {
  it('simple strings, integers, bulk strings, nulls', () => {
    expect(one('+OK\r\n')).toBe('OK');
    expect(one(':0\r\n')).toBe(0);
    expect(one(':-42\r\n')).toBe(-42);
    expect(one(':+7\r\n')).toBe(7);
    expect(one('$5\r\nhello\r\n')).toBe('hello');
    expect(one('$0\r\n\r\n')).toBe('');
    expect(one('$-1\r\n')).toBeNull();
    expect(one('*-1\r\n')).toBeNull();
    expect(one('_\r\n')).toBeNull();
  });

  it('integers stay exact: bigint past 2^53, number below', () => {
    expect(one(':9007199254740991\r\n')).toBe(9007199254740991);
    expect(one(':-9007199254740991\r\n')).toBe(-9007199254740991);
    expect(one(':9007199254740993\r\n')).toBe(9007199254740993n);
    expect(one(':-9223372036854775808\r\n')).toBe(-9223372036854775808n);
    expect(one('(3492890328409238509324850943850943825024385\r\n')).toBe(3492890328409238509324850943850943825024385n);
  });

  it('binary-safe bulk strings, with CRLF inside, as strings or buffers', () => {
    const payload = Buffer.from([0, 13, 10, 255, 1, 13, 10]);
    const wire = Buffer.concat([Buffer.from(`$${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
    const out = decodeAllWays(wire, DECODE_BUFFERS);
    expect(out.replies[0]).toEqual(payload);
    expect(one('$4\r\n\u00e9\u00e9\r\n')).toBe('\u00e9\u00e9');
    // Simple strings stay strings even in buffer mode.
    expect(decodeAllWays('+OK\r\n', DECODE_BUFFERS).replies[0]).toBe('OK');
  });

  it('doubles including inf, -inf and nan', () => {
    expect(one(',1.23\r\n')).toBe(1.23);
    expect(one(',-0.5e3\r\n')).toBe(-500);
    expect(one(',10\r\n')).toBe(10);
    expect(one(',inf\r\n')).toBe(Infinity);
    expect(one(',-inf\r\n')).toBe(-Infinity);
    expect(one(',nan\r\n')).toBeNaN();
  });

  it('booleans', () => {
    expect(one('#t\r\n')).toBe(true);
    expect(one('#f\r\n')).toBe(false);
  });

  it('errors: simple and bulk, mapped to classes by code', () => {
    const e = one('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
    expect(e).toBeInstanceOf(WrongTypeError);
    expect((e as ServerError).code).toBe('WRONGTYPE');
    const b = one('!21\r\nSYNTAX invalid syntax\r\n');
    expect(b).toBeInstanceOf(ServerError);
    expect((b as ServerError).code).toBe('SYNTAX');
  });

  it('server error messages never echo argument values', () => {
    const e = one("-ERR unknown command 'FOO', with args beginning with: 'secret-password' 'value'\r\n") as ServerError;
    expect(e).toBeInstanceOf(UnknownCommandError);
    expect(e.message).not.toContain('secret-password');
    expect(e.message).toContain('redacted');
  });

  it('verbatim strings drop their format prefix', () => {
    expect(one('=15\r\ntxt:Some string\r\n')).toBe('Some string');
  });

  it('arrays, nested, with mixed types', () => {
    expect(one('*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+a\r\n_\r\n')).toEqual([1, 'foo', ['a', null]]);
    expect(one('*0\r\n')).toEqual([]);
  });

  it('maps: null-prototype objects by default, Map on request; no prototype pollution', () => {
    const m = one('%2\r\n+first\r\n:1\r\n$9\r\n__proto__\r\n*1\r\n:2\r\n') as Record<string, Reply>;
    expect(Object.getPrototypeOf(m)).toBeNull();
    expect(m.first).toBe(1);
    expect(Object.prototype.hasOwnProperty.call(m, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const asMap = one('%1\r\n:1\r\n+one\r\n', DECODE_MAPS) as Map<Reply, Reply>;
    expect(asMap).toBeInstanceOf(Map);
    expect(asMap.get(1)).toBe('one');
    expect(Object.keys(one('%0\r\n') as object)).toEqual([]);
  });

  it('sets: arrays by default, Set on request', () => {
    expect(one('~2\r\n+a\r\n+b\r\n')).toEqual(['a', 'b']);
    expect(one('~2\r\n+a\r\n+b\r\n', DECODE_SETS)).toEqual(new Set(['a', 'b']));
  });

  it('attributes: dropped by default, attached on request', () => {
    const wire = '|1\r\n+key-popularity\r\n*2\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n';
    expect(one(wire)).toEqual([2039123, 9543892]);
    const a = one(wire, DECODE_ATTRIBUTES) as Attributed;
    expect(a).toBeInstanceOf(Attributed);
    expect(a.value).toEqual([2039123, 9543892]);
    expect((a.attributes as Record<string, Reply>)['key-popularity']).toEqual(['a', 0.1923]);
    // An attribute on an element inside an aggregate.
    expect(one('*2\r\n|1\r\n+ttl\r\n:3\r\n:1\r\n:2\r\n')).toEqual([1, 2]);
  });

  it('push frames go to the push handler, never to replies, even between replies', () => {
    const out = decodeAllWays('+first\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n:2\r\n');
    expect(out.replies).toEqual(['first', 2]);
    expect(out.pushes).toEqual([['message', 'ch', 'hi']]);
  });

  it('streamed strings and streamed aggregates', () => {
    expect(one('$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;2\r\nld\r\n;0\r\n')).toBe('Hello world');
    expect(one('*?\r\n:1\r\n:2\r\n:3\r\n.\r\n')).toEqual([1, 2, 3]);
    expect(one('%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n')).toEqual(Object.assign(Object.create(null), { a: 1, b: 2 }));
    expect(one('~?\r\n+a\r\n.\r\n')).toEqual(['a']);
  });

  it('error codes named like Object.prototype members are plain ServerErrors with that code', () => {
    const stackTraceLimit = Error.stackTraceLimit;
    for (const code of ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__']) {
      const out = decodeAllWays(`-${code} x\r\n!${code.length + 2}\r\n${code} y\r\n*1\r\n-${code}\r\n+after\r\n`);
      expect(out.replies).toHaveLength(4);
      const [simple, bulk, nested, after] = out.replies as [ServerError, ServerError, ServerError[], string];
      for (const e of [simple, bulk, nested[0]!]) {
        expect(e).toBeInstanceOf(ServerError);
        expect(Object.getPrototypeOf(e)).toBe(ServerError.prototype);
        expect(e.code).toBe(code);
      }
      expect(simple.message).toBe(`${code} x`);
      expect(after).toBe('after');
    }
    // Errors inside aggregates are built without a stack trace; the global setting is left as it was.
    expect(Error.stackTraceLimit).toBe(stackTraceLimit);
  });

  it('maps with aggregate keys: a Map for that map (an object cannot hold such keys), never a TypeError', () => {
    // Keys that are arrays, maps or sets: the map value becomes a Map keyed by the decoded values.
    const arrayKey = one('%2\r\n*2\r\n:1\r\n:2\r\n+v\r\n+plain\r\n:3\r\n') as Map<Reply, Reply>;
    expect(arrayKey).toBeInstanceOf(Map);
    expect([...arrayKey]).toEqual([[[1, 2], 'v'], ['plain', 3]]);
    const mapKey = one('%1\r\n%1\r\n+a\r\n+b\r\n+v\r\n') as Map<Reply, Reply>;
    expect(mapKey).toBeInstanceOf(Map);
    const [[k, v]] = [...mapKey];
    expect(k).toEqual(Object.assign(Object.create(null), { a: 'b' }));
    expect(v).toBe('v');
    const setKey = one('%1\r\n~1\r\n+a\r\n:1\r\n', DECODE_SETS) as Map<Reply, Reply>;
    expect([...setKey]).toEqual([[new Set(['a']), 1]]);
    // Nested inside other replies, in attributes, with map: 'map', and streamed: never a throw.
    expect(one('*2\r\n%1\r\n*0\r\n_\r\n+next\r\n')).toEqual([new Map([[[], null]]), 'next']);
    expect(one('|1\r\n*1\r\n+k\r\n+v\r\n:1\r\n')).toBe(1);
    expect((one('|1\r\n*1\r\n+k\r\n+v\r\n:1\r\n', DECODE_ATTRIBUTES) as Attributed).attributes).toEqual(new Map([[['k'], 'v']]));
    expect([...(one('%1\r\n*1\r\n:1\r\n+v\r\n', DECODE_MAPS) as Map<Reply, Reply>)]).toEqual([[[1], 'v']]);
    // A key with an attribute is a plain key unless attributes are kept (then it is an Attributed object).
    const attributedKey = '%1\r\n|1\r\n+a\r\n+b\r\n+key\r\n+v\r\n';
    expect(one(attributedKey)).toEqual(Object.assign(Object.create(null), { key: 'v' }));
    expect([...(one(attributedKey, DECODE_ATTRIBUTES) as Map<Reply, Reply>)]).toEqual([
      [new Attributed('key', Object.assign(Object.create(null), { a: 'b' })), 'v'],
    ]);
    expect(one('%?\r\n%0\r\n+v\r\n.\r\n')).toEqual(new Map([[Object.create(null), 'v']]));
    // Scalar keys keep the object form: numbers, booleans, nulls and big numbers as their text.
    expect(one('%4\r\n:1\r\n+a\r\n#t\r\n+b\r\n_\r\n+c\r\n(12345678901234567890\r\n+d\r\n')).toEqual(
      Object.assign(Object.create(null), { 1: 'a', true: 'b', null: 'c', '12345678901234567890': 'd' }),
    );
  });

  it('a streamed string of 200k chunks decodes in linear time', () => {
    const chunks = 200_000;
    const wire = Buffer.from('$?\r\n' + ';1\r\nx\r\n'.repeat(chunks) + ';0\r\n');
    const { d, out } = decoderFor(0, { maxReplyElements: chunks + 1 });
    const t0 = performance.now();
    d.feed(wire);
    // Linear: tens of ms. Quadratic (a sum over the parts per chunk) took over 30 s. The bound is the
    // generous one of until.ts (1000x what linear takes): it only tells quadratic from linear on a loaded machine.
    expect(performance.now() - t0, 'ms to decode 200k chunks').toBeLessThan(UNTIL_BOUND_MS);
    expect(out.replies).toEqual(['x'.repeat(chunks)]);
  });

  it('bulk strings of every short length decode to exactly their bytes, ASCII or not', () => {
    // Short ASCII strings take a path of their own (lib/resp/short-text.ts); every length it
    // covers, and the lengths around its edges, must give what Buffer#toString gives.
    for (let len = 0; len <= 70; len++) {
      const ascii = Buffer.alloc(len);
      for (let i = 0; i < len; i++) ascii[i] = 1 + ((i * 37 + len) % 127); // every byte 0x01-0x7f, no order assumed
      const withHigh = Buffer.from(ascii);
      if (len > 0) withHigh[len - 1] = 0xc3; // a lone lead byte: invalid UTF-8, decoded as U+FFFD
      const utf8 = Buffer.concat([ascii.subarray(0, Math.max(0, len - 2)), Buffer.from('\u00e9')]);
      for (const payload of [ascii, withHigh, utf8]) {
        const wire = Buffer.concat([Buffer.from(`*2\r\n$${payload.length}\r\n`), payload, Buffer.from(`\r\n$${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
        const out = decodeAllWays(wire);
        expect(out.replies).toEqual([[payload.toString('utf8'), payload.toString('utf8')]]);
        expect(decodeAllWays(wire, DECODE_BUFFERS).replies).toEqual([[payload, payload]]);
      }
    }
  });

  it('many replies in one chunk, in order', () => {
    const out = decodeAllWays('+a\r\n:1\r\n$1\r\nb\r\n*1\r\n:2\r\n');
    expect(out.replies).toEqual(['a', 1, 'b', [2]]);
  });

  it('a large bulk string split into many chunks decodes once', () => {
    const big = Buffer.alloc(1 << 20, 'x');
    const wire = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n+after\r\n')]);
    const { d, out } = decoderFor();
    for (let i = 0; i < wire.length; i += 1000) d.feed(wire.subarray(i, i + 1000));
    expect(out.replies).toHaveLength(2);
    expect((out.replies[0] as string).length).toBe(big.length);
    expect(out.replies[1]).toBe('after');
    expect(d.idle).toBe(true);
  });

  it('randomised fuzz: a long stream of mixed replies survives any split', () => {
    const pieces = ['+OK\r\n', ':123\r\n', '$3\r\nabc\r\n', '*2\r\n$1\r\nx\r\n:5\r\n', '%1\r\n+k\r\n#t\r\n', ',3.5\r\n', '_\r\n', '-ERR x\r\n'];
    let wire = '';
    for (let i = 0; i < 500; i++) wire += pieces[Math.floor(Math.random() * pieces.length)];
    const out = decodeAllWays(wire);
    expect(out.replies.length).toBe(500);
  });
});

describe('RESP decoder: large bulk strings cut by a read are collected once, in place', () => {
  /** Feed `wire` in chunks of `size` bytes. */
  const feedIn = (wire: Buffer, size: number, flags = 0, limits = {}) => {
    const { d, out } = decoderFor(flags, limits);
    for (let i = 0; i < wire.length; i += size) d.feed(wire.subarray(i, i + size));
    return { d, out };
  };
  const SIZES = [1, 3, 1000, 4095, 4096, 65536, 1 << 30];
  // Multi-byte UTF-8 throughout, so cuts fall inside characters too.
  const text = (n: number) => 'é€x'.repeat(Math.ceil(n / 6)).slice(0, n);

  it('strings, buffers, errors and verbatim strings, at top level and inside aggregates, whatever the cuts', () => {
    const body = text(30_000);
    const bytes = Buffer.from(body, 'utf8');
    const wire = Buffer.concat([
      Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'),
      Buffer.from(`*3\r\n:1\r\n$${bytes.length}\r\n`), bytes, Buffer.from('\r\n+tail\r\n'),
      Buffer.from(`!${bytes.length + 4}\r\nERR `), bytes, Buffer.from('\r\n'),
      Buffer.from(`=${bytes.length + 4}\r\ntxt:`), bytes, Buffer.from('\r\n'),
      Buffer.from('$4096\r\n'), Buffer.alloc(4096, 'y'), Buffer.from('\r\n:7\r\n'),
    ]);
    for (const size of SIZES) {
      const { d, out } = feedIn(wire, size);
      expect(out.replies).toHaveLength(6);
      expect(out.replies[0]).toBe(body);
      expect(out.replies[1]).toEqual([1, body, 'tail']);
      expect(out.replies[2]).toBeInstanceOf(ServerError);
      expect((out.replies[2] as ServerError).code).toBe('ERR');
      expect(out.replies[3]).toBe(body);
      expect(out.replies[4]).toBe('y'.repeat(4096));
      expect(out.replies[5]).toBe(7);
      expect(d.idle).toBe(true);
      const buffers = feedIn(wire, size, DECODE_BUFFERS).out.replies;
      expect(buffers[0]).toEqual(bytes);
      expect(buffers[3]).toEqual(bytes);
    }
  });

  it('a Buffer reply is its own memory: decoding the next one leaves it as it was', () => {
    const a = Buffer.alloc(50_000, 'a');
    const b = Buffer.alloc(50_000, 'b');
    const wire = Buffer.concat([Buffer.from('$50000\r\n'), a, Buffer.from('\r\n$50000\r\n'), b, Buffer.from('\r\n')]);
    for (const size of [1000, 65536]) {
      const { out } = feedIn(wire, size, DECODE_BUFFERS);
      expect(out.replies).toEqual([a, b]);
      (out.replies[1] as Buffer).fill(0);
      expect(out.replies[0]).toEqual(a);
    }
  });

  it('its bytes count toward its reply: maxReplyBytes holds exactly across the cut', () => {
    const reply = Buffer.concat([Buffer.from('*2\r\n$5000\r\n'), Buffer.alloc(5000, 'z'), Buffer.from('\r\n:1\r\n')]);
    for (const size of SIZES) {
      expect(feedIn(reply, size, 0, { maxReplyBytes: reply.length }).out.replies).toHaveLength(1);
      expect(() => feedIn(reply, size, 0, { maxReplyBytes: reply.length - 1 })).toThrow(/longer than/);
    }
  });

  it('a large bulk string not followed by CRLF is a ProtocolError however it is cut', () => {
    const wire = Buffer.concat([Buffer.from('$5000\r\n'), Buffer.alloc(5000, 'z'), Buffer.from('XX+OK\r\n')]);
    for (const size of SIZES) expect(() => feedIn(wire, size)).toThrow(/not followed by CRLF/);
  });

  it('a header announcing a huge string costs no memory before its bytes arrive', () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoders = Array.from({ length: 5 }, () => {
      const { d } = decoderFor();
      d.feed(Buffer.from(`$${100 * 1024 * 1024}\r\nxx`));
      return d;
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(decoders.every((d) => !d.idle)).toBe(true);
  });
});

describe('RESP decoder: pause and resume at reply boundaries (the reader stops to let callers write)', () => {
  /** A decoder whose sink pauses after every `every` replies. */
  const pausing = (every: number, flags = 0) => {
    const out: Reply[] = [];
    const pushes: Reply[][] = [];
    let n = 0;
    const d: Decoder = new Decoder({
      replyFlags: () => flags,
      onReply: (v) => {
        out.push(v);
        if (++n % every === 0) d.pause();
      },
      onPush: (v) => pushes.push(v),
    });
    return { d, out, pushes };
  };

  it('stops after the reply that asked, keeps the rest, and resume() goes on in order', () => {
    const { d, out } = pausing(2);
    expect(d.feed(Buffer.from('+a\r\n+b\r\n+c\r\n+d\r\n+e\r\n'))).toBe(true);
    expect(out).toEqual(['a', 'b']);
    expect(d.idle).toBe(false);
    expect(d.resume()).toBe(true);
    expect(out).toEqual(['a', 'b', 'c', 'd']);
    expect(d.resume()).toBe(false);
    expect(out).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(d.idle).toBe(true);
    expect(d.resume()).toBe(false); // not paused: nothing to do
  });

  it('a pause when the bytes end anyway is no stop; a cut reply after a pause is completed by the next feed', () => {
    const { d, out } = pausing(1);
    expect(d.feed(Buffer.from('+a\r\n'))).toBe(false);
    expect(d.feed(Buffer.from('+b\r\n*2\r\n:1'))).toBe(true);
    expect(out).toEqual(['a', 'b']);
    expect(d.resume()).toBe(false); // the array is cut: kept for the next read
    expect(d.feed(Buffer.from('\r\n:2\r\n'))).toBe(false);
    expect(out).toEqual(['a', 'b', [1, 2]]);
  });

  it('pushes and replies keep their order across stops, and any split of a mixed stream gives what an unpaused decoder gives', () => {
    const pieces = ['+OK\r\n', ':123\r\n', '$3\r\nabc\r\n', '*2\r\n$1\r\nx\r\n:5\r\n', '>2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n', '%1\r\n+k\r\n#t\r\n'];
    let wire = '';
    for (let i = 0; i < 400; i++) wire += pieces[i % pieces.length];
    const bytes = Buffer.from(wire);
    const plain = decoderFor();
    plain.d.feed(bytes);
    for (const every of [1, 3, 32]) {
      for (const size of [1, 5, 64, bytes.length]) {
        const p = pausing(every);
        for (let i = 0; i < bytes.length; i += size) {
          if (p.d.feed(bytes.subarray(i, i + size))) while (p.d.resume());
        }
        expect(p.out).toEqual(plain.out.replies);
        expect(p.pushes).toEqual(plain.out.pushes);
        expect(p.d.idle).toBe(true);
      }
    }
  });

  it('reset() forgets a pause (a lost connection never resumes into the next one)', () => {
    const { d, out } = pausing(1);
    expect(d.feed(Buffer.from('+a\r\n+b\r\n'))).toBe(true);
    d.reset();
    expect(d.resume()).toBe(false);
    expect(d.idle).toBe(true);
    expect(d.feed(Buffer.from('+c\r\n'))).toBe(false);
    expect(out).toEqual(['a', 'c']);
  });
});

describe('RESP decoder: hostile input is a ProtocolError, and bounded', () => {
  const bad = (wire: string | Buffer, limits = {}) => {
    const { d } = decoderFor(0, limits);
    expect(() => d.feed(typeof wire === 'string' ? Buffer.from(wire) : wire)).toThrow(ProtocolError);
    // The decoder stays failed: RESP cannot resynchronise.
    expect(() => d.feed(Buffer.from('+OK\r\n'))).toThrow(ProtocolError);
  };

  it('unknown type bytes and malformed lines', () => {
    bad('?what\r\n');
    bad('HTTP/1.1 200 OK\r\n');
    bad(':12a\r\n');
    bad('$abc\r\n');
    bad('+OK\rX');
    bad('#x\r\n');
    bad(',notanumber\r\n');
    bad('$3\r\nabcXY');
    bad('.\r\n');
    bad(';3\r\nabc\r\n');
  });

  it('absurd bulk lengths are refused before any allocation', () => {
    bad('$99999999999\r\n');
    bad('$1048577\r\n', { maxBulkLength: 1 << 20 });
  });

  it('absurd aggregate lengths are refused, and declared lengths are not preallocated', () => {
    bad('*5000000000\r\n');
    const { d } = decoderFor(0);
    d.feed(Buffer.from('*4000000000\r\n:1\r\n')); // accepted, waits for more, allocated nothing big
    expect(d.idle).toBe(false);
  });

  it('endless nesting stops at maxDepth', () => {
    bad('*1\r\n'.repeat(200));
    bad('*1\r\n'.repeat(11), { maxDepth: 10 });
    const { d, out } = decoderFor(0, { maxDepth: 10 });
    d.feed(Buffer.from('*1\r\n'.repeat(10) + ':1\r\n'));
    expect(out.replies).toHaveLength(1);
  });

  it('a reply streamed without end is cut at maxReplyBytes', () => {
    const { d } = decoderFor(0, { maxReplyBytes: 10_000 });
    d.feed(Buffer.from('*4000000000\r\n'));
    expect(() => {
      for (let i = 0; i < 1000; i++) d.feed(Buffer.from(':1\r\n'.repeat(100)));
    }).toThrow(/longer than 10000 bytes/);
    // A reply just under the limit, split in many chunks, is fine.
    const ok = decoderFor(0, { maxReplyBytes: 10_000 });
    ok.d.feed(Buffer.from('*1000\r\n'));
    for (let i = 0; i < 10; i++) ok.d.feed(Buffer.from(':1\r\n'.repeat(100)));
    expect(ok.out.replies).toHaveLength(1);
    ok.d.feed(Buffer.from('*1000\r\n'));
    for (let i = 0; i < 10; i++) ok.d.feed(Buffer.from(':1\r\n'.repeat(100)));
    expect(ok.out.replies).toHaveLength(2);
  });

  /** `wire` must fail whole, byte by byte and at random splits. */
  const badAllWays = (wire: string | Buffer, limits = {}, pattern?: RegExp) => {
    const bytes = typeof wire === 'string' ? Buffer.from(wire) : wire;
    const feedAll = (size: () => number) => {
      const { d } = decoderFor(0, limits);
      for (let i = 0; i < bytes.length; ) {
        const n = size();
        d.feed(bytes.subarray(i, i + n));
        i += n;
      }
    };
    expect(() => feedAll(() => bytes.length)).toThrow(pattern ?? ProtocolError);
    expect(() => feedAll(() => 1)).toThrow(pattern ?? ProtocolError);
    expect(() => feedAll(() => 1 + Math.floor(Math.random() * 50))).toThrow(pattern ?? ProtocolError);
  };

  it('maxReplyBytes bounds each reply, not the sum of pipelined replies', () => {
    // 50 replies of ~1000 bytes each under a 2000-byte limit, in chunks that never end on a reply boundary.
    const reply = '*100\r\n' + '$3\r\nabc\r\n'.repeat(100); // 906 bytes
    const wire = Buffer.from(reply.repeat(50));
    for (const size of [1, 7, 64, 1000, 4096, wire.length]) {
      const { d, out } = decoderFor(0, { maxReplyBytes: 2000 });
      for (let i = 0; i < wire.length; i += size) d.feed(wire.subarray(i, i + size));
      expect(out.replies).toHaveLength(50);
      expect(d.idle).toBe(true);
    }
    // A reply exactly at the limit passes; one byte over fails however it is split.
    const exact = decodeAllWays(reply + '+next\r\n', 0, { maxReplyBytes: reply.length });
    expect(exact.replies).toHaveLength(2);
    badAllWays(reply, { maxReplyBytes: reply.length - 1 }, /longer than 905 bytes/);
    // The bound covers every reply kind: bulk strings, streamed strings, pushes, attributes.
    badAllWays('$20\r\n' + 'x'.repeat(20) + '\r\n', { maxReplyBytes: 20 });
    badAllWays('$?\r\n;10\r\n0123456789\r\n;10\r\n0123456789\r\n;0\r\n', { maxReplyBytes: 30 });
    badAllWays('>2\r\n+message\r\n$20\r\n' + 'x'.repeat(20) + '\r\n', { maxReplyBytes: 30 });
    badAllWays('|1\r\n+a\r\n$20\r\n' + 'x'.repeat(20) + '\r\n+OK\r\n', { maxReplyBytes: 30 });
    badAllWays('|1\r\n+a\r\n+b\r\n$20\r\n' + 'x'.repeat(20) + '\r\n', { maxReplyBytes: 30 });
  });

  it('a flood of empty maps or nested empty aggregates is cut at maxReplyElements', () => {
    const limits = { maxReplyElements: 1000 };
    badAllWays('*?\r\n' + '%0\r\n'.repeat(1001), limits, /more than 1000 elements/);
    badAllWays('*4000000000\r\n' + '*1\r\n*0\r\n'.repeat(600), limits, /more than 1000 elements/);
    badAllWays('%?\r\n' + '~0\r\n%0\r\n'.repeat(600), limits);
    badAllWays('>?\r\n' + '_\r\n'.repeat(1001), limits);
    badAllWays('|?\r\n' + '*0\r\n'.repeat(1001), limits);
    // Chunks of a streamed string count too (each is an object until the string is joined).
    badAllWays('$?\r\n' + ';1\r\nx\r\n'.repeat(1001) + ';0\r\n', limits);
    // At the budget it passes, and the budget is per reply: the next reply starts afresh.
    const atLimit = '*999\r\n' + '%0\r\n'.repeat(999);
    expect(decodeAllWays(atLimit.repeat(3), 0, limits).replies).toHaveLength(3);
    // The default is finite: a hostile server cannot make one reply hold an unbounded number of objects.
    expect(DEFAULT_LIMITS.maxReplyElements).toBeGreaterThanOrEqual(1 << 20);
    expect(DEFAULT_LIMITS.maxReplyElements).toBeLessThanOrEqual(1 << 22);
    const { d } = decoderFor(0);
    d.feed(Buffer.from('*?\r\n'));
    const flood = Buffer.from('_\r\n'.repeat(1 << 16)); // nulls: the cheapest flood to test with
    expect(() => {
      for (let i = 0; i <= DEFAULT_LIMITS.maxReplyElements >> 16; i++) d.feed(flood);
    }).toThrow(/more than \d+ elements/);
  });

  it('streamed aggregates respect maxAggregateLength', () => {
    const limits = { maxAggregateLength: 10 };
    expect(decodeAllWays('*?\r\n' + ':1\r\n'.repeat(10) + '.\r\n', 0, limits).replies).toEqual([Array(10).fill(1)]);
    badAllWays('*?\r\n' + ':1\r\n'.repeat(11) + '.\r\n', limits, /more than 10 elements/);
    badAllWays('~?\r\n' + ':1\r\n'.repeat(11), limits);
    badAllWays('*1\r\n>?\r\n' + '*0\r\n'.repeat(11), limits);
    // A map's length counts its entries (pairs), like a declared %10.
    expect(Object.keys(decodeAllWays('%?\r\n' + Array.from({ length: 10 }, (_, i) => `+k${i}\r\n:1\r\n`).join('') + '.\r\n', 0, limits).replies[0]!)).toHaveLength(10);
    badAllWays('%?\r\n' + Array.from({ length: 11 }, (_, i) => `+k${i}\r\n:1\r\n`).join(''), limits);
  });

  it('a line without CRLF cannot grow without end', () => {
    bad('+' + 'a'.repeat(70_000));
    const { d } = decoderFor(0, { maxLineLength: 100 });
    expect(() => {
      for (let i = 0; i < 20; i++) d.feed(Buffer.from('+aaaaaaaaaa'));
    }).toThrow(ProtocolError);
  });
});
