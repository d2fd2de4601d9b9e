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
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, RetryPolicy } from '../lib/index.js';
import { PushHoldingProxy } from './support/push-holding-proxy.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

const proxies: PushHoldingProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});

describe('two writes of one key, the first refused with BUSY and sent again after the second was answered', () => {
  it('a read answered between them is not kept: once the first write is acknowledged, the next cached read sees it', async () => {
    const proxy = await PushHoldingProxy.start(env.server.port);
    proxies.push(proxy);
    const admin = env.client();
    const redis = env.track(new Redis(proxy.url, { cache: {}, retry: RetryPolicy.exponential({ attempts: 1000, baseDelay: 5, maxDelay: 5, jitter: false }) }));
    const cached = redis.db.with({ cache: true });
    const patient = redis.db.with({ retry: RetryPolicy.exponential({ attempts: 5, baseDelay: 1500, maxDelay: 1500, jitter: false }) });
    await admin.db.reply('SET', 'r7tw:k', 'old');
    expect(await cached.reply('GET', 'r7tw:k')).toBe('old'); // kept, and tracked
    const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
    const busy = env.client();
    try {
      const slow = busy.db.reply('EVAL', 'local t = redis.call("TIME") local s = t[1] * 1e6 + t[2] while true do local n = redis.call("TIME") if n[1] * 1e6 + n[2] - s > 300000 then break end end return 1', 0);
      const probe = env.client({ retry: RetryPolicy.none() });
      await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
      proxy.holding = true;
      const first = patient.reply('SET', 'r7tw:k', 'first'); // BUSY: sent again in 1.5 s
      expect(await slow).toBe(1);
      expect(await redis.db.reply('SET', 'r7tw:k', 'second')).toBe('OK'); // answered while the first waits
      expect(await cached.reply('GET', 'r7tw:k')).toBe('second'); // right for its time; the first write is unanswered
      expect(await first).toBe('OK');
      expect(await admin.db.reply('GET', 'r7tw:k')).toBe('first');
      expect(await cached.reply('GET', 'r7tw:k')).toBe('first'); // the first write is acknowledged: never what preceded it
    } finally {
      proxy.release();
      await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
    }
  });
});
