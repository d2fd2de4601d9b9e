/**
 * close() of an endpoint-failover client does not wait for its health
 * checks: a check's PING to an endpoint that stopped answering is the
 * client's own, not a caller's, and used to hold close() for its whole
 * healthCheckTimeout (and a checker's connection attempt for connectTimeout).
 * Real servers; one frozen with SIGSTOP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { serverPid, whileStopped } from './support/process-stop.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until, within } from './support/until.js';

let a: RedisServer;
let b: RedisServer;
let bPid: number;

beforeAll(async () => {
  [a, b] = await Promise.all([startRedis(), startRedis()]);
  const admin = new Redis(b.url, { mode: 'standalone' });
  bPid = await serverPid(admin);
  await admin.close();
});
afterAll(async () => {
  await Promise.all([destroyRedis(a), destroyRedis(b)]);
});

/** PINGs the server has answered (INFO commandstats). */
async function pings(url: string): Promise<number> {
  const admin = new Redis(url, { mode: 'standalone' });
  try {
    return Number(/^cmdstat_ping:calls=(\d+)/m.exec(await admin.db.reply('INFO', 'commandstats'))?.[1] ?? 0);
  } finally {
    await admin.close();
  }
}

describe('endpoint failover: close() and the health checks', () => {
  it('close() while a health check waits on a frozen endpoint returns at once; the client serves until then', async () => {
    const redis = new Redis({
      endpoints: [a.url, b.url],
      // Checks that wait long: close() must not wait for them.
      failover: { failureThreshold: 2, failureWindow: 120_000, gracePeriod: 500, healthCheckInterval: 50, healthCheckTimeout: 60_000 },
      connectTimeout: 60_000,
      commandTimeout: 5000,
    });
    redis.on('error', () => {});
    let closed = false;
    try {
      expect(await redis.db.reply('SET', 'fc:k', 'v')).toBe('OK');
      await until('b answered a health check', async () => (await pings(b.url)) > 0);
      await whileStopped(bPid, async () => {
        // b reads nothing now: the next check's PING to it waits (60 s deadline), a checker's reconnect would too.
        await new Promise((r) => setTimeout(r, 200)); // a few check intervals: PINGs written to b, unanswered
        expect(await redis.db.reply('GET', 'fc:k')).toBe('v'); // on a, which answers
        await within('close() returned while b is frozen', redis.close(), 5000);
        closed = true;
      });
    } finally {
      if (!closed) redis.disconnect();
    }
  });
});
