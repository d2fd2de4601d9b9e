/**
 * Delivery (DESIGN "Pub/sub (the contract)"): every open iterator has its own
 * bounded buffer and sees every message published after it started; a slow
 * one overflows per its policy without touching anyone else; a listener that
 * throws costs neither the connection nor a message.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SubscriberOverflowError, type Message, type Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

function publishMany(redis: Redis, channel: string, n: number, prefix = 'm'): Promise<unknown> {
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < n; i++) last = redis.db.reply('PUBLISH', channel, `${prefix}${i}`);
  return last;
}

describe('listeners that throw', () => {
  it('cost no message and no reconnect; the error is the subscriber\'s "error" event', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    const first: string[] = [];
    const second: string[] = [];
    const errors: Error[] = [];
    let n = 0;
    sub.on('message', (m: Message) => {
      first.push(m.message as string);
      if (n++ % 2 === 0) throw new Error('listener bug');
    });
    sub.on('message', (m: Message) => second.push(m.message as string));
    sub.on('error', (e: Error) => errors.push(e));
    await sub.subscribe('tl:ch');
    await publishMany(redis, 'tl:ch', 200);
    await until('200 messages to the second listener', () => second.length === 200);
    const expected = Array.from({ length: 200 }, (_, i) => `m${i}`);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    expect(errors).toHaveLength(100);
    expect(errors[0]!.message).toBe('listener bug');
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, connectionLost: 0 });
  });
});

describe('async iterators', () => {
  it('two iterators each receive all 1000 messages, in order', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    await sub.subscribe('it:two');
    const a = sub[Symbol.asyncIterator]();
    const b = sub[Symbol.asyncIterator]();
    const readA = take(a, 1000);
    const readB = take(b, 1000);
    await publishMany(redis, 'it:two', 1000);
    const expected = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    expect((await readA).map((m) => m.message)).toEqual(expected);
    expect((await readB).map((m) => m.message)).toEqual(expected);
  });

  it('an iterator sees only what was published after it started; events alone buffer nothing', async () => {
    const redis = env.client();
    const sub = redis.subscriber({ maxBuffered: 10 });
    await sub.subscribe('it:late');
    let seen = 0;
    sub.on('message', () => seen++);
    await publishMany(redis, 'it:late', 50, 'old');
    await until('50 messages seen', () => seen === 50);
    const it = sub[Symbol.asyncIterator]();
    await redis.db.reply('PUBLISH', 'it:late', 'new');
    expect((await it.next()).value).toEqual({ channel: 'it:late', message: 'new' });
  });

  it('a slow iterator overflows per its policy and affects no other subscriber', async () => {
    const redis = env.client();
    const strict = redis.subscriber({ maxBuffered: 10 }); // overflow: 'error'
    const lossy = redis.subscriber({ maxBuffered: 10, overflow: 'drop-oldest' });
    const fast = redis.subscriber();
    for (const s of [strict, lossy, fast]) await s.subscribe('it:flood');
    const slowStrict = strict[Symbol.asyncIterator]();
    const slowLossy = lossy[Symbol.asyncIterator]();
    const quick = take(fast[Symbol.asyncIterator](), 50);
    const strictEvents: string[] = [];
    strict.on('message', (m: Message) => strictEvents.push(m.message as string));
    await publishMany(redis, 'it:flood', 50);
    const expected = Array.from({ length: 50 }, (_, i) => `m${i}`);
    expect((await quick).map((m) => m.message)).toEqual(expected);
    await until('50 strict events', () => strictEvents.length === 50); // events are never buffered, never dropped
    expect(strictEvents).toEqual(expected);

    // 'error': what was buffered first, then SubscriberOverflowError, then the iterator is done.
    expect((await take(slowStrict, 10)).map((m) => m.message)).toEqual(expected.slice(0, 10));
    await expect(slowStrict.next()).rejects.toBeInstanceOf(SubscriberOverflowError);
    expect(await slowStrict.next()).toEqual({ value: undefined, done: true });

    // 'drop-oldest': the newest ten, and the count of the others.
    expect((await take(slowLossy, 10)).map((m) => m.message)).toEqual(expected.slice(40));
    expect(lossy.dropped).toBe(40);
  });
});

describe('keyspace notifications', () => {
  it('sub.keyspace() yields { key, event, db }, can configure the server, filters events, and closes', async () => {
    const redis = env.client();
    await redis.db.reply('CONFIG', 'SET', 'notify-keyspace-events', '');
    const sub = redis.subscriber();
    const ks = await sub.keyspace('ksp:*', { configure: true });
    expect(String(await redis.db.reply('CONFIG', 'GET', 'notify-keyspace-events').then((r: any) => r['notify-keyspace-events'] ?? r[1]))).toMatch(/K/);
    const events: unknown[] = [];
    ks.on('event', (e) => events.push(e));
    const it = ks[Symbol.asyncIterator]();
    await redis.db.reply('SET', 'ksp:1', 'v');
    await redis.db.reply('DEL', 'ksp:1');
    expect(await take(it, 2)).toEqual([
      { key: 'ksp:1', event: 'set', db: 0 },
      { key: 'ksp:1', event: 'del', db: 0 },
    ]);
    expect(events).toHaveLength(2);

    const dels = await sub.keyspace('ksp:*', { db: 3, events: ['del'] });
    const delIt = dels[Symbol.asyncIterator]();
    const db3 = redis.database(3);
    await db3.reply('SET', 'ksp:2', 'v');
    await db3.reply('DEL', 'ksp:2');
    expect((await delIt.next()).value).toEqual({ key: 'ksp:2', event: 'del', db: 3 });

    const raw = redis.subscriber({ decode: 'buffer' });
    const bin = await raw.keyspace('ksp:*');
    const binIt = bin[Symbol.asyncIterator]();
    const key = Buffer.from([0x6b, 0x73, 0x70, 0x3a, 0xff]);
    await redis.db.reply('SET', key, 'v');
    expect((await binIt.next()).value).toEqual({ key, event: 'set', db: 0 });

    await ks.close();
    await dels.close();
    await bin.close();
    expect(await redis.db.reply('PUBSUB', 'NUMPAT')).toBe(0);
  });

  it('a message listener never sees keyspace events, and keyspace() refuses a bad db', async () => {
    const redis = env.client();
    await redis.db.reply('CONFIG', 'SET', 'notify-keyspace-events', 'KA');
    const sub = redis.subscriber();
    const messages: unknown[] = [];
    sub.on('message', (m) => messages.push(m));
    const ks = await sub.keyspace('ksq:*');
    const got = once(ks, 'event');
    await redis.db.reply('SET', 'ksq:1', 'v');
    expect((await got)[0]).toEqual({ key: 'ksq:1', event: 'set', db: 0 });
    expect(messages).toEqual([]);
    await expect(sub.keyspace('x', { db: -1 })).rejects.toThrow(/db/);
  });
});
