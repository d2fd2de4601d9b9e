/**
 * Memory stays bounded (DESIGN safety rule 5) for the client-side cache of a
 * long-running client, against a real redis-server: far more distinct keys
 * than `maxEntries` (and than `maxBytes` holds), invalidations by another
 * client, FLUSHALL, reconnects (CLIENT KILL), reads given up by their
 * signals while their fill is in flight. The public counts
 * (`stats().cache.entries` / `bytes`) stay within the bounds and go back to
 * zero when everything is invalidated; reads in flight never outlive their
 * fill (a fill kept in the map of reads in flight after it settled would make
 * the next read of its key wait for it forever: every read below must
 * answer). Counts only: no heap sizes, no timings.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { expectIdle } from './support/bounded.js';

const env = useRealServer();

function cacheOf(redis: Redis) {
  return redis.stats().cache!;
}

describe('more distinct keys than the cache holds', () => {
  it('20,000 distinct keys through a cache of 500 entries: never more than 500, bytes within maxBytes', async () => {
    const maxBytes = 256 * 1024;
    const redis = env.client({ cache: { maxEntries: 500, maxBytes } });
    const writer = env.client();
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.db.reply('SET', `cb:${i}`, 'v'.repeat(i * 10))));
    const cached = redis.db.with({ cache: true });
    for (let round = 0; round < 20; round++) {
      const reads: Promise<unknown>[] = [];
      for (let i = 0; i < 1000; i++) {
        const k = round * 1000 + i;
        // Many shapes of entries: GET of keys that exist or not, HGET fields, STRLEN, each its own entry.
        if (i % 4 === 0) reads.push(cached.reply('GET', `cb:${k % 200}`));
        else if (i % 4 === 1) reads.push(cached.reply('GET', `cb:missing:${k}`));
        else if (i % 4 === 2) reads.push(cached.reply('HGET', `cb:h:${k % 50}`, `f${k}`));
        else reads.push(cached.reply('STRLEN', `cb:${k}`));
      }
      await Promise.all(reads);
      const c = cacheOf(redis);
      expect(c.entries).toBeLessThanOrEqual(500);
      expect(c.bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(cacheOf(redis).entries).toBeGreaterThan(0);
    expectIdle(redis);
  });

  it('values larger than maxBytes are never kept; 2,000 reads of them keep the cache empty', async () => {
    const redis = env.client({ cache: { maxEntries: 100, maxBytes: 4096 } });
    await redis.db.reply('SET', 'cb:big', 'x'.repeat(8192));
    const cached = redis.db.with({ cache: true });
    for (let i = 0; i < 2000; i++) expect(await cached.reply('GET', 'cb:big')).toHaveLength(8192);
    expect(cacheOf(redis)).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('invalidations', () => {
  it('5,000 read / remote write cycles over 1,000 keys: every entry dropped when its key is written; a FLUSHALL empties the cache', async () => {
    const redis = env.client({ cache: { maxEntries: 2000 } });
    const writer = env.client();
    const cached = redis.db.with({ cache: true });
    for (let i = 0; i < 5000; i++) {
      const key = `cinv:${i % 1000}`;
      await cached.reply('GET', key);
      await cached.reply('GET', key); // a hit
      if (i % 2 === 0) await writer.db.reply('SET', key, i);
    }
    // Write every key once more, then one round trip: each invalidation has arrived (they travel with replies).
    await Promise.all(Array.from({ length: 1000 }, (_, i) => writer.db.reply('SET', `cinv:${i}`, 'last')));
    await redis.db.reply('PING');
    expect(cacheOf(redis)).toMatchObject({ entries: 0, bytes: 0 });
    for (let i = 0; i < 1000; i++) await cached.reply('GET', `cinv:${i}`);
    expect(cacheOf(redis).entries).toBe(1000);
    await writer.db.reply('FLUSHALL');
    await redis.db.reply('PING');
    expect(cacheOf(redis)).toMatchObject({ entries: 0, bytes: 0 });
    // Own writes drop entries before they are sent.
    for (let i = 0; i < 1000; i++) {
      await cached.reply('GET', `cown:${i}`);
      await redis.db.reply('SET', `cown:${i}`, i);
    }
    expect(cacheOf(redis).entries).toBe(0);
    expectIdle(redis);
  });

  it('reads in flight while their keys are written, 3,000 times: none is kept, every later read answers', async () => {
    const redis = env.client({ cache: { maxEntries: 1000 } });
    const writer = env.client();
    const cached = redis.db.with({ cache: true });
    for (let i = 0; i < 3000; i++) {
      const key = `cfly:${i % 10}`;
      const reads = [cached.reply('GET', key), cached.reply('GET', key)]; // one fill, two callers
      const write = writer.db.reply('SET', key, i);
      await Promise.all([...reads, write]);
    }
    await writer.db.reply('FLUSHALL');
    await redis.db.reply('PING');
    expect(cacheOf(redis).entries).toBe(0);
    for (let i = 0; i < 10; i++) expect(await cached.reply('GET', `cfly:${i}`)).toBeNull();
    expectIdle(redis);
  });
});

describe('reconnects', () => {
  it('30 CLIENT KILLs of the caching connection, with reads in flight: the cache is flushed each time and refills, nothing held', async () => {
    const redis = env.client({ cache: { maxEntries: 1000 }, reconnect: { baseDelay: 5, maxDelay: 20 } });
    redis.on('error', () => {});
    const admin = env.client();
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('PING'); // connected: a read issued before the first connection is answered, not kept
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 50; i++) await cached.reply('GET', `ckill:${i}`);
      expect(cacheOf(redis).entries).toBe(50);
      const id = await redis.db.reply('CLIENT', 'ID');
      const inFlight = Array.from({ length: 20 }, (_, i) => cached.reply('GET', `ckill:fly:${round}:${i}`).catch((e: unknown) => e));
      const ready = new Promise((r) => redis.once('ready', r));
      await admin.db.reply('CLIENT', 'KILL', 'ID', id);
      await ready;
      await Promise.all(inFlight);
      await redis.db.reply('PING');
      // Whatever was read through the old connection is gone; reads in flight across the cut were not kept.
      expect(cacheOf(redis).entries).toBe(0);
    }
    expect(redis.stats().reconnects).toBe(30);
    expectIdle(redis);
  });
});

describe('reads given up by their signals', () => {
  it('2,000 cached reads aborted while their fill is in flight, some sharing it: no listener, nothing pending, the keys read again', async () => {
    const redis = env.client({ cache: { maxEntries: 1000 } });
    const long = new AbortController();
    const db = redis.db.with({ cache: true, signal: long.signal });
    for (let i = 0; i < 1000; i++) {
      const ac = new AbortController();
      const key = `cabort:${i % 20}`;
      const mine = redis.db.with({ cache: true, signal: ac.signal }).reply('GET', key).catch((e: unknown) => e);
      const other = i % 2 === 0 ? db.reply('GET', key) : undefined; // joins the same fill (or a hit)
      ac.abort();
      const r = await mine;
      if (r !== null) expect(r).toMatchObject({ name: 'AbortError' });
      if (other) expect(await other).toBeNull();
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    }
    expect(getEventListeners(long.signal, 'abort')).toHaveLength(0);
    for (let i = 0; i < 20; i++) expect(await db.reply('GET', `cabort:${i}`)).toBeNull();
    expect(cacheOf(redis).entries).toBeLessThanOrEqual(20);
    expectIdle(redis);
  });
});
