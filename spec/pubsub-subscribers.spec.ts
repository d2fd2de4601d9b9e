/**
 * Independent subscribers over one pub/sub connection (DESIGN "Pub/sub (the
 * contract)"): each `redis.subscriber()` is its own object with its own decode
 * option, listeners and close(); the server-side subscription lives while at
 * least one of them wants the channel, and the connection while any is open.
 * Channel names are bytes: a non-UTF-8 name stays those bytes.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ClosedError, type Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

/** PUBSUB NUMSUB of one channel (a string or raw bytes). */
async function numsub(redis: Redis, channel: string | Buffer): Promise<number> {
  const reply = (await redis.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[];
  return Number(reply[1]);
}

async function pubsubClients(redis: Redis): Promise<number> {
  const list = (await redis.db.reply('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  return list.split('\n').filter((l) => l.trim() !== '').length;
}

describe('independent subscribers', () => {
  it('two subscribers with different decode options each get their own representation, over one connection', async () => {
    const redis = env.client();
    const text = redis.subscriber();
    const bytes = redis.subscriber({ decode: 'buffer' });
    expect(text).not.toBe(bytes);
    await text.subscribe('ind:both');
    await bytes.subscribe('ind:both');
    const gotText = once(text, 'message');
    const gotBytes = once(bytes, 'message');
    await redis.db.reply('PUBLISH', 'ind:both', 'héllo');
    expect((await gotText)[0]).toEqual({ channel: 'ind:both', message: 'héllo' });
    expect((await gotBytes)[0]).toEqual({ channel: Buffer.from('ind:both'), message: Buffer.from('héllo') });
    expect(await numsub(redis, 'ind:both')).toBe(1);
    expect(await pubsubClients(redis)).toBe(1);

    await text.close();
    expect(await numsub(redis, 'ind:both')).toBe(1); // the other still wants it
    const stillBytes = once(bytes, 'message');
    await redis.db.reply('PUBLISH', 'ind:both', 'again');
    expect((await stillBytes)[0]).toEqual({ channel: Buffer.from('ind:both'), message: Buffer.from('again') });

    await bytes.close();
    await until('no subscriber and no pub/sub connection left on the server', async () => (await numsub(redis, 'ind:both')) === 0 && (await pubsubClients(redis)) === 0);
  });

  it('closing one subscriber never touches another, and the client can subscribe again after every close', async () => {
    const redis = env.client();
    const a = redis.subscriber();
    await a.subscribe('ind:a');
    await a.close();
    await expect(a.subscribe('ind:a')).rejects.toBeInstanceOf(ClosedError);
    const b = redis.subscriber();
    await b.subscribe('ind:b');
    const c = redis.subscriber();
    await c.psubscribe('ind:*');
    await b.close();
    const got = once(c, 'message');
    await redis.db.reply('PUBLISH', 'ind:b', 'for c');
    expect((await got)[0]).toEqual({ pattern: 'ind:*', channel: 'ind:b', message: 'for c' });
    expect(await numsub(redis, 'ind:b')).toBe(0);
  });

  it('unsubscribing in one subscriber keeps the server subscription for the other', async () => {
    const redis = env.client();
    const a = redis.subscriber();
    const b = redis.subscriber();
    await a.subscribe('ind:shared', 'ind:only-a');
    await b.subscribe('ind:shared');
    await a.unsubscribe();
    expect(a.subscriptions.channels).toEqual([]);
    expect(b.subscriptions.channels).toEqual(['ind:shared']);
    expect(await numsub(redis, 'ind:shared')).toBe(1);
    expect(await numsub(redis, 'ind:only-a')).toBe(0);
    const seenByA: unknown[] = [];
    a.on('message', (m) => seenByA.push(m));
    const got = once(b, 'message');
    await redis.db.reply('PUBLISH', 'ind:shared', 'x');
    await got;
    expect(seenByA).toEqual([]);
  });

  it('subscriber({ decode: "buffer" }) after a first subscriber() is honoured', async () => {
    const redis = env.client();
    const first = redis.subscriber();
    await first.subscribe('ind:dec');
    const second = redis.subscriber({ decode: 'buffer' });
    await second.subscribe('ind:dec');
    const got = once(second, 'message');
    await redis.db.reply('PUBLISH', 'ind:dec', 'v');
    expect((await got)[0].message).toEqual(Buffer.from('v'));
  });

  it('non-UTF-8 channel names and patterns round-trip as bytes', async () => {
    const redis = env.client();
    const sub = redis.subscriber({ decode: 'buffer' });
    // Both decode to U+FFFD as UTF-8: only their bytes tell them apart.
    const ff = Buffer.from([0x62, 0xff]);
    const fe = Buffer.from([0x62, 0xfe]);
    await sub.subscribe(ff, fe);
    expect(await numsub(redis, ff)).toBe(1);
    expect(await numsub(redis, fe)).toBe(1);
    const pattern = Buffer.from([0x70, 0xff, 0x2a]); // "p\xff*"
    await sub.psubscribe(pattern);
    const got: unknown[] = [];
    sub.on('message', (m) => got.push(m));
    const payload = Buffer.from([0, 0xff, 0x80, 10, 13]);
    await redis.db.reply('PUBLISH', fe, payload);
    await redis.db.reply('PUBLISH', Buffer.from([0x70, 0xff, 0x41]), payload);
    await until('both messages received', () => got.length === 2);
    expect(got[0]).toEqual({ channel: fe, message: payload });
    expect(got[1]).toEqual({ pattern, channel: Buffer.from([0x70, 0xff, 0x41]), message: payload });
    expect(sub.subscriptions.channels).toEqual([ff, fe]);
    await sub.unsubscribe(ff);
    expect(await numsub(redis, ff)).toBe(0);
    expect(await numsub(redis, fe)).toBe(1);
  });

  it('a text subscriber keeps non-UTF-8 channels apart, and one that wants Buffers can join and leave', async () => {
    const redis = env.client();
    const text = redis.subscriber();
    const ff = Buffer.from([0x74, 0xff]);
    const fe = Buffer.from([0x74, 0xfe]);
    await text.subscribe('txt:plain', ff, fe);
    const got: unknown[] = [];
    text.on('message', (m) => got.push(m));
    await redis.db.reply('PUBLISH', fe, 'to fe');
    await redis.db.reply('PUBLISH', 'txt:plain', 'plain');
    await until('both messages received', () => got.length === 2);
    // As text, both names read "t\uFFFD" (decode 'utf8' is lossy for such bytes), but only fe's message came.
    expect(got).toEqual([{ channel: 't\ufffd', message: 'to fe' }, { channel: 'txt:plain', message: 'plain' }]);
    await text.unsubscribe(ff, fe);
    expect(await numsub(redis, fe)).toBe(0);

    const bytes = redis.subscriber({ decode: 'buffer' });
    await bytes.subscribe('txt:plain');
    const both = [once(text, 'message'), once(bytes, 'message')];
    await redis.db.reply('PUBLISH', 'txt:plain', 'x');
    expect((await both[0])[0]).toEqual({ channel: 'txt:plain', message: 'x' });
    expect((await both[1])[0]).toEqual({ channel: Buffer.from('txt:plain'), message: Buffer.from('x') });
    await bytes.close();
    const again = once(text, 'message');
    await redis.db.reply('PUBLISH', 'txt:plain', 'y');
    expect((await again)[0]).toEqual({ channel: 'txt:plain', message: 'y' });
  });

  it('redis.close() ends every subscriber: iterators finish, later calls reject with ClosedError', async () => {
    const redis = env.client();
    const a = redis.subscriber();
    const b = redis.subscriber();
    await a.subscribe('ind:end');
    await b.psubscribe('ind:e*');
    const it = a[Symbol.asyncIterator]();
    const next = it.next();
    const closedA = once(a, 'close');
    // Not confirmed yet: the close wins. Observed now: it rejects while close() is still under way.
    const pending = b.subscribe('ind:pending').then(() => undefined, (err: unknown) => err);
    await redis.close();
    expect(await pending).toBeInstanceOf(ClosedError);
    expect(await next).toEqual({ value: undefined, done: true });
    await closedA;
    await expect(b.subscribe('ind:x')).rejects.toBeInstanceOf(ClosedError);
    expect(() => redis.subscriber()).toThrow(ClosedError);
  });
});
