/**
 * A write this client sends drops its keys' cached entries before it is
 * written, because the server's invalidation for its own write comes only
 * after the write's reply (README "Client-side caching"). That holds while
 * the write runs before any read sent after it. A write the server refused
 * before running it (BUSY: a slow script of another client; LOADING) is sent
 * again after its retry policy's backoff (connection/retry-later.ts), put at
 * the front of the queue, and a cached read refused alongside it with a
 * shorter backoff (the view's own policy) is sent again first: it reads the
 * value from before the write, is kept, and is served after `await` of the
 * write, until the invalidation arrives. So a read answered while a write
 * of this client's to one of its keys is unanswered is not kept. A proxy
 * holds the invalidation back (support/push-holding-proxy.ts), as a TCP
 * segment boundary can. Reads after an answered write are kept as before.
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

describe('a cached read and a write both refused with BUSY', () => {
  it('the read resent first is not kept: once the write is acknowledged, the next cached read sees it', async () => {
    const proxy = await PushHoldingProxy.start(env.server.port);
    proxies.push(proxy);
    const admin = env.client();
    const redis = env.track(new Redis(proxy.url, { cache: {}, retry: RetryPolicy.exponential({ attempts: 1000, baseDelay: 5, maxDelay: 5, jitter: false }) }));
    const cached = redis.db.with({ cache: true });
    const patient = redis.db.with({ retry: RetryPolicy.exponential({ attempts: 5, baseDelay: 1500, maxDelay: 1500, jitter: false }) });
    await admin.db.reply('SET', 'crw:k', 'old');
    expect(await cached.reply('GET', 'crw:k')).toBe('old'); // kept, and tracked
    const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
    const busy = env.client();
    try {
      // Another client's script keeps the server busy for 600 ms of its own clock.
      const slow = busy.db.reply('EVAL', 'local t = redis.call("TIME") local s = t[1] * 1e6 + t[2] while true do local n = redis.call("TIME") if n[1] * 1e6 + n[2] - s > 600000 then break end end return 1', 0);
      const probe = env.client({ retry: RetryPolicy.none() });
      await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
      proxy.holding = true;
      const write = patient.reply('SET', 'crw:k', 'new'); // BUSY: sent again in 1.5 s
      const read = cached.reply('GET', 'crw:k'); // BUSY: sent again every 5 ms, so before the write
      expect(await slow).toBe(1);
      expect(await read).toBe('old'); // ran before the write: its answer is right for its time
      expect(await write).toBe('OK');
      expect(await cached.reply('GET', 'crw:k')).toBe('new'); // the write is acknowledged: never the old value
    } finally {
      proxy.release();
      await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
    }
  });

  it("a read after this client's answered write is kept as before (plain, pipelined, MULTI)", async () => {
    const redis = env.client({ cache: {} });
    const cached = redis.db.with({ cache: true });
    const hits = () => redis.stats().cache!.hits;
    await redis.db.reply('SET', 'crw:a', '1');
    expect(await cached.reply('GET', 'crw:a')).toBe('1');
    expect(await cached.reply('GET', 'crw:a')).toBe('1');
    expect(hits()).toBe(1);
    redis.db.command('SET', 'crw:b', '2'); // pipelined: answered before the read behind it
    expect(await cached.reply('GET', 'crw:b')).toBe('2');
    expect(await cached.reply('GET', 'crw:b')).toBe('2');
    expect(hits()).toBe(2);
    await redis.db.multi((tx) => tx.command('SET', 'crw:c', '3'));
    expect(await cached.reply('GET', 'crw:c')).toBe('3');
    expect(await cached.reply('GET', 'crw:c')).toBe('3');
    expect(hits()).toBe(3);
    await redis.db.reply('FLUSHDB');
    expect(await cached.reply('GET', 'crw:c')).toBe(null);
    expect(await cached.reply('GET', 'crw:c')).toBe(null);
    expect(hits()).toBe(4);
  });
});
