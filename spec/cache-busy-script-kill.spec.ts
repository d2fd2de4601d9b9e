/**
 * A runaway script: the one way out is SCRIPT KILL, which a server busy with a
 * script still runs (its allowed commands). A caching client whose connection
 * opens while the script runs (created then, or reconnecting after a network
 * blip) must still be able to send it: its handshake's CLIENT TRACKING is
 * answered BUSY, and the connection must not wait for the script to end before
 * it carries anything, or SCRIPT KILL waits for the end it was meant to bring.
 * Tracking is turned on once the server is free again (cache-tracking-busy).
 */
import { describe, expect, it } from 'vitest';
import { Redis, RetryPolicy } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('a caching client opened during a runaway script', () => {
  it('sends SCRIPT KILL, and caches once the script is gone', async () => {
    const admin = env.client();
    const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
    await admin.db.reply('SET', 'cbsk:k', 'v');
    const runaway = env.client().db.reply('EVAL', 'while true do end', 0).then(
      () => 'returned',
      (e: Error) => e.message,
    );
    try {
      const probe = env.client({ retry: RetryPolicy.none() });
      await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
      const redis = env.client({ cache: {}, reconnect: { baseDelay: 20, maxDelay: 40 } });
      redis.on('error', () => {});
      // Bounded: before, the handshake failed BUSY at every attempt for as long as the script ran (for ever here).
      expect(await redis.db.with({ timeout: 5000 }).reply('SCRIPT', 'KILL')).toBe('OK');
      expect(await runaway).toMatch(/killed/i);
      const cached = redis.db.with({ cache: true });
      await until('tracking is on again', async () => {
        await cached.reply('GET', 'cbsk:k');
        return redis.stats().cache!.hits > 0;
      });
      await admin.db.reply('SET', 'cbsk:k', 'w');
      await until('the invalidation arrived', async () => (await cached.reply('GET', 'cbsk:k')) === 'w');
    } finally {
      await admin.db.reply('SCRIPT', 'KILL').catch(() => undefined);
      await runaway;
      await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
    }
  });
});
