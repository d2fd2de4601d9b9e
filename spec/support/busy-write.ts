/**
 * A write refused with BUSY while this client's cached reads go on: the stage
 * of the cache specs on writes sent again behind later reads. A client with a
 * cache talks to the server through a proxy that can hold back the server's
 * invalidation pushes (as a TCP segment boundary can); another client's Lua
 * script keeps the server busy (busy-reply-threshold lowered to 20 ms) for
 * `busyMs` of the server's clock; `patient` resends a refused command after
 * 1.5 s, the client's default policy every 5 ms.
 */
import { expect } from 'vitest';
import { Redis, RetryPolicy, type Database } from '../../lib/index.js';
import { PushHoldingProxy } from './push-holding-proxy.js';
import type { RealServer } from './real-server.js';
import { until } from './until.js';

export interface BusyStage {
  admin: Redis;
  /** The caching client, through the proxy. */
  redis: Redis;
  cached: Database;
  /** Resends a refused command after 1.5 s. */
  patient: Database;
  /** The busy script's reply: 1 once the server is free again. */
  slow: Promise<unknown>;
}

/**
 * `key` is set to 'old' and cached first; `body` runs while the server answers BUSY, with the
 * proxy holding invalidations back; the proxy lets them go and the threshold is restored after.
 */
export async function whileBusy(env: RealServer, key: string, busyMs: number, body: (stage: BusyStage) => Promise<void>): Promise<void> {
  const proxy = await PushHoldingProxy.start(env.server.port);
  const admin = env.client();
  const redis = env.track(new Redis(proxy.url, { cache: {}, retry: RetryPolicy.exponential({ attempts: 1000, baseDelay: 5, maxDelay: 5, jitter: false }) }));
  const cached = redis.db.with({ cache: true });
  const patient = redis.db.with({ retry: RetryPolicy.exponential({ attempts: 5, baseDelay: 1500, maxDelay: 1500, jitter: false }) });
  await admin.db.reply('SET', key, 'old');
  expect(await cached.reply('GET', key)).toBe('old'); // kept, and tracked
  const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
  await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
  try {
    // Another client's script keeps the server busy for `busyMs` of its own clock.
    const script = `local t = redis.call("TIME") local s = t[1] * 1e6 + t[2] while true do local n = redis.call("TIME") if n[1] * 1e6 + n[2] - s > ${busyMs * 1000} then break end end return 1`;
    const slow = env.client().db.reply('EVAL', script, 0);
    const probe = env.client({ retry: RetryPolicy.none() });
    await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
    proxy.holding = true;
    await body({ admin, redis, cached, patient, slow });
  } finally {
    proxy.release();
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
    await proxy.close();
  }
}
