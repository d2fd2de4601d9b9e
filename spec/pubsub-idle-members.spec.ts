/**
 * Subscribers that let go of everything but are never closed (a subscriber
 * per request, dropped after its unsubscribe()): the pub/sub hub must not keep
 * them, or every such subscriber stays reachable for the client's life.
 * Test-only peek: the hubs are caught by wrapping Hub.prototype.stats (called
 * by redis.stats()), and their private `members` map is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peekHubs } from './support/hub-peek.js';
import { Redis, type Message } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

const { hubsOf, members } = peekHubs();
const hubOf = (redis: Redis) => hubsOf(redis)[0]!;

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await destroyRedis(server);
});

describe('subscribers that unsubscribed everything and were dropped without close()', () => {
  it('1,000 of them: the hub keeps none; one still open subscribes again and receives', async () => {
    const redis = new Redis({ port: server.port });
    try {
      const kept = redis.subscriber();
      for (let i = 0; i < 1000; i++) {
        const sub = redis.subscriber();
        await sub.subscribe(`idle:${i}`);
        await sub.psubscribe(`idle:${i}:*`);
        await sub.unsubscribe();
        await sub.punsubscribe();
      }
      expect(members(hubOf(redis))).toBe(0);
      expect(await redis.db.reply('PUBSUB', 'NUMSUB', 'idle:1')).toEqual(['idle:1', 0]);
      // An idle subscriber is not closed: it can subscribe again, and receives.
      const got: string[] = [];
      kept.on('message', (m: Message<string>) => got.push(m.message));
      await kept.subscribe('idle:again');
      await until('the message arrives', async () => {
        await redis.db.reply('PUBLISH', 'idle:again', 'hello');
        return got.includes('hello');
      });
      await kept.unsubscribe('idle:again');
      expect(members(hubOf(redis))).toBe(0);
    } finally {
      await redis.close();
    }
  });
});
