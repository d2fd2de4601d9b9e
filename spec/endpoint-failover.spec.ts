/**
 * Endpoint failover (issue 12 item 4): two standalone servers, each behind a
 * fault proxy. Health checks open the circuit breaker of the endpoint that
 * fails; every connection moves to the other one (a 'failover' event, writes
 * land there, a subscriber resubscribes there), and back once the first one
 * heals and its grace period passed. No endpoint available: a ConnectError.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, InvalidArgumentError, Redis, type RedisOptions } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

let a: RedisServer;
let b: RedisServer;
let direct: { a: Redis; b: Redis };
const proxies: FaultProxy[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startRedis(), startRedis()]);
  direct = { a: new Redis(a.url, { mode: 'standalone' }), b: new Redis(b.url, { mode: 'standalone' }) };
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all([direct.a.db.reply('FLUSHALL'), direct.b.db.reply('FLUSHALL')]);
});
afterAll(async () => {
  await Promise.all([direct?.a.close(), direct?.b.close()]);
  await Promise.all([destroyRedis(a), destroyRedis(b)]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FAST = { failureThreshold: 2, failureWindow: 5000, gracePeriod: 500, healthCheckInterval: 100, healthCheckTimeout: 300 };

async function setup(o: RedisOptions = {}) {
  const pa = await FaultProxy.start(a.port);
  const pb = await FaultProxy.start(b.port);
  proxies.push(pa, pb);
  const redis = new Redis({ endpoints: [pa.url, pb.url], failover: FAST, connectTimeout: 1000, commandTimeout: 5000, ...o });
  redis.on('error', () => {});
  clients.push(redis);
  const events: { from?: string; to?: string }[] = [];
  redis.on('failover', (e) => events.push(e));
  return { pa, pb, redis, events };
}

describe('endpoint failover', () => {
  it('moves to the healthy endpoint when the first fails, and back when it heals', async () => {
    const { pa, pb, redis, events } = await setup();
    expect(redis.mode).toBe('failover');
    await redis.db.reply('SET', 'where', 'first');
    expect(await direct.a.db.reply('GET', 'where')).toBe('first');
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', ({ message }) => got.push(message as string));
    await sub.subscribe('news');

    pa.refuse(true);
    pa.cutAll();
    await until('a failover event', () => events.length === 1);
    expect(events[0]).toMatchObject({ from: `127.0.0.1:${pa.url.split(':').pop()}`, to: `127.0.0.1:${pb.url.split(':').pop()}` });
    expect(await redis.db.reply('SET', 'where', 'second')).toBe('OK');
    expect(await direct.b.db.reply('GET', 'where')).toBe('second');
    await until('the subscriber subscribed on b', async () => (await direct.b.db.reply('PUBLISH', 'news', 'on b')) === 1);
    await until("the message published on b received", () => got.includes('on b'));

    pa.refuse(false);
    await until('a second failover event (back to a)', () => events.length === 2);
    expect(events[1]).toMatchObject({ from: events[0]!.to, to: events[0]!.from });
    await until('a write landing on a again', async () => (await redis.db.reply('SET', 'back', '1')) === 'OK' && (await direct.a.db.reply('GET', 'back')) === '1');
    await sub.close();
  });

  it('a failover under load: counts add up (successes <= value <= successes + maybeExecuted)', async () => {
    const { pa, redis, events } = await setup();
    await redis.db.reply('PING');
    let ok = 0;
    let maybe = 0;
    const other: Error[] = [];
    let stop = false;
    const caller = async () => {
      while (!stop) {
        try {
          await redis.db.reply('INCR', 'n');
          ok++;
        } catch (err) {
          if ((err as { maybeExecuted?: boolean }).maybeExecuted) maybe++;
          else other.push(err as Error);
          await sleep(5);
        }
      }
    };
    const callers = Array.from({ length: 16 }, caller);
    try {
      await until('the load under way on a', () => ok > 0);
      pa.refuse(true);
      pa.cutAll();
      await until('a failover event', () => events.length === 1);
      await until('the load going on on b', async () => Number(await direct.b.db.reply('GET', 'n')) > 50);
    } finally {
      stop = true;
      await Promise.all(callers);
    }
    const total = Number(await direct.a.db.reply('GET', 'n')) + Number(await direct.b.db.reply('GET', 'n'));
    expect(other).toEqual([]);
    expect(ok).toBeLessThanOrEqual(total);
    expect(total).toBeLessThanOrEqual(ok + maybe);
  });

  it('no endpoint available: commands fail with a ConnectError that says so', async () => {
    const { pa, pb, redis, events } = await setup();
    await redis.db.reply('PING');
    pa.refuse(true);
    pb.refuse(true);
    pa.cutAll();
    pb.cutAll();
    await until('a failover event with no endpoint left', () => events.some((e) => e.to === undefined));
    const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/no endpoint is available/);
  });

  it.each([
    [{ endpoints: [] }, /non-empty array/],
    [{ endpoints: [{ host: '127.0.0.1', port: 1, weight: 0 }] }, /weight must be a positive number/],
    [{ failover: { failureThreshold: 2 } }, /needs the endpoints option/],
    [{ endpoints: ['redis://127.0.0.1:1'], failover: { treshold: 1 } }, /unknown option failover.treshold/],
    [{ endpoints: ['redis://127.0.0.1:1'], sentinel: { name: 'm', nodes: ['redis://127.0.0.1:2'] } }, /endpoints excludes sentinel/],
  ])('refuses %j', (opts, message) => {
    expect(() => new Redis(opts as RedisOptions)).toThrow(InvalidArgumentError);
    expect(() => new Redis(opts as RedisOptions)).toThrow(message);
  });
});
