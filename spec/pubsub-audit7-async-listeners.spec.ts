/**
 * Async listeners whose promise rejects are listeners that throw (DESIGN.md,
 * pub/sub: "a listener that throws never costs the connection or a
 * message: the error is emitted as the subscriber's 'error'"). An
 * `async (m) => {...}` listener is how most users write one; its failure
 * used to be an unhandled rejection (a process crash under Node's default),
 * with an 'error' listener waiting in vain.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('async listeners that reject', () => {
  it.each([1, 2])('a "message" listener (%i listeners): the rejection is the subscriber\'s "error"; every message still arrives', async (n) => {
    const redis = env.client();
    const sub = redis.subscriber();
    const errors: Error[] = [];
    sub.on('error', (e) => errors.push(e));
    const got: string[] = [];
    sub.on('message', async (m: Message) => {
      got.push(m.message as string);
      throw new Error(`async listener bug ${m.message as string}`);
    });
    if (n === 2) sub.on('message', (m: Message) => void got.push(`second ${m.message as string}`));
    await sub.subscribe('al:ch');
    await redis.db.reply('PUBLISH', 'al:ch', 'a');
    await redis.db.reply('PUBLISH', 'al:ch', 'b');
    await until('both rejections reported', () => errors.length === 2);
    expect(errors.map((e) => e.message)).toEqual(['async listener bug a', 'async listener bug b']);
    expect(got).toEqual(n === 2 ? ['a', 'second a', 'b', 'second b'] : ['a', 'b']);
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, connectionLost: 0 });
  });

  it("a subscriber's 'ready' listener that rejects: reported as 'error' too", async () => {
    const redis = env.client({ reconnect: { baseDelay: 5, maxDelay: 20 } });
    const admin = env.client();
    const sub = redis.subscriber();
    const errors: Error[] = [];
    sub.on('error', (e) => errors.push(e));
    sub.on('ready', async () => {
      throw new Error('async ready bug');
    });
    await sub.subscribe('al:ready');
    await admin.db.reply('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await until('the rejection reported', () => errors.some((e) => e.message === 'async ready bug'));
  });

  it('a keyspace "event" listener that rejects: the stream\'s "error"; events keep coming', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    const ks = await sub.keyspace('al:key:*', { configure: true });
    const errors: Error[] = [];
    ks.on('error', (e) => errors.push(e));
    const keys: string[] = [];
    ks.on('event', async (e) => {
      keys.push(e.key as string);
      throw new Error('async keyspace bug');
    });
    await redis.db.reply('SET', 'al:key:1', 'x');
    await redis.db.reply('SET', 'al:key:2', 'x');
    await until('both rejections reported', () => errors.length === 2);
    expect(keys).toEqual(['al:key:1', 'al:key:2']);
  });
});
