/**
 * No timer outlives a closed client (DESIGN safety rule 5: memory stays
 * bounded), against a real redis-server and a real Redis Cluster (3
 * masters): 100 clients each with every feature that arms a timer of its own
 * (health PINGs, the pool's idle checks, re-authentication of expiring
 * credentials, per-call deadlines, subscribe deadlines, the cache's ttl,
 * endpoint failover's health checks, the cluster's periodic refresh), used
 * and then closed or disconnected.
 *
 * process.getActiveResourcesInfo() does not list unref'd timers, and the
 * library unrefs all of its own: a forgotten setInterval would keep firing,
 * and keep its client reachable, for the life of the process without
 * showing there. So this file records, test-only, every timer set through
 * the global setTimeout / setInterval while a client lives (a spy, restored
 * after each test) and checks that none is still pending once every client is
 * closed: each interval was cleared, each timeout fired or was cleared (a
 * short wait for the last turns of close, bounded). Counts only: no heap
 * sizes, no timing assertions.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis, type RedisOptions } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const { cluster } = useCluster({}, { start: { masters: 3, replicasPerMaster: 0 } });

const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number) => new Promise<void>((r) => realSetTimeout(r, ms));

// A blocking command's timeout is checked at the server's hz: 10 a second by default, 100 ms per short BLPOP.
beforeAll(async () => {
  const admin = new Redis(env.server.url);
  await admin.db.reply('CONFIG', 'SET', 'hz', '500');
  await admin.close();
});

/** Timers set through the globals since `track()`, still pending: what each was set with, for the failure message. */
interface Tracker {
  pending(): { kind: 'timeout' | 'interval'; ms: number; stack: string }[];
}

function track(): Tracker {
  const live = new Map<unknown, { kind: 'timeout' | 'interval'; ms: number; stack: string }>();
  const realSetInterval = globalThis.setInterval;
  const realClearTimeout = globalThis.clearTimeout;
  const realClearInterval = globalThis.clearInterval;
  const where = () => (new Error().stack ?? '').split('\n').slice(3, 7).join(' | ');
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetTimeout(
      (...a: unknown[]) => {
        live.delete(timer);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.set(timer, { kind: 'timeout', ms: ms ?? 0, stack: where() });
    return timer;
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetInterval(fn, ms, ...args);
    live.set(timer, { kind: 'interval', ms: ms ?? 0, stack: where() });
    return timer;
  }) as typeof setInterval);
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((t?: NodeJS.Timeout | string | number) => {
    live.delete(t);
    realClearTimeout(t);
  }) as typeof clearTimeout);
  vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t?: NodeJS.Timeout | string | number) => {
    live.delete(t);
    realClearInterval(t);
  }) as typeof clearInterval);
  return { pending: () => [...live.values()] };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Pending timers once the closes' last turns ran: waits while some are left, at most 2 s, then returns them. */
async function leftover(t: Tracker): Promise<ReturnType<Tracker['pending']>> {
  for (let i = 0; i < 400 && t.pending().length > 0; i++) await sleep(5);
  return t.pending();
}

/** Credentials that expire in 60 s: re-authentication is armed on every connection. */
const expiring = () => ({ password: '', username: 'default', expiresAt: Date.now() + 60_000 });

describe('timers of closed clients', () => {
  it('100 standalone clients with health PINGs, pool idle checks, re-auth, deadlines, a subscriber and a cache: none left after close / disconnect', async () => {
    const t = track();
    let armed = 0;
    for (let i = 0; i < 100; i++) {
      const opts: RedisOptions = {
        pingInterval: 200,
        commandTimeout: 5000,
        blockingPool: { size: 2 },
        credentials: expiring,
        cache: { maxEntries: 100, ttl: 60_000 },
      };
      const redis = new Redis(env.server.url, opts);
      redis.on('error', () => {});
      redis.on('commandError', () => {});
      await redis.db.with({ timeout: 3000 }).reply('SET', `tm:${i % 5}`, i);
      await redis.db.with({ cache: true }).reply('GET', `tm:${i % 5}`);
      expect(await redis.db.reply('BLPOP', 'tm:never', 0.01)).toBeNull();
      await redis.db.watch(['tm:w'], (conn) => conn.multi((tx) => tx.command('INCR', 'tm:w')));
      const sub = redis.subscriber({ timeout: 4000 });
      await sub.subscribe(`tm:ch:${i}`);
      if (i === 0) armed = t.pending().length;
      const inFlight = redis.db.with({ timeout: 2000 }).reply('PING').catch(() => {});
      if (i % 2 === 0) await redis.close();
      else redis.disconnect();
      await inFlight;
    }
    expect(armed).toBeGreaterThan(0); // the tracker sees the library's timers
    expect(await leftover(t)).toEqual([]);
  });

  it('100 clients with endpoint failover (health checks per endpoint): none left after close', async () => {
    const t = track();
    for (let i = 0; i < 100; i++) {
      const redis = new Redis({ endpoints: [env.server.url, env.server.url], failover: { healthCheckInterval: 50 } });
      redis.on('error', () => {});
      await redis.db.reply('PING');
      await redis.close();
    }
    expect(await leftover(t)).toEqual([]);
  });

  it('50 cluster clients with a periodic refresh, health PINGs and deadlines: none left after close / disconnect', async () => {
    const t = track();
    let armed = 0;
    for (let i = 0; i < 50; i++) {
      const redis = new Redis({ nodes: [...cluster.urls], cluster: { refreshInterval: 100 }, pingInterval: 200, commandTimeout: 5000 });
      redis.on('error', () => {});
      redis.on('commandError', () => {});
      await redis.db.reply('MGET', 'tc:a', 'tc:b', 'tc:c');
      await redis.db.reply('DBSIZE');
      const sub = redis.subscriber();
      await sub.ssubscribe(`tc:{${i}}`);
      if (i === 0) armed = t.pending().length;
      if (i % 2 === 0) await redis.close();
      else redis.disconnect();
    }
    expect(armed).toBeGreaterThan(0);
    expect(await leftover(t)).toEqual([]);
  });
});
