/**
 * `db.with({ prefix })`: every key position the command table knows gets the
 * prefix (movable keys included), no other argument does; checked against a
 * real server by reading the keyspace through an unprefixed handle.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/index.js';
import { blockedIn } from './support/blocked-clients.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('key prefixes', () => {
  it('prefixes the key of simple commands and leaves values alone', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'app:' });
    await app.reply('SET', 'k', 'k');
    expect(await redis.db.reply('GET', 'app:k')).toBe('k'); // the value is not prefixed
    expect(await redis.db.reply('EXISTS', 'k')).toBe(0);
    expect(await app.reply('GET', 'k')).toBe('k');
    await app.reply('HSET', 'h', 'field', 'value');
    expect(await redis.db.reply('HGET', 'app:h', 'field')).toBe('value');
    await app.reply('MSET', 'a', '1', 'b', '2');
    expect(await redis.db.reply('MGET', 'app:a', 'app:b', 'a', 'b')).toEqual(['1', '2', null, null]);
    await app.reply('RENAME', 'a', 'c');
    expect(await redis.db.reply('EXISTS', 'app:a', 'app:c')).toBe(1);
    expect(await app.reply('DEL', 'b', 'c')).toBe(2);
  });

  it('prefixes movable keys: EVAL numkeys, XREAD STREAMS, SORT ... STORE, ZUNIONSTORE, LMPOP', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'mv:' });
    // EVAL: KEYS get the prefix, ARGV does not.
    const echoed = await app.reply('EVAL', 'return {KEYS[1], KEYS[2], ARGV[1]}', 2, 'x', 'y', 'x');
    expect(echoed).toEqual(['mv:x', 'mv:y', 'x']);
    await app.reply('XADD', 's1', '1-1', 'f', 'v');
    await app.reply('XADD', 's2', '1-1', 'f', 'w');
    const read = (await app.reply('XREAD', 'COUNT', 5, 'STREAMS', 's1', 's2', '0', '0')) as Record<string, unknown>;
    expect(Object.keys(read).sort()).toEqual(['s1', 's2']); // the names as passed (spec/key-prefix-replies.spec.ts)
    await app.reply('RPUSH', 'list', '3', '1', '2');
    // SORT: the key and STORE's destination; BY/GET patterns are not keys.
    expect(await app.reply('SORT', 'list', 'BY', 'nosort', 'STORE', 'sorted')).toBe(3);
    expect(await redis.db.reply('LRANGE', 'mv:sorted', 0, -1)).toEqual(['3', '1', '2']);
    await app.reply('ZADD', 'z1', 1, 'a');
    await app.reply('ZADD', 'z2', 2, 'b');
    expect(await app.reply('ZUNIONSTORE', 'zu', 2, 'z1', 'z2')).toBe(2);
    expect(await redis.db.reply('ZCARD', 'mv:zu')).toBe(2);
    expect(await app.reply('LMPOP', 1, 'list', 'LEFT')).toEqual(['list', ['3']]);
    // SPUBLISH's channel is not a key; PUBLISH has none.
    expect(await app.reply('PUBLISH', 'chan', 'msg')).toBe(0);
  });

  it('Buffer keys stay Buffers (binary prefix and binary keys)', async () => {
    const redis = env.client();
    const bin = Buffer.from([0xff, 0x00, 0xfe]);
    await redis.db.with({ prefix: 'p:' }).reply('SET', bin, 'b');
    expect(await redis.db.reply('GET', Buffer.concat([Buffer.from('p:'), bin]))).toBe('b');
    const binaryPrefix = redis.db.with({ prefix: Buffer.from([0xc3, 0x28]) }); // not valid UTF-8
    await binaryPrefix.reply('SET', 'k', 'v');
    await binaryPrefix.reply<'OK'>('SET', 7, 'seven'); // a number as a key: the types want text, the wire takes it
    const keys = (await redis.db.with({ decode: 'buffer' }).reply('KEYS', '*')) as Buffer[];
    const hex = keys.map((k) => k.toString('hex'));
    expect(hex).toContain(Buffer.from([0xc3, 0x28, 0x6b]).toString('hex'));
    expect(hex).toContain(Buffer.from([0xc3, 0x28, 0x37]).toString('hex'));
  });

  it("a Buffer prefix is copied: changing the caller's buffer later changes no key", async () => {
    const redis = env.client();
    const prefix = Buffer.from('t1:');
    const view = redis.db.with({ prefix });
    const chained = view.with({ timeout: 1000 }); // made after the change below: still the prefix as given
    prefix.write('t2:');
    const later = view.with({ timeout: 2000 });
    await view.reply('SET', 'a', '1');
    await chained.reply('SET', 'b', '2');
    await later.reply('SET', 'c', '3');
    expect(await redis.db.reply('MGET', 't1:a', 't1:b', 't1:c')).toEqual(['1', '2', '3']);
    expect(await redis.db.reply('EXISTS', 't2:a', 't2:b', 't2:c')).toBe(0);
  });

  it('number keys get the prefix on the text the encoder sends for them unprefixed (inf, -0, 1e+21, ...)', async () => {
    const redis = env.client();
    const numbers = [Infinity, -Infinity, -0, 0, 1e21, -1e-7, 0.1, 2 ** 53, 2 ** 53 + 2, -5, 123456789012345680000, 10n ** 30n];
    const raw = redis.database(3);
    const prefixed = redis.database(4).with({ prefix: 'n:' });
    for (const n of numbers) {
      await raw.reply<'OK'>('SET', n, 'v'); // number keys: the types want text, the wire takes them
      await prefixed.reply<'OK'>('SET', n, 'v');
    }
    const plain = ((await raw.reply('KEYS', '*')) as string[]).sort();
    const withPrefix = ((await redis.database(4).reply('KEYS', '*')) as string[]).sort();
    expect(plain).toContain('inf');
    expect(withPrefix).toEqual(plain.map((k) => `n:${k}`).sort());
    await raw.reply('FLUSHDB');
    await redis.database(4).reply('FLUSHDB');
  });

  it('multi and watch honour the prefix', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'tx:' });
    expect(await app.multi((tx) => {
      tx.command('SET', 'a', '1');
      tx.command('INCR', 'a');
    })).toEqual(['OK', 2]);
    expect(await redis.db.reply('GET', 'tx:a')).toBe('2');
    const result = await app.watch(['a'], async (conn) => {
      const cur = Number(await conn.reply('GET', 'a'));
      return conn.multi((tx) => tx.command('SET', 'a', cur + 1));
    });
    expect(result).toEqual(['OK']);
    expect(await redis.db.reply('GET', 'tx:a')).toBe('3');
    // The WATCH is on the prefixed key: a write to it aborts the transaction.
    const aborted = await app.watch(['a'], async (conn) => {
      await redis.db.reply('SET', 'tx:a', 'changed');
      return conn.multi((tx) => tx.command('SET', 'a', 'mine'));
    });
    expect(aborted).toBeNull();
  });

  it('blocking commands on leased connections are prefixed too', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'q:' });
    const popped = app.reply('BLPOP', 'jobs', 0);
    await until('the BLPOP blocked on the server', async () => (await blockedIn(redis.db, 'blpop')) === 1);
    await redis.db.reply('RPUSH', 'q:jobs', 'job1');
    expect(await popped).toEqual(['jobs', 'job1']);
  });

  it('a later with() replaces the prefix; other options keep it', async () => {
    const redis = env.client();
    await redis.db.with({ prefix: 'one:' }).with({ prefix: 'two:' }).reply('SET', 'k', 'v');
    await redis.db.with({ prefix: 'one:' }).with({ timeout: 1000 }).reply('SET', 'k', 'w');
    expect(await redis.db.reply('MGET', 'two:k', 'one:k', 'one:two:k')).toEqual(['v', 'w', null]);
  });

  it('refuses commands whose keys it cannot find, and bad prefixes; nothing is sent', async () => {
    const redis = env.client();
    const app = redis.db.with({ prefix: 'bad:' });
    await redis.db.reply('PING');
    const before = redis.stats().commands;
    await expect(app.reply('EVAL', 'return 1', 5, 'k')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(app.reply('NOSUCHCOMMAND', 'k')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => redis.db.with({ prefix: '' })).toThrow(InvalidArgumentError);
    expect(() => redis.db.with({ prefix: 5 as never })).toThrow(/prefix/);
    expect(redis.stats().commands).toBe(before);
  });
});
