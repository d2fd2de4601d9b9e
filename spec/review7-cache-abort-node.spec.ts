/**
 * Review of ff5a0b2 ("AbortError { sent: true } names the node the command
 * was written to ... as every error that says a command may have run
 * does"). A cached read that waits for an identical read in flight (the
 * cache's fill) and whose signal fires once that fill was written is
 * released by the cache itself (client-cache.ts #abandon) with an AbortError
 * { sent: true } that names no node.
 */
import { describe, expect, it } from 'vitest';
import { AbortError } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('a cached read waiting for an identical read in flight, aborted after it was written', () => {
  it('its AbortError { sent: true } names the node', async () => {
    const redis = env.client({ cache: {} });
    const admin = env.client();
    const controller = new AbortController();
    const cached = redis.db.with({ cache: true });
    const waiting = redis.db.with({ cache: true, signal: controller.signal });
    await admin.db.reply('SET', 'r7ab:k', 'v');
    await redis.db.reply('PING'); // the connection is up
    await admin.db.reply('CLIENT', 'PAUSE', '1000', 'ALL'); // written, not answered
    try {
      const first = outcome(cached.reply('GET', 'r7ab:k'));
      const second = outcome(waiting.reply('GET', 'r7ab:k')); // waits for the first one's read
      await until('the read is written', () => redis.stats().pending > 0);
      controller.abort();
      const err = await second;
      expect(err).toBeInstanceOf(AbortError);
      expect(err).toMatchObject({ sent: true, command: 'GET', node: `127.0.0.1:${env.server.port}` });
      await admin.db.reply('CLIENT', 'UNPAUSE');
      expect(await first).toBe('v');
    } finally {
      await admin.db.reply('CLIENT', 'UNPAUSE');
    }
  });
});
