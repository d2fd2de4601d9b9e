/**
 * `stats().pubsub` counts its connections as the command connections' stats
 * do: `connectionLost` for connections that were up and were lost,
 * `connectFailures` for attempts to connect that failed (the server down),
 * so a pub/sub server down for a while is one lost connection and many
 * failed attempts. Before, the pub/sub stats had no `connectFailures`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until, within } from './support/until.js';

let server: RedisServer | undefined;
const clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await destroyRedis(server);
  server = undefined;
});

describe('stats().pubsub.connectFailures', () => {
  it('counts failed attempts of the pub/sub connection apart from the one connection lost', async () => {
    server = await startRedis();
    const redis = new Redis(server.url, { reconnect: () => 20, commandTimeout: 30_000 });
    clients.push(redis);
    redis.on('error', () => {});
    const sub = redis.subscriber();
    sub.on('error', () => {});
    let readies = 0;
    let reconnecting = 0;
    sub.on('ready', () => readies++);
    sub.on('reconnecting', () => reconnecting++);
    await sub.subscribe('cf:news');
    expect(redis.stats().pubsub).toMatchObject({ connections: 1, connectionLost: 0, connectFailures: 0 });

    // The server goes away: its pub/sub connection is lost once, then attempts to connect fail.
    await server.stop();
    const readiesBefore = readies;
    await until('several pub/sub reconnects failed', () => reconnecting >= 5);
    const down = redis.stats().pubsub;
    expect(down.connectionLost).toBe(1);
    expect(down.connectFailures).toBeGreaterThanOrEqual(3);

    // Back up: the channel is subscribed again; every scheduled reconnect but the one after the loss failed.
    await server.restart();
    await until('the subscriber is ready again', () => readies > readiesBefore);
    const got = new Promise((resolve) => sub.once('message', resolve));
    await redis.db.reply('PUBLISH', 'cf:news', 'back');
    expect(await within('a message after the restart', got)).toEqual({ channel: 'cf:news', message: 'back' });
    const up = redis.stats().pubsub;
    expect(up.connectionLost).toBe(1);
    expect(up.connectFailures).toBe(up.reconnects - 1);
  });
});
