/**
 * Client-side caching when things go wrong: a cut connection flushes the
 * cache (no invalidation reaches us while we are away), a read in flight
 * across the cut is not kept, and servers or users without tracking get reads
 * passed through, never a stale hit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, ServerError } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until, within } from './support/until.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { calls } from './support/commandstats.js';

const CACHE = { cache: { maxEntries: 1000, maxBytes: 1 << 20 } };
const env = useProxiedServer({ reconnect: { baseDelay: 20, maxDelay: 50 } });

function direct(opts = {}): Redis {
  const r = env.track(new Redis(env.server.url, opts));
  r.on('error', () => {});
  return r;
}

function once(redis: Redis, event: Parameters<Redis['once']>[0]): Promise<void> {
  return new Promise((resolve) => redis.once(event, () => resolve()));
}

describe('client-side cache faults', () => {
  it('flushes on a cut connection: a write made while disconnected is seen after the reconnect', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const writer = direct();
    const cached = redis.db.with({ cache: true });
    await writer.db.reply('SET', 'ccf:k', 'before');
    expect(await cached.reply('GET', 'ccf:k')).toBe('before');
    expect(await cached.reply('GET', 'ccf:k')).toBe('before');
    expect(redis.stats().cache!.entries).toBe(1);

    proxy.refuse(true);
    const reconnecting = once(redis, 'reconnecting');
    proxy.cutAll();
    await reconnecting;
    expect(redis.stats().cache!.entries).toBe(0); // flushed as soon as the loss is known
    await writer.db.reply('SET', 'ccf:k', 'after'); // no invalidation can reach the reader now
    const queued = cached.reply('GET', 'ccf:k'); // issued while disconnected: answered, not kept (issued before the new connection's flush)
    proxy.refuse(false);
    expect(await queued).toBe('after');
    // Tracking is back on the new connection: entries are kept, and invalidated again.
    expect(await cached.reply('GET', 'ccf:k')).toBe('after');
    const hits = redis.stats().cache!.hits;
    expect(await cached.reply('GET', 'ccf:k')).toBe('after');
    expect(redis.stats().cache!.hits).toBe(hits + 1);
    await writer.db.reply('SET', 'ccf:k', 'later');
    await redis.db.reply('PING');
    expect(await cached.reply('GET', 'ccf:k')).toBe('later');
  });

  it('a read in flight when the connection is cut is answered after the reconnect but not kept', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const probe = direct();
    const cached = redis.db.with({ cache: true });
    await probe.db.reply('SET', 'ccf:inflight', 'v');
    proxy.stall();
    const read = cached.reply('GET', 'ccf:inflight');
    await until('the read is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    expect(await read).toBe('v'); // a read: resent on the new connection (the default retry policy)
    expect(redis.stats().cache!.entries).toBe(0);
    const before = await calls(probe, 'GET');
    expect(await cached.reply('GET', 'ccf:inflight')).toBe('v');
    expect(await calls(probe, 'GET')).toBe(before + 1);
  });

  it('passes reads through when the server refuses CLIENT TRACKING (an ACL without CLIENT)', async () => {
    const admin = direct();
    await admin.db.reply('ACL', 'SETUSER', 'ccf-noclient', 'on', '>pw', '~*', '&*', '+@all', '-client');
    const { redis } = await env.through({ ...CACHE, username: 'ccf-noclient', password: 'pw' });
    const cached = redis.db.with({ cache: true });
    await admin.db.reply('SET', 'ccf:acl', '1');
    const before = await calls(admin, 'GET');
    expect(await cached.reply('GET', 'ccf:acl')).toBe('1');
    expect(await cached.reply('GET', 'ccf:acl')).toBe('1');
    await admin.db.reply('SET', 'ccf:acl', '2');
    expect(await cached.reply('GET', 'ccf:acl')).toBe('2');
    expect(await calls(admin, 'GET')).toBe(before + 3);
    expect(redis.stats().cache).toMatchObject({ hits: 0, entries: 0 });
  });

  it('the guarantee holds through repeated cuts: never an old value after a round trip', async () => {
    const { redis, proxy } = await env.through({ ...CACHE, commandTimeout: 2000 });
    const writer = direct();
    const cached = redis.db.with({ cache: true });
    const keys = ['ccf:h1', 'ccf:h2'];
    // Read too, never written during the run: its entry lives from one cut to the next, so the cache is
    // exercised (hits) whatever the timing; h1 and h2 are written so often that their hits are rare (0 in 1 run of 4).
    const still = 'ccf:h0';
    for (const k of [...keys, still]) await writer.db.reply('SET', k, 0);
    const acked = new Map([...keys, still].map((k) => [k, 0]));
    let done = false;
    const violations: string[] = [];
    let checked = 0;
    const cuts = setInterval(() => proxy.cutAll(), 150);
    const stopAt = Date.now() + 3000;
    const write = async () => {
      for (let i = 1; Date.now() < stopAt; i++) {
        const k = keys[i % keys.length]!;
        await writer.db.reply('SET', k, i);
        acked.set(k, i);
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      done = true;
    };
    const read = async () => {
      let n = 0;
      while (!done) {
        const k = n++ % 3 === 2 ? still : keys[n % keys.length]!;
        const floor = acked.get(k)!;
        try {
          await redis.db.reply('PING');
          const v = Number(await cached.reply('GET', k));
          checked++;
          if (v < floor) violations.push(`${k}: read ${v} after ${floor} was acknowledged`);
        } catch {
          // a cut: the round trip did not happen, nothing to check
        }
      }
    };
    try {
      await Promise.all([write(), read(), read()]);
    } finally {
      clearInterval(cuts);
    }
    expect(violations).toEqual([]);
    expect(checked, JSON.stringify(redis.stats().cache)).toBeGreaterThan(100);
    expect(redis.stats().reconnects).toBeGreaterThan(3);
    expect(redis.stats().cache!.hits).toBeGreaterThan(0);
  }, 60_000);

  it('a caller never waits for a shared read past its own deadline, nor fails by one it did not have', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'ccf:dl', 'v');
    proxy.stall();
    // The read in flight has a deadline far past the test's: a caller that waited behind it would hang.
    const slow = cached.with({ timeout: 60_000 }).reply('GET', 'ccf:dl');
    // A shorter deadline: it does not wait behind the read in flight, it reads on its own (and times out on
    // the stalled link by its own deadline). Waiting behind the read would hang until resume(): within() fails.
    await expect(within('the 150 ms read times out on its own', cached.with({ timeout: 150 }).reply('GET', 'ccf:dl'))).rejects.toBeInstanceOf(ReplyTimeoutError);
    // No deadline at all: it must not inherit the 60 s one either.
    const patient = cached.with({ timeout: 0 }).reply('GET', 'ccf:dl');
    // A longer deadline: it shares the read in flight.
    const sharing = cached.with({ timeout: 90_000 }).reply('GET', 'ccf:dl');
    proxy.resume();
    expect(await slow).toBe('v');
    expect(await sharing).toBe('v');
    expect(await patient).toBe('v');
  });

  it('a failed shared read reports each fire-and-forget caller once, and rejects each awaiting one', async () => {
    const { redis } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('RPUSH', 'ccf:list', 'x');
    const reported: Error[] = [];
    redis.on('commandError', (err: Error) => reported.push(err));
    cached.command('GET', 'ccf:list'); // WRONGTYPE, nobody awaits
    cached.command('GET', 'ccf:list'); // shares the same read
    const awaited = cached.reply('GET', 'ccf:list');
    await expect(awaited).rejects.toBeInstanceOf(ServerError);
    await redis.db.reply('PING');
    expect(reported.length).toBe(2);
    expect(reported.every((e) => e instanceof ServerError)).toBe(true);
    expect(redis.stats().cache!.entries).toBe(0); // errors are not cached
  });

  describe('a server without RESP3 (HELLO renamed away: the handshake falls back to RESP2)', () => {
    let old: RedisServer;
    beforeAll(async () => {
      old = await startRedis(['--rename-command', 'HELLO', '']);
    });
    afterAll(async () => {
      await destroyRedis(old);
    });

    it('passes reads through: no tracking, no stale hit', async () => {
      const redis = env.track(new Redis(old.url, CACHE));
      const writer = env.track(new Redis(old.url));
      const cached = redis.db.with({ cache: true });
      await writer.db.reply('SET', 'ccf:r2', 'a');
      expect(await cached.reply('GET', 'ccf:r2')).toBe('a');
      await writer.db.reply('SET', 'ccf:r2', 'b');
      expect(await cached.reply('GET', 'ccf:r2')).toBe('b');
      expect(redis.stats().cache).toMatchObject({ hits: 0, entries: 0 });
    });
  });
});
