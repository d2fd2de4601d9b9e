/**
 * Review 8 of endpoint failover (lib/topology/failover/endpoints.ts), against
 * two real servers (and scripted ones for MOVING, which redis 7 never sends).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, InvalidArgumentError, Redis, type RedisOptions } from '../lib/index.js';
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

  // A failed check counts while it is younger than failureWindow; checks are healthCheckInterval apart, so with
  // (failureThreshold - 1) x healthCheckInterval >= failureWindow there are never enough of them: the breaker could
  // never open, and an endpoint down for good kept every connection (healthCheckInterval: 5000 alone did that).
  it.each([
    [{ healthCheckInterval: 5000 }],
    [{ failureThreshold: 5, failureWindow: 2000, healthCheckInterval: 500 }],
    [{ failureThreshold: 2, failureWindow: 100, healthCheckInterval: 100 }],
  ])('refuses failover %j: the breaker could never open', (failover) => {
    const make = () => new Redis({ endpoints: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'], failover });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(/failureWindow/);
  });

  it.each([[{}], [{ failureThreshold: 1, failureWindow: 10, healthCheckInterval: 60_000 }], [{ failureThreshold: 3, failureWindow: 10_000, healthCheckInterval: 4999 }]])(
    'accepts failover %j',
    async (failover) => {
      const redis = new Redis({ endpoints: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'], failover });
      redis.on('error', () => {});
      await redis.close();
    },
  );

  it('an endpoint that refuses the password (its ACL not rolled out yet) opens its breaker; the client goes on on the other', async () => {
    const [wrong, right] = await Promise.all([startRedis(['--requirepass', 'old-Pass-1']), startRedis(['--requirepass', 'new-Pass-2'])]);
    const redis = new Redis({ endpoints: [wrong.url, right.url], failover: FAST, password: 'new-Pass-2', connectTimeout: 1000, commandTimeout: 500 });
    redis.on('error', () => {});
    const events: { to?: string }[] = [];
    redis.on('failover', (e) => events.push(e));
    try {
      await until('the failover to the endpoint that accepts the password', () => events.some((e) => e.to === `127.0.0.1:${right.port}`));
      // Every command before the switch failed at once (the refusal); from here the client must serve.
      await until('a SET answered', () => redis.db.reply('SET', 'r8:pw', 'v').then((v) => v === 'OK', () => false));
    } finally {
      await redis.close();
      await Promise.all([destroyRedis(wrong), destroyRedis(right)]);
    }
  });

  it('every endpoint refuses the password: commands fail with a ConnectError (no endpoint available) whose cause is the refusal', async () => {
    const [x, y] = await Promise.all([startRedis(['--requirepass', 'x-Pass-3']), startRedis(['--requirepass', 'y-Pass-4'])]);
    const redis = new Redis({ endpoints: [x.url, y.url], failover: FAST, password: 'neither-Pass-5', connectTimeout: 1000, commandTimeout: 5000 });
    redis.on('error', () => {});
    try {
      let err: unknown;
      await until('a command refused with no endpoint available', async () => {
        err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
        return err instanceof ConnectError && /no endpoint is available/.test(err.message);
      });
      const chain: string[] = [];
      for (let e: unknown = err; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e.message);
      expect(chain.join('\n')).toMatch(/WRONGPASS/);
      expect(chain.join('\n')).not.toContain('neither-Pass-5');
    } finally {
      await redis.close();
      await Promise.all([destroyRedis(x), destroyRedis(y)]);
    }
  });
});
