/**
 * Review 8 of endpoint failover (lib/topology/failover/endpoints.ts), against
 * two real servers (and scripted ones for MOVING, which redis 7 never sends).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type RedisOptions } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

let a: RedisServer;
let b: RedisServer;
const admins: Redis[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startRedis(), startRedis()]);
  admins.push(new Redis(a.url, { mode: 'standalone' }), new Redis(b.url, { mode: 'standalone' }));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await Promise.all(admins.map((c) => c.close()));
  await Promise.all([destroyRedis(a), destroyRedis(b)]);
});

const FAST = { failureThreshold: 2, failureWindow: 5000, gracePeriod: 500, healthCheckInterval: 50, healthCheckTimeout: 300 };

function client(o: RedisOptions): Redis {
  const redis = new Redis({ endpoints: [a.url, b.url], failover: FAST, connectTimeout: 1000, commandTimeout: 3000, ...o });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

describe('endpoint failover (review 8)', () => {
  it('an ACL user without PING: the health checks see live endpoints, nothing fails over', async () => {
    // A user for the data only: the health PING is refused with NOPERM, which is an answer from a live server.
    await Promise.all(admins.map((c) => c.db.reply('ACL', 'SETUSER', 'data', 'on', '>data-Pass-1', '~*', '-@all', '+get', '+set')));
    const redis = client({ username: 'data', password: 'data-Pass-1' });
    const events: unknown[] = [];
    redis.on('failover', (e) => events.push(e));
    expect(await redis.db.reply('SET', 'r8:acl', 'v')).toBe('OK');
    // Enough health checks for the threshold many times over (a check every 50 ms, threshold 2).
    const checks = async () => Number(/^cmdstat_ping:.*?rejected_calls=(\d+)/m.exec(await admins[1]!.db.reply('INFO', 'commandstats'))?.[1] ?? 0);
    await until('ten health checks answered by b', async () => (await checks()) >= 10);
    expect(events).toEqual([]);
    expect(await redis.db.reply('GET', 'r8:acl')).toBe('v');
  });
});
