/**
 * Review of 686bef5 ("a read answered while a write of one of its keys is
 * unanswered is answered, not kept"). The cache remembers one write per key,
 * the latest: a write refused with BUSY and sent again after its backoff
 * (W1), then a later write of the same key answered at once (W2) replaces
 * it. A cached read answered between W2's answer and W1's resend finds W2
 * answered and is kept, although W1 is unanswered and runs after it: once W1
 * is acknowledged, the cache serves the value from before it, until the
 * server's invalidation arrives (a proxy holds it back, as a TCP segment
 * boundary can).
 */
import { describe, expect, it } from 'vitest';
import { whileBusy } from './support/busy-write.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('two writes of one key, the first refused with BUSY and sent again after the second was answered', () => {
  it('a read answered between them is not kept: once the first write is acknowledged, the next cached read sees it', async () => {
    await whileBusy(env, 'r7tw:k', 300, async ({ admin, redis, cached, patient, slow }) => {
      const first = patient.reply('SET', 'r7tw:k', 'first'); // BUSY: sent again in 1.5 s
      expect(await slow).toBe(1);
      expect(await redis.db.reply('SET', 'r7tw:k', 'second')).toBe('OK'); // answered while the first waits
      expect(await cached.reply('GET', 'r7tw:k')).toBe('second'); // right for its time; the first write is unanswered
      expect(await first).toBe('OK');
      expect(await admin.db.reply('GET', 'r7tw:k')).toBe('first');
      expect(await cached.reply('GET', 'r7tw:k')).toBe('first'); // the first write is acknowledged: never what preceded it
    });
  });
});
