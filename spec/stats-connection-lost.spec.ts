/**
 * `stats().connectionLost` counts connections that were up (handshake done)
 * and were lost, what a dashboard of dropped connections means; attempts to
 * connect that failed (the server down, reconnects refused) are counted
 * apart, as `connectFailures`, so a server down for a minute is one lost
 * connection and many failed attempts, not hundreds of "losses".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

let server: RedisServer | undefined;
const clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await destroyRedis(server);
  server = undefined;
});

describe('stats().connectionLost', () => {
  it('counts ready connections that were lost, not failed reconnects; those are connectFailures', async () => {
    server = await startRedis();
    const redis = new Redis(server.url, { reconnect: () => 20, commandTimeout: 5000 });
    const admin = new Redis(server.url, { reconnect: false });
    clients.push(redis, admin);
    let readies = 0;
    let reconnecting = 0;
    redis.on('ready', () => readies++);
    redis.on('reconnecting', () => reconnecting++);
    redis.on('error', () => {});
    const id = await redis.db.reply('CLIENT', 'ID');
    expect(redis.stats()).toMatchObject({ connectionLost: 0, connectFailures: 0 });

    // A ready connection killed by the server: one loss, and the reconnect succeeds.
    await admin.db.reply('CLIENT', 'KILL', 'ID', String(id));
    await until('the client connected again', () => readies === 2);
    expect(await redis.db.reply('PING')).toBe('PONG');
    expect(redis.stats()).toMatchObject({ connectionLost: 1, connectFailures: 0 });

    // The server goes away: one more loss, then reconnects that fail.
    admin.disconnect();
    await server.stop();
    await until('several reconnects failed', () => reconnecting >= 5);
    const stats = redis.stats();
    expect(stats.connectionLost).toBe(2);
    expect(stats.connectFailures).toBeGreaterThanOrEqual(3);

    // Back up: the next attempt succeeds, and the counts say what happened.
    await server.restart();
    expect(await redis.db.reply('PING')).toBe('PONG');
    expect(redis.stats().connectionLost).toBe(2);
    expect(redis.stats().connectFailures).toBe(redis.stats().reconnects - 2); // every scheduled reconnect but the two after losses failed
  });
});
