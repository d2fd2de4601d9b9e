/**
 * Client-side caching over RESP3 tracking (issue 13, item 3), against a real
 * server: hits never reach it (INFO commandstats), the writer/reader
 * guarantee hammered, single-flight misses, bounds, flushes, and a read
 * invalidated in flight is not kept.
 */
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { calls } from './support/commandstats.js';

const env = useRealServer();

function cachingClient(cache: Record<string, number> = {}): Redis {
  return env.client({ cache: { maxEntries: 10_000, maxBytes: 16 << 20, ...cache } });
}

describe('client-side cache', () => {
  it('answers repeated reads locally: the server runs each once', async () => {
    const redis = cachingClient();
    const probe = env.client();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'cc:a', 'one');
    await redis.db.reply('HSET', 'cc:h', 'f', 'v', 'g', 'w');
    const gets = await calls(probe, 'GET');
    const hgetalls = await calls(probe, 'HGETALL');
    for (let i = 0; i < 50; i++) {
      expect(await cached.reply('GET', 'cc:a')).toBe('one');
      expect({ ...(await cached.reply('HGETALL', 'cc:h')) }).toEqual({ f: 'v', g: 'w' });
    }
    expect(await calls(probe, 'GET')).toBe(gets + 1);
    expect(await calls(probe, 'HGETALL')).toBe(hgetalls + 1);
    const s = redis.stats().cache!;
    expect(s.hits).toBe(98);
    expect(s.misses).toBe(2);
    expect(s.entries).toBe(2);
    expect(s.bytes).toBeGreaterThan(0);
  });

  it('sends other commands of a caching view to the server, and never caches time-dependent or random reads', async () => {
    const redis = cachingClient();
    const probe = env.client();
    const cached = redis.db.with({ cache: true });
    await cached.reply('SET', 'cc:t', 'x', 'EX', 100);
    await cached.reply('SADD', 'cc:s', 'a', 'b', 'c');
    const ttl = await calls(probe, 'TTL');
    const srand = await calls(probe, 'SRANDMEMBER');
    for (let i = 0; i < 5; i++) {
      await cached.reply('TTL', 'cc:t');
      await cached.reply('SRANDMEMBER', 'cc:s');
    }
    expect(await calls(probe, 'TTL')).toBe(ttl + 5);
    expect(await calls(probe, 'SRANDMEMBER')).toBe(srand + 5);
    expect(redis.stats().cache!.entries).toBe(0);
  });

  it('never reads the cache on a view without cache: true', async () => {
    const redis = cachingClient();
    const probe = env.client();
    await redis.db.reply('SET', 'cc:plain', '1');
    const before = await calls(probe, 'GET');
    for (let i = 0; i < 5; i++) await redis.db.reply('GET', 'cc:plain');
    expect(await calls(probe, 'GET')).toBe(before + 5);
    expect(redis.stats().cache).toEqual({ hits: 0, misses: 0, entries: 0, bytes: 0, invalidations: 0 });
  });

  it("the guarantee: once another client's write is acknowledged, a read issued after the reader's next round trip never returns the old value", async () => {
    const reader = cachingClient();
    const writer = env.client();
    const cached = reader.db.with({ cache: true });
    const keys = ['cc:g1', 'cc:g2', 'cc:g3'];
    for (const k of keys) await writer.db.reply('SET', k, 0);
    const acked = new Map(keys.map((k) => [k, 0]));
    const ITERATIONS = 3000;
    let done = false;
    const violations: string[] = [];
    const write = async () => {
      for (let i = 1; i <= ITERATIONS; i++) {
        const k = keys[i % keys.length]!;
        await writer.db.reply('SET', k, i);
        acked.set(k, i); // acknowledged: from here on, the old value is history
      }
      done = true;
    };
    const read = async () => {
      let n = 0;
      while (!done) {
        const k = keys[n++ % keys.length]!;
        const floor = acked.get(k)!;
        await reader.db.reply('PING'); // the reader's own round trip
        const v = Number(await cached.reply('GET', k));
        if (v < floor) violations.push(`${k}: read ${v} after ${floor} was acknowledged`);
        // Reads with no round trip in between: served from the cache, still never older than what was read.
        for (let j = 0; j < 3; j++) {
          const again = Number(await cached.reply('GET', k));
          if (again < v) violations.push(`${k}: read ${again} after reading ${v}`);
        }
      }
    };
    await Promise.all([write(), read(), read(), read()]);
    expect(violations).toEqual([]);
    const s = reader.stats().cache!;
    // The cache was in play: many reads were hits, many entries were invalidated.
    expect(s.hits).toBeGreaterThan(1000);
    expect(s.invalidations).toBeGreaterThan(100);
  }, 60_000);

  it('concurrent misses of one read share one request', async () => {
    const redis = cachingClient();
    const probe = env.client();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'cc:sf', 'v');
    const before = await calls(probe, 'GET');
    const replies = await Promise.all(Array.from({ length: 100 }, () => cached.reply('GET', 'cc:sf')));
    expect(replies).toEqual(Array(100).fill('v'));
    expect(await calls(probe, 'GET')).toBe(before + 1);
    // Each caller got its own copy of a mutable reply.
    await redis.db.reply('RPUSH', 'cc:sfl', 'a', 'b');
    const lists = await Promise.all(Array.from({ length: 10 }, () => cached.reply('LRANGE', 'cc:sfl', 0, -1)));
    lists[0].push('mutated');
    expect(lists[1]).toEqual(['a', 'b']);
    expect(await cached.reply('LRANGE', 'cc:sfl', 0, -1)).toEqual(['a', 'b']);
  });

  it('a read whose key is invalidated while it is in flight is answered but not kept', async () => {
    const redis = cachingClient();
    const probe = env.client();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('HSET', 'cc:inf', 'f', '1');
    expect({ ...(await cached.reply('HGETALL', 'cc:inf')) }).toEqual({ f: '1' }); // now tracked by the server
    // On the wire: HSET, then HGET. The server's invalidation of cc:inf (for the HSET) arrives after
    // HSET's reply and before HGET's: the HGET was in flight when its key was invalidated.
    const [, value] = await Promise.all([redis.db.reply('HSET', 'cc:inf', 'f', '2'), cached.reply('HGET', 'cc:inf', 'f')]);
    expect(value).toBe('2');
    const before = await calls(probe, 'HGET');
    expect(await cached.reply('HGET', 'cc:inf', 'f')).toBe('2');
    expect(await calls(probe, 'HGET')).toBe(before + 1); // not kept: read again from the server
    expect(await cached.reply('HGET', 'cc:inf', 'f')).toBe('2');
    expect(await calls(probe, 'HGET')).toBe(before + 1); // kept this time
  });

  it('a write by this client is seen by its next cached read at once', async () => {
    const redis = cachingClient();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'cc:ryw', 'old');
    expect(await cached.reply('GET', 'cc:ryw')).toBe('old');
    await redis.db.reply('SET', 'cc:ryw', 'new');
    expect(await cached.reply('GET', 'cc:ryw')).toBe('new');
    // Pipelined in one tick, on a caching view too.
    cached.command('DEL', 'cc:ryw');
    expect(await cached.reply('GET', 'cc:ryw')).toBe(null);
    // Inside MULTI.
    expect(await cached.reply('GET', 'cc:ryw')).toBe(null);
    await redis.db.multi((tx) => tx.command('SET', 'cc:ryw', 'tx'));
    expect(await cached.reply('GET', 'cc:ryw')).toBe('tx');
  });

  it('FLUSHALL by another client empties the cache (a null invalidation)', async () => {
    const redis = cachingClient();
    const other = env.client();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'cc:f1', '1');
    await redis.db.reply('SET', 'cc:f2', '2');
    expect(await cached.reply('GET', 'cc:f1')).toBe('1');
    expect(await cached.reply('GET', 'cc:f2')).toBe('2');
    expect(redis.stats().cache!.entries).toBe(2);
    await other.db.reply('FLUSHALL');
    await redis.db.reply('PING');
    expect(redis.stats().cache!.entries).toBe(0);
    expect(await cached.reply('GET', 'cc:f1')).toBe(null);
    expect(await cached.reply('GET', 'cc:f2')).toBe(null);
  });

  it('stays within maxBytes and maxEntries, evicting the least recently used', async () => {
    const redis = cachingClient({ maxBytes: 200_000, maxEntries: 1_000_000 });
    const cached = redis.db.with({ cache: true });
    const value = 'x'.repeat(1000);
    const keys = Array.from({ length: 1000 }, (_, i) => `cc:big:${i}`);
    await redis.db.reply('MSET', ...keys.flatMap((k) => [k, value]));
    for (const k of keys) {
      await cached.reply('GET', k);
      expect(redis.stats().cache!.bytes).toBeLessThanOrEqual(200_000);
    }
    const s = redis.stats().cache!;
    expect(s.entries).toBeGreaterThan(50);
    expect(s.entries).toBeLessThan(200);
    // The most recent ones are still there; the first ones were evicted.
    const hits = s.hits;
    await cached.reply('GET', keys[999]!);
    expect(redis.stats().cache!.hits).toBe(hits + 1);
    await cached.reply('GET', keys[0]!);
    expect(redis.stats().cache!.hits).toBe(hits + 1);

    const few = cachingClient({ maxEntries: 10 });
    const c2 = few.db.with({ cache: true });
    await few.db.reply('PING');
    for (const k of keys.slice(0, 100)) await c2.reply('GET', k);
    expect(few.stats().cache!.entries).toBe(10);
    // A recently read entry outlives older unread ones: keys 90..99 are cached; read 90, then cache one more.
    await c2.reply('GET', keys[90]!);
    await c2.reply('GET', keys[100]!);
    const h = few.stats().cache!.hits;
    await c2.reply('GET', keys[90]!);
    expect(few.stats().cache!.hits).toBe(h + 1); // kept
    await c2.reply('GET', keys[91]!);
    expect(few.stats().cache!.hits).toBe(h + 1); // evicted in its place
  });

  it('ttl bounds how long an entry is served', async () => {
    // The cache's clock (Date) is the test's, and stands still unless moved:
    // "within the ttl" and "past it" do not depend on the machine's speed.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const redis = cachingClient({ ttl: 100 });
      const probe = env.client();
      const cached = redis.db.with({ cache: true });
      await redis.db.reply('SET', 'cc:ttl', 'v');
      const before = await calls(probe, 'GET');
      await cached.reply('GET', 'cc:ttl');
      vi.setSystemTime(Date.now() + 99);
      await cached.reply('GET', 'cc:ttl'); // within the ttl: served from the cache
      expect(await calls(probe, 'GET')).toBe(before + 1);
      vi.setSystemTime(Date.now() + 51);
      await cached.reply('GET', 'cc:ttl'); // 150 ms after it was kept: read again
      expect(await calls(probe, 'GET')).toBe(before + 2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('files entries per database, decoding and exact argument bytes', async () => {
    const redis = cachingClient();
    const c0 = redis.db.with({ cache: true });
    const c1 = redis.database(1).with({ cache: true });
    await redis.db.reply('SET', 'cc:db', 'zero');
    await redis.database(1).reply('SET', 'cc:db', 'one');
    expect(await c0.reply('GET', 'cc:db')).toBe('zero');
    expect(await c1.reply('GET', 'cc:db')).toBe('one');
    const raw = await c0.with({ decode: 'buffer' }).reply('GET', 'cc:db');
    expect(Buffer.isBuffer(raw) && raw.toString()).toBe('zero');
    expect(await c0.reply('GET', 'cc:db')).toBe('zero');
    // Binary keys that are not UTF-8: invalidated by their bytes.
    const k1 = Buffer.from([0x63, 0xff, 0x01]);
    const k2 = Buffer.from([0x63, 0xfe, 0x01]);
    await redis.db.reply('SET', k1, 'a');
    await redis.db.reply('SET', k2, 'b');
    expect(await c0.reply('GET', k1)).toBe('a');
    expect(await c0.reply('GET', k2)).toBe('b');
    const other = env.client();
    await other.db.reply('SET', k1, 'a2');
    await redis.db.reply('PING');
    expect(await c0.reply('GET', k1)).toBe('a2');
    expect(await c0.reply('GET', k2)).toBe('b');
    // A string that looks like a Buffer's filing is not one: different bytes, different entries.
    await redis.db.reply('SET', Buffer.from('\u0000a'), 'string-bytes');
    await redis.db.reply('SET', Buffer.from('a'), 'buffer-bytes');
    expect(await c0.reply('GET', Buffer.from('a'))).toBe('buffer-bytes');
    expect(await c0.reply('GET', '\u0000a')).toBe('string-bytes');
    expect(await c0.reply('GET', '\u0001\u0000a')).toBe(null);
    expect(await c0.reply('HMGET', 'cc:none', 'a|1:b')).toEqual([null]);
    expect(await c0.reply('HMGET', 'cc:none', 'a', 'b')).toEqual([null, null]);
    // A write in database 1 invalidates the name everywhere (tracking knows key names, not databases): never stale.
    await other.database(1).reply('SET', 'cc:db', 'uno');
    await redis.db.reply('PING');
    expect(await c1.reply('GET', 'cc:db')).toBe('uno');
  });

  it('refuses a cache without RESP3 and a caching view without a cache', () => {
    expect(() => new Redis({ protocol: 2, cache: {} })).toThrow(InvalidArgumentError);
    expect(() => new Redis({ cache: { maxEntrie: 1 } as never })).toThrow(/maxEntries/);
    const redis = env.client();
    expect(() => redis.db.with({ cache: true })).toThrow(/new Redis\(\{ cache/);
    expect(redis.stats().cache).toBeUndefined();
  });
});
