import { describe, expect, it } from 'vitest';
import { ClosedError, PoolTimeoutError, Redis, ReplyTimeoutError, RetryPolicy, TimeoutError, type RedisOptions } from '../lib/index.js';
import { blockingTimeoutMs } from '../lib/connection/blocking-timeout.js';
import { blockedIn } from './support/blocked-clients.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();
const client = (opts: RedisOptions = {}) => env.client(opts);

describe('blocking commands on the leased pool', () => {
  it('a server-side timeout is null, not an error', async () => {
    const db = client().db;
    expect(await db.reply('BLPOP', 'empty:list', 0.05)).toBeNull();
    expect(await db.reply('XREAD', 'BLOCK', 30, 'STREAMS', 'empty:stream', '$')).toBeNull();
  });

  it('BLPOPs in flight do not hold up the shared socket', async () => {
    const redis = client({ blockingPool: { size: 4 } });
    const db = redis.db;
    await db.reply('DEL', 'jobs');
    const order: string[] = [];
    const blocked = [0, 1, 2].map((i) => db.reply('BLPOP', 'jobs', 5).then((v) => (order.push(`blpop${i}`), v)));
    for (let i = 0; i < 20; i++) await db.reply('PING').then(() => order.push('ping'));
    // All 20 PINGs were answered while the three BLPOPs were still waiting on the server.
    expect(order.slice(0, 20).every((e) => e === 'ping')).toBe(true);
    for (let i = 0; i < 3; i++) await db.reply('RPUSH', 'jobs', `job${i}`);
    const got = await Promise.all(blocked);
    expect(got.map((g) => g![1]).sort()).toEqual(['job0', 'job1', 'job2']);
    expect(redis.stats().leased).toBeLessThanOrEqual(4);
  });

  it('an exhausted pool gives PoolTimeoutError (a TimeoutError)', async () => {
    const db = client({ blockingPool: { size: 1, maxWait: 50 } }).db;
    const holder = db.reply('BLPOP', 'never:filled', 0.5);
    const err = await db.reply('BLPOP', 'never:filled', 0.5).catch((e) => e);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(await holder).toBeNull();
  });

  it('a retry policy waits for the lease again instead of failing', async () => {
    const db = client({ blockingPool: { size: 1, maxWait: 100 } }).db;
    const holder = db.reply('BLPOP', 'q:retry', 0.25);
    const retried = db.with({ retry: RetryPolicy.exponential({ attempts: 5 }) }).reply('BLPOP', 'q:retry', 0.05);
    expect(await holder).toBeNull();
    expect(await retried).toBeNull();
  });

  it('an abandoned BLPOP is unblocked: an item pushed afterwards is not swallowed', async () => {
    const redis = client({ blockingPool: { size: 1 } });
    const db = redis.db;
    await db.reply('DEL', 'precious');
    const admin = client().db;
    const err = await db.with({ timeout: 100 }).reply('BLPOP', 'precious', 0).catch((e) => e);
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(err.sent).toBe(true);
    // The lease hygiene (CLIENT UNBLOCK) ends the abandoned BLPOP on the server.
    await until('the abandoned BLPOP unblocked on the server', async () => (await blockedIn(admin, 'blpop')) === 0);
    await db.reply('RPUSH', 'precious', 'item');
    // A BLPOP still blocked would have been served the item before the server ran the next command.
    expect(await db.reply('LRANGE', 'precious', 0, -1)).toEqual(['item']);
    // And the (single) lease is usable again.
    expect(await db.reply('BLPOP', 'precious', 1)).toEqual(['precious', 'item']);
    expect(redis.stats().orphanedReplies).toBe(0);
  });

  it('close() cuts blocked leases: their callers get ClosedError', async () => {
    const redis = new Redis(env.server.url);
    const admin = client().db;
    const blocked = redis.db.reply('BLPOP', 'forever', 0).catch((e) => e);
    await redis.db.reply('PING');
    await until('the BLPOP blocked on the server', async () => (await blockedIn(admin, 'blpop')) === 1);
    await redis.close();
    expect(await blocked).toBeInstanceOf(ClosedError);
  });

  it('close() right after a blocking command is issued settles it (never sent) and resolves', async () => {
    for (const size of [1, 8]) {
      const redis = new Redis(env.server.url, { blockingPool: { size } });
      await redis.db.reply('PING');
      const blocked = redis.db.reply('BLPOP', 'close:at-once', 0).catch((e) => e);
      const closed = redis.close().then(() => 'closed');
      const first = await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open after 5 s'), 5000))]);
      expect(first).toBe('closed');
      expect(await blocked).toBeInstanceOf(ClosedError);
    }
  });

  it('reads the server timeout of each blocking command', () => {
    expect(blockingTimeoutMs('BLPOP', ['a', 'b', 1.5])).toBe(1500);
    expect(blockingTimeoutMs('BLMOVE', ['a', 'b', 'LEFT', 'RIGHT', '0'])).toBe(0);
    expect(blockingTimeoutMs('BLMPOP', [2, 1, 'k', 'LEFT'])).toBe(2000);
    expect(blockingTimeoutMs('XREAD', ['COUNT', 1, 'BLOCK', 250, 'STREAMS', 's', '$'])).toBe(250);
    // The server compares keywords as C strings: BLOCK followed by a NUL byte is BLOCK.
    expect(blockingTimeoutMs('XREAD', [Buffer.from('BLOCK\0x'), 300, 'STREAMS', 's', '$'])).toBe(300);
    expect(blockingTimeoutMs('WAIT', [1, 100])).toBe(100);
  });

  it('reads BLOCK and the timeout whatever their type and case', () => {
    const bytes = (s: string) => new Uint8Array(Buffer.from(s));
    expect(blockingTimeoutMs('XREAD', [Buffer.from('BLOCK'), Buffer.from('250'), 'STREAMS', 's', '$'])).toBe(250);
    expect(blockingTimeoutMs('XREAD', [bytes('block'), bytes('0'), 'STREAMS', 's', '$'])).toBe(0);
    expect(blockingTimeoutMs('XREAD', ['Block', 75n, 'STREAMS', 's', '$'])).toBe(75);
    expect(blockingTimeoutMs('XREADGROUP', ['GROUP', 'g', 'c', Buffer.from('bLoCk'), 40, 'STREAMS', 's', '>'])).toBe(40);
    expect(blockingTimeoutMs('BLPOP', [Buffer.from('k'), Buffer.from('1.5')])).toBe(1500);
    expect(blockingTimeoutMs('BLMPOP', [bytes('0.25'), 1, 'k', 'LEFT'])).toBe(250);
    // A key named BLOCK is not the keyword: the stream names follow STREAMS.
    expect(blockingTimeoutMs('XREAD', ['STREAMS', Buffer.from('BLOCK'), '0'])).toBeUndefined();
  });
});
