/**
 * README "Replies in JavaScript": the rows of the RESP -> JavaScript table
 * that spec/client.spec.ts does not already take from a real server (it has
 * integers, maps, sets and doubles), each from the server's own `DEBUG
 * PROTOCOL` (which sends one reply of the asked type) or a Lua RESP3 reply.
 */
import { describe, expect, it } from 'vitest';
import { Attributed, ServerError, WrongTypeError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const lua = (body: string) => ['EVAL', `redis.setresp(3); ${body}`, 0] as const;

describe('README, replies in JavaScript', () => {
  it('big number, double (inf, nan), boolean, null, verbatim and simple strings', async () => {
    const db = env.client().db;
    const buffers = db.with({ decode: 'buffer' });
    expect(await db.reply('DEBUG', 'PROTOCOL', 'bignum')).toBe(1234567999999999999999999999999999999n);
    expect(await db.reply('DEBUG', 'PROTOCOL', 'double')).toBe(3.141);
    expect(await db.reply(...lua('return {double = 1/0}'))).toBe(Infinity);
    expect(await db.reply(...lua('return {double = -1/0}'))).toBe(-Infinity);
    expect(await db.reply(...lua('return {double = 0/0}'))).toBeNaN();
    expect(await db.reply('DEBUG', 'PROTOCOL', 'true')).toBe(true);
    expect(await db.reply('DEBUG', 'PROTOCOL', 'false')).toBe(false);
    expect(await db.reply('DEBUG', 'PROTOCOL', 'null')).toBeNull();
    // A verbatim string is a string (its txt: prefix is not part of it), a Buffer under decode: 'buffer'.
    expect(await db.reply('DEBUG', 'PROTOCOL', 'verbatim')).toBe('This is a verbatim\nstring');
    expect(await buffers.reply('DEBUG', 'PROTOCOL', 'verbatim')).toEqual(Buffer.from('This is a verbatim\nstring'));
    // Simple strings stay strings under decode: 'buffer'; blob strings do not.
    expect(await buffers.reply('PING')).toBe('PONG');
    expect(await buffers.reply('ECHO', 'x')).toEqual(Buffer.from('x'));
    // Integers past 2^53 are bigints, never rounded: negative ones too.
    expect(await db.reply('DECRBY', 'rr:neg', '9223372036854775807')).toBe(-9223372036854775807n);
    expect(await db.reply('DECRBY', 'rr:small', '9007199254740991')).toBe(-9007199254740991);
  });

  it('attributes are dropped, or wrapped as Attributed with attributes: true', async () => {
    const db = env.client().db;
    expect(await db.reply('DEBUG', 'PROTOCOL', 'attrib')).toBe('Some real reply following the attribute');
    const wrapped = (await db.with({ attributes: true }).reply('DEBUG', 'PROTOCOL', 'attrib')) as Attributed;
    expect(wrapped).toBeInstanceOf(Attributed);
    expect(wrapped.value).toBe('Some real reply following the attribute');
    expect(Object.getPrototypeOf(wrapped.attributes)).toBeNull();
    expect({ ...(wrapped.attributes as object) }).toEqual({ 'key-popularity': ['key:123', 90] });
  });

  it('errors are ServerError, subclassed by code, the code of a script error kept', async () => {
    const db = env.client().db;
    await db.reply('SET', 'rr:str', 'x');
    const wrong = await db.reply('LPUSH', 'rr:str', 'y').catch((e) => e);
    expect(wrong).toBeInstanceOf(WrongTypeError);
    const own = (await db.reply('EVAL', "return redis.error_reply('MYCODE went wrong')", 0).catch((e) => e)) as ServerError;
    expect(own.constructor).toBe(ServerError);
    expect(own.code).toBe('MYCODE');
    // Codes that are Object.prototype members find no class (README, Failure semantics).
    const proto = (await db.reply('EVAL', "return redis.error_reply('constructor x')", 0).catch((e) => e)) as ServerError;
    expect([proto.constructor, proto.code]).toEqual([ServerError, 'constructor']);
  });
});
