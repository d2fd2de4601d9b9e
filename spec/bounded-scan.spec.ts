/**
 * Memory stays bounded (DESIGN safety rule 5) when SCAN-family iterations are
 * abandoned mid-way on a long-running client, against a real redis-server:
 * thousands of db.scan / hscan / sscan / zscan iterations left by break,
 * throw, return() and .pages(), also on a long-lived signal view and while
 * their signals fire. Afterwards nothing is pending or queued, no abort
 * listener is left on the signal (a page command that never told its watch
 * it settled would keep it, and the client, alive), and a fresh iteration
 * still yields every key once. Counts only: no heap sizes, no timings.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { expectIdle } from './support/bounded.js';

const env = useRealServer();
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

async function fill(redis: Redis): Promise<void> {
  const db = redis.db;
  await Promise.all(Array.from({ length: 500 }, (_, i) => db.reply('SET', `bscan:${i}`, i)));
  await db.reply('HSET', 'bscan:h', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, i]).flat());
  await db.reply('SADD', 'bscan:s', ...Array.from({ length: 300 }, (_, i) => `m${i}`));
  await db.reply('ZADD', 'bscan:z', ...Array.from({ length: 300 }, (_, i) => [i, `m${i}`]).flat());
}

describe('SCAN iterations abandoned mid-way', () => {
  it('4,000 iterations of the four kinds left by break, throw and return(), on a long-lived signal view: nothing held', async () => {
    const redis = env.client();
    await fill(redis);
    const ac = new AbortController();
    const views = [redis.db, redis.db.with({ signal: ac.signal })];
    for (let i = 0; i < 1000; i++) {
      const db = views[i % 2]!;
      const stopAt = 1 + (i % 37);
      const iterations = [
        db.scan({ match: 'bscan:*', count: 20 }),
        db.hscan('bscan:h', { count: 20 }),
        db.sscan('bscan:s', { count: 20, dedupe: true }),
        db.zscan('bscan:z', { count: 20 }),
      ];
      for (const [k, it] of iterations.entries()) {
        let n = 0;
        try {
          if (k === 2 && i % 3 === 0) {
            const iter = it[Symbol.asyncIterator]();
            await iter.next();
            await iter.return!(); // closed by hand, as a consumer that stops pulling should
            continue;
          }
          for await (const item of it as AsyncIterable<unknown>) {
            expect(item).toBeDefined();
            if (++n === stopAt) {
              if (i % 2 === 0) break;
              throw new Error('consumer failed');
            }
          }
        } catch (err) {
          expect((err as Error).message).toBe('consumer failed');
        }
      }
    }
    await redis.db.reply('PING');
    expect(listeners(ac.signal)).toBe(0);
    expectIdle(redis);
    // A fresh iteration still yields every key once.
    const seen = new Set<string>();
    for await (const key of redis.db.scan({ match: 'bscan:*', count: 50 })) {
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    expect(seen.size).toBe(503);
  });

  it('1,000 page iterations (.pages()) left after one page, and 500 scans whose signal fires mid-way: nothing held', async () => {
    const redis = env.client();
    await fill(redis);
    const long = new AbortController();
    for (let i = 0; i < 1000; i++) {
      for await (const page of redis.db.with({ signal: long.signal }).scan({ count: 10 }).pages()) {
        expect(page.length).toBeGreaterThan(0);
        break;
      }
    }
    for (let i = 0; i < 500; i++) {
      const ac = new AbortController();
      let n = 0;
      const walked = (async () => {
        for await (const _ of redis.db.with({ signal: ac.signal }).scan({ count: 5 })) {
          if (++n === 3) ac.abort(); // the next page is refused (or given up in flight)
        }
      })().catch((e: unknown) => e);
      const r = await walked;
      expect(r).toMatchObject({ name: 'AbortError' });
      expect(listeners(ac.signal)).toBe(0);
    }
    await redis.db.reply('PING');
    expect(listeners(long.signal)).toBe(0);
    expectIdle(redis);
  });
});
