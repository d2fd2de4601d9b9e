import { describe, expect, it } from 'vitest';
import { Redis, SubscriberOverflowError, type Message, type RedisOptions } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();
const client = (opts: RedisOptions = {}) => env.client(opts);

function collect(sub: ReturnType<Redis['subscriber']>, n: number): Promise<Message[]> {
  return new Promise((resolve) => {
    const got: Message[] = [];
    const on = (m: Message) => {
      got.push(m);
      if (got.length === n) {
        sub.off('message', on);
        resolve(got);
      }
    };
    sub.on('message', on);
  });
}

describe('the subscriber', () => {
  it('receives 1000 messages in order', async () => {
    const redis = client();
    const sub = redis.subscriber();
    await sub.subscribe('news');
    const done = collect(sub, 1000);
    for (let i = 0; i < 1000; i++) redis.db.command('PUBLISH', 'news', `m${i}`);
    const got = await done;
    expect(got.map((m) => m.message)).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
    expect(got[0]!.channel).toBe('news');
  });

  it('patterns, buffers, and the async iterator', async () => {
    const redis = client();
    const sub = redis.subscriber({ decode: 'buffer' });
    await sub.psubscribe('ev:*');
    const it = sub[Symbol.asyncIterator]();
    await redis.db.reply('PUBLISH', 'ev:1', Buffer.from([0, 1, 2]));
    const { value } = await it.next();
    // decode: 'buffer' gives Buffers for channel names and patterns too.
    expect(value).toEqual({ pattern: Buffer.from('ev:*'), channel: Buffer.from('ev:1'), message: Buffer.from([0, 1, 2]) });
  });

  it('keeps receiving after CLIENT KILL TYPE pubsub (resubscribes everything)', async () => {
    const redis = client({ reconnect: { baseDelay: 10, maxDelay: 50 } });
    const sub = redis.subscriber();
    await sub.subscribe('a', 'b');
    await sub.psubscribe('p:*');
    const reconnected = new Promise((r) => sub.once('ready', r));
    expect(await redis.db.reply('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
    await reconnected;
    // Resubscription is in flight right after 'ready'; wait until the server sees all three.
    await until('the server sees the two channels and the pattern again', async () => {
      const n = (await redis.db.reply('PUBSUB', 'NUMSUB', 'a', 'b')) as (string | number)[];
      const pats = await redis.db.reply('PUBSUB', 'NUMPAT');
      return n[1] === 1 && n[3] === 1 && pats === 1;
    });
    const done = collect(sub, 3);
    await redis.db.reply('PUBLISH', 'a', '1');
    await redis.db.reply('PUBLISH', 'b', '2');
    await redis.db.reply('PUBLISH', 'p:x', '3');
    expect((await done).map((m) => m.message)).toEqual(['1', '2', '3']);
  });

  it('sharded channels (ssubscribe) deliver through the same events', async () => {
    const redis = client();
    const sub = redis.subscriber();
    await sub.ssubscribe('shard:1');
    const done = collect(sub, 1);
    await redis.db.reply('SPUBLISH', 'shard:1', 'sharded hello');
    expect((await done)[0]).toEqual({ channel: 'shard:1', message: 'sharded hello', sharded: true });
    await sub.sunsubscribe('shard:1');
    expect(sub.subscriptions.shardChannels).toEqual([]);
  });

  it('unsubscribe stops delivery', async () => {
    const redis = client();
    const sub = redis.subscriber();
    await sub.subscribe('u1', 'u2');
    await sub.unsubscribe('u1');
    expect(sub.subscriptions.channels).toEqual(['u2']);
    const done = collect(sub, 1);
    await redis.db.reply('PUBLISH', 'u1', 'lost');
    await redis.db.reply('PUBLISH', 'u2', 'kept');
    expect((await done)[0]!.message).toBe('kept');
  });

  it('a slow iterator consumer gets SubscriberOverflowError, not silent loss', async () => {
    const redis = client();
    const sub = redis.subscriber({ maxBuffered: 10 });
    await sub.subscribe('flood');
    const it = sub[Symbol.asyncIterator]();
    const seen = collect(sub, 20);
    for (let i = 0; i < 20; i++) redis.db.command('PUBLISH', 'flood', `${i}`);
    await seen;
    const first10 = [];
    for (let i = 0; i < 10; i++) first10.push((await it.next()).value.message);
    expect(first10).toEqual(Array.from({ length: 10 }, (_, i) => `${i}`));
    await expect(it.next()).rejects.toBeInstanceOf(SubscriberOverflowError);
  });

  it('keyspace notifications arrive through psubscribe', async () => {
    const redis = client();
    await redis.db.reply('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    const sub = redis.subscriber();
    await sub.psubscribe('__keyspace@0__:watched:*');
    const done = collect(sub, 1);
    await redis.db.reply('SET', 'watched:1', 'v');
    const [m] = await done;
    expect(m).toMatchObject({ channel: '__keyspace@0__:watched:1', message: 'set' });
  });

  it('close ends iterators', async () => {
    const redis = client();
    const sub = redis.subscriber();
    await sub.subscribe('bye');
    const it = sub[Symbol.asyncIterator]();
    const next = it.next();
    await sub.close();
    expect(await next).toEqual({ value: undefined, done: true });
  });
});
