import { describe, expect, it } from 'vitest';
import { Decoder } from '../lib/resp/decoder.js';
import { Attributed, DECODE_ATTRIBUTES, DECODE_BUFFERS, DECODE_MAPS, DECODE_SETS, type Reply } from '../lib/resp/types.js';
import { ProtocolError, ServerError, WrongTypeError, UnknownCommandError } from '../lib/errors.js';

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
function decodeAllWays(wire: string | Buffer, flags = 0): Out {
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire;
  const whole = decoderFor(flags);
  whole.d.feed(bytes);
  const single = decoderFor(flags);
  for (let i = 0; i < bytes.length; i++) single.d.feed(bytes.subarray(i, i + 1));
  expect(single.out).toEqual(whole.out);
  for (let round = 0; round < 20; round++) {
    const rnd = decoderFor(flags);
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

  it('a line without CRLF cannot grow without end', () => {
    bad('+' + 'a'.repeat(70_000));
    const { d } = decoderFor(0, { maxLineLength: 100 });
    expect(() => {
      for (let i = 0; i < 20; i++) d.feed(Buffer.from('+aaaaaaaaaa'));
    }).toThrow(ProtocolError);
  });
});
