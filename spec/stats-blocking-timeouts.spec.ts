/**
 * `stats().timeouts` counts the calls that timed out on the blocking pool as
 * it counts those on the shared connection, once per call: a blocking command
 * given up at its deadline (ReplyTimeoutError), one that found no side
 * connection free in time (PoolTimeoutError, however many times its retry
 * policy waited for one), a db.watch that found none free in time, and a
 * command of a db.watch transaction whose deadline passed on its leased
 * connection (the lease's count is kept after its connection closes).
 */
import { describe, expect, it } from 'vitest';
import { PoolTimeoutError, ReplyTimeoutError, RetryPolicy } from '../lib/index.js';
import { blockedIn } from './support/blocked-clients.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('stats().timeouts on the blocking pool', () => {
  it('a blocking command given up at its deadline counts once', async () => {
    const redis = env.client();
    const err = await outcome(redis.db.with({ timeout: 100 }).reply('BLPOP', 'st:never', 0));
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(redis.stats().timeouts).toBe(1);
  });

  it('one that found no side connection free in time counts once, however often its retry policy waited', async () => {
    const redis = env.client({ blockingPool: { size: 1, maxWait: 40 } });
    const admin = env.client();
    const holder = outcome(redis.db.reply('BLPOP', 'st:held', 0));
    await until('the holder blocks on the server', async () => (await blockedIn(admin.db, 'blpop')) === 1);
    const plain = await outcome(redis.db.reply('BLPOP', 'st:held', 0));
    expect(plain).toBeInstanceOf(PoolTimeoutError);
    expect(redis.stats().timeouts).toBe(1);
    // Several waits for a lease (each a PoolTimeoutError the policy retries), one call: one timeout.
    const retried = await outcome(redis.db.with({ timeout: 300, retry: RetryPolicy.exponential({ attempts: 50, baseDelay: 1, maxDelay: 1 }) }).reply('BLPOP', 'st:held', 0));
    expect(retried).toBeInstanceOf(PoolTimeoutError);
    expect(redis.stats().timeouts).toBe(2);
    // A db.watch that found no lease free in time: one more.
    expect(await outcome(redis.db.watch(['st:w0'], () => 1))).toBeInstanceOf(PoolTimeoutError);
    expect(redis.stats().timeouts).toBe(3);
    await admin.db.reply('RPUSH', 'st:held', 'x');
    expect(await holder).toEqual(['st:held', 'x']);
    expect(redis.stats().timeouts).toBe(3);
  });

  it('a command of a db.watch transaction whose deadline passed on its lease counts once', async () => {
    const redis = env.client({ commandTimeout: 150 });
    const err = await outcome(redis.db.watch(['st:w'], (conn) => conn.reply('BLPOP', 'st:wl', 1)));
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(redis.stats().timeouts).toBe(1);
  });
});
