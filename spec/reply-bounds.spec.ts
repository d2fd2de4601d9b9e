/**
 * What a server's replies can do to the client, on a real server: odd error
 * codes and odd map keys are values like any other (never a TypeError, never a
 * dropped connection), and the reply bounds hold per reply.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ProtocolError, ServerError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

/** The rejection of `p`, or a failure if it resolves. */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (err: unknown) => err,
  );

describe('server error codes named like Object.prototype members', () => {
  it('reject only their own call with a plain ServerError carrying that code; the connection stays up', async () => {
    const redis = env.client();
    const db = redis.db;
    await db.reply('SET', 'neighbour', 'fine');
    for (const code of ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty']) {
      // Pipelined together: the GET is in flight on the same connection as the error.
      const [err, got] = await Promise.all([
        rejection(db.reply('EVAL', `return redis.error_reply('${code} odd code')`, 0)),
        db.reply('GET', 'neighbour'),
      ]);
      expect(err).toBeInstanceOf(ServerError);
      expect(Object.getPrototypeOf(err)).toBe(ServerError.prototype);
      expect((err as ServerError).code).toBe(code);
      expect((err as ServerError).serverMessage).toBe(`${code} odd code`);
      expect(got).toBe('fine');
    }
    expect(redis.stats().connectionLost).toBe(0);
  });
});

describe('maps whose keys are aggregates', () => {
  it('decode as a Map instead of throwing; the connection stays up', async () => {
    const redis = env.client();
    const db = redis.db;
    await db.reply('SET', 'neighbour', 'fine');
    const arrayKey = "redis.setresp(3); return {map={[{1,2}]='v'}}";
    const mapKey = "redis.setresp(3); return {map={[{map={a='b'}}]='v'}}";
    const [asObject, got, asMap, byMap] = await Promise.all([
      db.reply('EVAL', arrayKey, 0),
      db.reply('GET', 'neighbour'),
      db.with({ map: 'map' }).reply('EVAL', arrayKey, 0),
      db.reply('EVAL', mapKey, 0),
    ]);
    expect(asObject).toEqual(new Map([[[1, 2], 'v']]));
    expect(asMap).toEqual(new Map([[[1, 2], 'v']]));
    expect(byMap).toEqual(new Map([[Object.assign(Object.create(null), { a: 'b' }), 'v']]));
    expect(got).toBe('fine');
    expect(redis.stats().connectionLost).toBe(0);
  });
});

describe('limits.maxReplyBytes bounds one reply, not the sum of replies', () => {
  const item = 'x'.repeat(1024);

  it('50 pipelined ~1 MiB replies under a 4 MiB limit all arrive', async () => {
    const redis = env.client({ limits: { maxReplyBytes: 4 << 20 } });
    const db = redis.db;
    await db.reply('DEL', 'one-mib');
    await db.reply('RPUSH', 'one-mib', ...Array<string>(1000).fill(item));
    const replies = await Promise.all(Array.from({ length: 50 }, () => db.reply('LRANGE', 'one-mib', 0, -1)));
    expect(replies.map((r) => (r as string[]).length)).toEqual(Array(50).fill(1000));
    expect(redis.stats().connectionLost).toBe(0);
  });

  it('one reply over the limit drops the connection with ProtocolError, and the client recovers', async () => {
    const redis = env.client({ limits: { maxReplyBytes: 4 << 20 } });
    const db = redis.db;
    await db.reply('DEL', 'five-mib');
    for (let i = 0; i < 5; i++) await db.reply('RPUSH', 'five-mib', ...Array<string>(1024).fill(item));
    expect(await rejection(db.reply('LRANGE', 'five-mib', 0, -1))).toBeInstanceOf(ProtocolError);
    expect(redis.stats().connectionLost).toBe(1);
    expect(await db.reply('LLEN', 'five-mib')).toBe(5 * 1024);
    expect((await db.reply('LRANGE', 'five-mib', 0, 3000)) as string[]).toHaveLength(3001);
  });
});

describe('limits.maxReplyElements bounds the values of one reply', () => {
  it('a reply of more elements drops the connection with ProtocolError; smaller ones pass', async () => {
    const redis = env.client({ limits: { maxReplyElements: 1000 } });
    const db = redis.db;
    const emptyTables = (n: number) => `local t = {} for i = 1, ${n} do t[i] = {} end return t`;
    // 1 array + 999 empty arrays: at the budget.
    const replies = await Promise.all(Array.from({ length: 20 }, () => db.reply('EVAL', emptyTables(999), 0)));
    expect(replies.map((r) => (r as unknown[]).length)).toEqual(Array(20).fill(999));
    expect(redis.stats().connectionLost).toBe(0);
    expect(await rejection(db.reply('EVAL', emptyTables(1000), 0))).toBeInstanceOf(ProtocolError);
    expect(redis.stats().connectionLost).toBe(1);
    expect(await db.reply('PING')).toBe('PONG');
  });
});

describe('maxArgumentBytes: an argument the server would refuse is refused before sending', () => {
  it('command, reply, multi and watch refuse it with InvalidArgumentError; nothing is sent and neighbours are untouched', async () => {
    const redis = env.client({ maxArgumentBytes: 1024 });
    const big = 'x'.repeat(2000);
    const bigBuffer = Buffer.alloc(1025);
    const neighbour = redis.db.reply('SET', 'bounds:neighbour', 'ok');
    expect(() => redis.db.command('SET', 'bounds:big', big)).toThrow(InvalidArgumentError);
    const err = await redis.db.reply('SET', 'bounds:big', bigBuffer).catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/maxArgumentBytes/);
    expect((err as Error).message).not.toContain('xxxx');
    await expect(redis.db.multi((tx) => tx.command('SET', 'bounds:big', big))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redis.db.watch([big], () => 'ran')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await neighbour).toBe('OK');
    expect(await redis.db.reply('EXISTS', 'bounds:big')).toBe(0);
    expect(redis.stats().connectionLost).toBe(0);
    // At the limit it goes through.
    expect(await redis.db.reply('SET', 'bounds:edge', 'y'.repeat(1024))).toBe('OK');
  });
});
