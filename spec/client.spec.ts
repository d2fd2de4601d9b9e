import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ClosedError,
  ConnectError,
  InvalidArgumentError,
  Redis,
  ReplyTimeoutError,
  ServerError,
  WrongTypeError,
  UnknownCommandError,
  type RedisOptions,
} from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';
import { destroyRedis, startRedis } from './support/redis-server.js';

const env = useRealServer();
const client = (opts: RedisOptions = {}) => env.client(opts);

describe('the contract of DESIGN.md on a real server', () => {
  it('command, reply, and awaiting a Pending later', async () => {
    const redis = client();
    const db = redis.db;
    db.command('SET', 'greeting', 'hi');
    const n = db.command('INCR', 'hits:1');
    expect(await db.reply('GET', 'greeting')).toBe('hi');
    expect(await n).toBe(1);
    expect(await db.reply('GET', 'missing')).toBeNull();
  });

  it('reply mapping: integers, maps, sets, doubles, booleans over RESP3', async () => {
    const db = client().db;
    await db.reply('DEL', 'h', 's', 'z');
    await db.reply('HSET', 'h', 'a', '1', '__proto__', 'x');
    const h = await db.reply('HGETALL', 'h');
    expect(Object.getPrototypeOf(h)).toBeNull();
    expect(h).toEqual(Object.assign(Object.create(null), { a: '1', ['__proto__']: 'x' }));
    const m = await db.with({ map: 'map' }).reply('HGETALL', 'h');
    expect(m).toBeInstanceOf(Map);
    await db.reply('SADD', 's', 'x', 'y');
    expect((await db.reply('SMEMBERS', 's')).sort()).toEqual(['x', 'y']);
    expect(await db.with({ set: 'set' }).reply('SMEMBERS', 's')).toEqual(new Set(['x', 'y']));
    await db.reply('ZADD', 'z', 1.5, 'm');
    expect(await db.reply('ZSCORE', 'z', 'm')).toBe(1.5);
    await db.reply('SET', 'big', '9007199254740993');
    expect(await db.reply('INCRBY', 'big', 1)).toBe(9007199254740994n);
    expect(await db.reply('EXISTS', 'big')).toBe(1);
  });

  it('RESP2 when forced: same calls work, maps come as flat arrays', async () => {
    const db = client({ protocol: 2 }).db;
    await db.reply('HSET', 'h2', 'a', '1');
    expect(await db.reply('HGETALL', 'h2')).toEqual(['a', '1']);
    expect(await db.reply('PING')).toBe('PONG');
  });

  it('100 concurrent callers x 200 commands each get their own replies', async () => {
    const db = client().db;
    const callers = Array.from({ length: 100 }, async (_, c) => {
      for (let i = 0; i < 200; i++) {
        const key = `c:${c}:${i % 5}`;
        const value = `${c}-${i}-${'x'.repeat(i % 17)}`;
        db.command('SET', key, value);
        const got = await db.reply('GET', key);
        expect(got).toBe(value);
      }
      return c;
    });
    expect((await Promise.all(callers)).length).toBe(100);
  });

  it('everything goes through one TCP connection, and writes are coalesced', async () => {
    const redis = client({ clientName: 'redmux-one-conn' });
    const db = redis.db;
    await db.reply('PING');
    const before = redis.stats();
    const all = [];
    for (let i = 0; i < 1000; i++) all.push(db.reply('INCR', 'coalesce'));
    await Promise.all(all);
    const after = redis.stats();
    expect(after.commands - before.commands).toBe(1000);
    // 1000 commands issued in one tick leave in very few writes.
    expect(after.writes - before.writes).toBeLessThan(10);
    const list: string = await db.reply('CLIENT', 'LIST');
    const mine = list.split('\n').filter((l) => l.includes('name=redmux-one-conn'));
    expect(mine).toHaveLength(1);
  });

  it('binary-safe values round-trip as Buffers', async () => {
    const db = client().db;
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await db.reply('SET', Buffer.from([0xff, 0x00, 0x0d, 0x0a]), value);
    const raw = db.with({ decode: 'buffer' });
    expect(await raw.reply('GET', Buffer.from([0xff, 0x00, 0x0d, 0x0a]))).toEqual(value);
    const big = Buffer.alloc(300_000, 0xab);
    await db.reply('SET', 'bigbuf', big);
    const back = (await raw.reply('GET', 'bigbuf'))!; // typed Buffer | null by the buffer view
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
    expect(await raw.reply('SET', 'x', 'y')).toBe('OK'); // simple strings stay strings
  });

  it('database handles never see each other, whatever the interleaving', async () => {
    const redis = client();
    const dbs = [redis.db, redis.database(1), redis.database(2), redis.database(3)];
    const work = [];
    for (let i = 0; i < 400; i++) {
      const d = i % 4;
      work.push(dbs[d]!.reply('SET', `iso:${i}`, `db${d}`));
    }
    await Promise.all(work);
    const reads = [];
    for (let i = 0; i < 400; i++) {
      for (let d = 0; d < 4; d++) reads.push(dbs[d]!.reply('GET', `iso:${i}`).then((v) => [i, d, v]));
    }
    for (const [i, d, v] of await Promise.all(reads)) {
      expect(v).toBe((i as number) % 4 === d ? `db${d}` : null);
    }
    const list: string = await redis.db.reply('CLIENT', 'LIST');
    expect(list.trim().split('\n').length).toBeGreaterThanOrEqual(1);
  });

  it('an out-of-range database rejects its own commands and leaves other databases untouched', async () => {
    const redis = client();
    const bad = redis.database(9999);
    const good = redis.database(4);
    const p1 = bad.reply('SET', 'oops', '1');
    const p2 = good.reply('SET', 'fine', '1');
    await expect(p1).rejects.toBeInstanceOf(ServerError);
    expect(await p2).toBe('OK');
    expect(await redis.db.reply('GET', 'oops')).toBeNull();
    expect(await good.reply('GET', 'fine')).toBe('1');
  });

  it('fire-and-forget failures become commandError events, never unhandled rejections', async () => {
    const redis = client();
    const seen: Error[] = [];
    redis.on('commandError', (err) => seen.push(err));
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      await redis.db.reply('SET', 'str', 'x');
      redis.db.command('LPUSH', 'str', 'y'); // WRONGTYPE, never awaited
      redis.db.command('NOSUCHCOMMAND');
      await redis.db.reply('PING');
      await until('both failures reported as commandError', () => seen.length >= 2);
      await new Promise((r) => setImmediate(r)); // a turn of the loop: an unhandled rejection is reported by then
      expect(seen.map((e) => e.constructor)).toEqual([WrongTypeError, UnknownCommandError]);
      expect((seen[0] as ServerError).command).toBe('LPUSH');
      expect(redis.stats().commandErrors).toBe(2);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a Pending awaited after its failure still rejects for the awaiter', async () => {
    const redis = client();
    redis.on('commandError', () => {});
    await redis.db.reply('SET', 'str2', 'x');
    const p = redis.db.command('LPUSH', 'str2', 'y');
    await redis.db.reply('PING');
    await expect(p).rejects.toBeInstanceOf(WrongTypeError);
  });

  it('bad arguments: command() throws, reply() rejects, nothing is sent', async () => {
    const redis = client();
    await redis.db.reply('PING');
    const before = redis.stats();
    for (const bad of [undefined, null, true, {}, Symbol('x'), NaN]) {
      expect(() => redis.db.command('SET', 'k', bad as never)).toThrow(InvalidArgumentError);
      await expect(redis.db.reply('SET', 'k', bad as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(() => redis.db.command(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => redis.db.command('SELECT', 1)).toThrow(/redis\.database/);
    expect(() => redis.db.command('SUBSCRIBE', 'x')).toThrow(/subscriber/);
    expect(() => redis.db.command('MULTI')).toThrow(InvalidArgumentError);
    const after = redis.stats();
    expect(after.commands).toBe(before.commands);
    expect(after.bytesOut).toBe(before.bytesOut);
    expect(await redis.db.reply('EXISTS', 'k')).toBe(0);
  });

  it('bad per-call options are typed errors at with()', () => {
    const db = client().db;
    expect(() => db.with({ decode: 'latin1' as never })).toThrow(InvalidArgumentError);
    expect(() => db.with({ map: 'dict' as never })).toThrow(InvalidArgumentError);
    expect(() => db.with({ set: 'list' as never })).toThrow(InvalidArgumentError);
    expect(() => db.with({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => client().database(-1)).toThrow(InvalidArgumentError);
    expect(() => client().database(1.5)).toThrow(InvalidArgumentError);
  });

  it('graceful close settles every in-flight command, then refuses new ones', async () => {
    const redis = new Redis(env.server.url);
    const pending = [];
    for (let i = 0; i < 500; i++) pending.push(redis.db.reply('INCR', 'closing'));
    const closed = redis.close();
    await expect(redis.db.reply('PING')).rejects.toBeInstanceOf(ClosedError);
    await closed;
    const values = await Promise.all(pending);
    expect(values[499]).toBe(500);
  });

  it('disconnect rejects everything pending with ClosedError at once', async () => {
    const redis = new Redis(env.server.url);
    await redis.db.reply('PING');
    const pending = [];
    for (let i = 0; i < 100; i++) pending.push(redis.db.reply('INCR', 'abrupt'));
    redis.disconnect();
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof ClosedError)).toBe(true);
  });

  it('per-call timeout rejects with ReplyTimeoutError and the late reply never reaches the next caller', async () => {
    const redis = client();
    const db = redis.db;
    await db.reply('SET', 'slowkey', 'late');
    // DEBUG SLEEP stalls the server; the short-deadline GET behind it times out.
    const sleeper = db.with({ timeout: 5000 }).reply('DEBUG', 'SLEEP', 0.3);
    const timedOut = db.with({ timeout: 50 }).reply('GET', 'slowkey');
    const next = db.reply('ECHO', 'mine');
    await expect(timedOut).rejects.toBeInstanceOf(ReplyTimeoutError);
    await expect(timedOut).rejects.toMatchObject({ sent: true });
    expect(await next).toBe('mine');
    expect(await sleeper).toBe('OK');
    expect(redis.stats().timeouts).toBe(1);
  });

  it('auth: the right password works, a wrong one fails typed, and no message holds a secret', async () => {
    const secured = await startRedis(['--requirepass', 'right-horse-battery']);
    try {
      const ok = new Redis(`redis://:right-horse-battery@127.0.0.1:${secured.port}`);
      env.track(ok);
      expect(await ok.db.reply('PING')).toBe('PONG');
      const user = new Redis({ port: secured.port, username: 'default', password: 'right-horse-battery', protocol: 2 });
      env.track(user);
      expect(await user.db.reply('PING')).toBe('PONG');

      const bad = new Redis({ port: secured.port, password: 'hunter2-secret', reconnect: false });
      const errors: Error[] = [];
      bad.on('error', (e) => errors.push(e));
      const err = await bad.db.reply('GET', 'secret-value-key').catch((e) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect(err.cause).toBeInstanceOf(AuthError);
      expect(errors.some((e) => e instanceof AuthError)).toBe(true);
      for (const e of [err, err.cause, ...errors]) {
        expect(String(e.message)).not.toContain('hunter2-secret');
        expect(String(e.message)).not.toContain('secret-value-key');
      }
      bad.disconnect();
    } finally {
      await destroyRedis(secured);
    }
  });

  it('parses URLs: database, unix sockets, options', async () => {
    const viaUrl = client();
    await viaUrl.database(5).reply('SET', 'url-db', 'five');
    const r5 = new Redis(`${env.server.url}/5?clientName=from-url`);
    env.track(r5);
    expect(await r5.db.reply('GET', 'url-db')).toBe('five');
    expect(await r5.db.reply('CLIENT', 'GETNAME')).toBe('from-url');
    const unix = new Redis(`unix://${env.server.socket}?db=5`);
    env.track(unix);
    expect(await unix.db.reply('GET', 'url-db')).toBe('five');
    expect(() => new Redis('http://nope')).toThrow(InvalidArgumentError);
    expect(() => new Redis('redis://u:topsecret@host/notanumber')).toThrow(InvalidArgumentError);
    try {
      new Redis('redis://u:topsecret@host/notanumber');
    } catch (e) {
      expect((e as Error).message).not.toContain('topsecret');
    }
  });

  it('emits ready and close, and a closed client leaves nothing running', async () => {
    const redis = new Redis(env.server.url);
    const events: string[] = [];
    redis.on('ready', () => events.push('ready'));
    redis.on('close', () => events.push('close'));
    await redis.db.reply('PING');
    await redis.close();
    expect(events).toEqual(['ready', 'close']);
  });
});
