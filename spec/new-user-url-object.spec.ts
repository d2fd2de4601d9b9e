/**
 * `new Redis(new URL(process.env.REDIS_URL))` is how many applications hold
 * their configuration. A WHATWG URL is an object whose fields are getters, so
 * it has no own keys: the options check saw an empty options object and the
 * client went to the default 127.0.0.1:6379, database 0, silently (on a
 * machine running a Redis there: the wrong server). Found by a new user of
 * the packed tarball. Either the URL is used, or the constructor refuses it
 * with an InvalidArgumentError that says to pass a string; never the default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await destroyRedis(server);
});

describe('new Redis(new URL(...))', () => {
  it('uses the URL or refuses it; never connects to the default address', async () => {
    const url = new URL(`${server.url}/3`);
    let redis: Redis | undefined;
    try {
      redis = new Redis(url as never, { reconnect: false, connectTimeout: 2000 });
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/URL/);
      return;
    }
    try {
      const info = await redis.db.reply('CLIENT', 'INFO');
      expect(info).toMatch(/ db=3 /);
      expect(redis.nodes()[0]!.address).toBe(`127.0.0.1:${server.port}`);
    } finally {
      await redis.close();
    }
  });
});
