/**
 * A caching client that connects while the server is busy with another
 * client's script: HELLO is allowed then, CLIENT TRACKING is answered BUSY.
 * BUSY (like LOADING) refuses before running anything, so that step is
 * asked again once the server is free (the connection opens meanwhile,
 * untracked: SCRIPT KILL must get through, cache-busy-script-kill), and never
 * taken for a refusal of tracking, which would leave the cache passing reads
 * through for the whole life of the connection.
 */
import { describe, expect, it } from 'vitest';
import { Redis, RetryPolicy, type ReadyInfo } from '../lib/index.js';
import { whileBusy } from './support/busy-write.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('a caching client connecting while the server runs a slow script', () => {
  it('turns tracking on once the script ends: reads are cached again and invalidations arrive', async () => {
    await whileBusy(env, 'ctb:k', 600, async ({ admin, slow }) => {
      const redis = env.track(
        new Redis(env.server.url, {
          cache: {},
          reconnect: { baseDelay: 20, maxDelay: 40 },
          retry: RetryPolicy.exponential({ attempts: 1000, baseDelay: 5, maxDelay: 5, jitter: false }),
        }),
      );
      const readies: ReadyInfo[] = [];
      redis.on('ready', (info) => readies.push(info));
      redis.on('error', () => {});
      const cached = redis.db.with({ cache: true });
      const first = cached.reply('GET', 'ctb:k'); // its handshake meets the busy server
      expect(await slow).toBe(1);
      expect(await first).toBe('old');
      expect(readies.length).toBeGreaterThan(0);
      // Ready while the server was busy (untracked: reads passed through), asked again once it was free.
      await until('tracking is on: a read is served locally', async () => {
        expect(await cached.reply('GET', 'ctb:k')).toBe('old');
        return redis.stats().cache!.hits > 0;
      });
      await admin.db.reply('SET', 'ctb:k', 'new');
      await until('the invalidation arrived', async () => (await cached.reply('GET', 'ctb:k')) === 'new');
      expect(await cached.reply('GET', 'ctb:k')).toBe('new');
      expect(redis.stats().cache!.invalidations).toBeGreaterThan(0);
    });
  });
});
