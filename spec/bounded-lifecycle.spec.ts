/**
 * Memory stays bounded (DESIGN safety rule 5) across a service's client
 * life cycles, against a real redis-server: `new Redis(...)` then close()
 * (or disconnect()), 200 times, with each feature that opens something of
 * its own used once (pub/sub, the blocking pool, WATCH, the cache, a signal
 * view). Afterwards nothing is left behind: no timer or socket in
 * `process.getActiveResourcesInfo()` beyond the baseline, no listener added
 * to `process` for any event (a library that hooks 'exit' or 'warning' per
 * client grows without end), no abort listener on a signal shared by every
 * client. Counts only: no heap sizes, no timings.
 */
import dc from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();
const turn = () => new Promise((r) => setImmediate(r));

// A blocking command's timeout is checked at the server's hz: 10 a second by default, 100 ms per short BLPOP.
beforeAll(async () => {
  const admin = new Redis(env.server.url);
  await admin.db.reply('CONFIG', 'SET', 'hz', '500');
  await admin.close();
});

/** Active handles and requests by kind ('Timeout', 'TCPSocketWrap', 'PipeWrap', ...). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Listeners on `process`, by event. */
function processListeners(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of process.eventNames()) out[String(e)] = process.listenerCount(e);
  return out;
}

/** Until the sockets closed by close()/disconnect() have left the event loop. */
async function settledTo(baseline: Record<string, number>): Promise<Record<string, number>> {
  let now = resources();
  for (let i = 0; i < 200 && !within(now, baseline); i++) {
    await new Promise((r) => setTimeout(r, 5));
    now = resources();
  }
  return now;
}

function within(now: Record<string, number>, baseline: Record<string, number>): boolean {
  return Object.entries(now).every(([k, n]) => n <= (baseline[k] ?? 0));
}

/**
 * Connections open as `redmux:ready` / `redmux:connection-lost` /
 * `redmux:close` tell them (what an exporter counts, as lib/otel.ts does): a
 * connection that ends without telling stays in such a set for good.
 */
function openConnections(): { readonly size: number; readonly seen: number; stop(): void } {
  const open = new Set<number>();
  let seen = 0;
  const onReady = (m: unknown) => {
    seen++;
    open.add((m as { connection: number }).connection);
  };
  const onGone = (m: unknown) => open.delete((m as { connection: number }).connection);
  dc.subscribe('redmux:ready', onReady);
  dc.subscribe('redmux:connection-lost', onGone);
  dc.subscribe('redmux:close', onGone);
  return {
    get size() {
      return open.size;
    },
    get seen() {
      return seen;
    },
    stop() {
      dc.unsubscribe('redmux:ready', onReady);
      dc.unsubscribe('redmux:connection-lost', onGone);
      dc.unsubscribe('redmux:close', onGone);
    },
  };
}

describe('connect / close cycles', () => {
  it('200 clients each used and closed: no timer, socket or process listener left', async () => {
    const shared = new AbortController();
    await turn();
    const before = resources();
    const listenersBefore = processListeners();
    const open = openConnections();
    for (let i = 0; i < 200; i++) {
      const redis = new Redis(env.server.url, { blockingPool: { size: 2 } });
      await redis.db.reply('SET', `life:${i % 10}`, i);
      await redis.db.with({ signal: shared.signal, timeout: 5000 }).reply('GET', `life:${i % 10}`);
      if (i % 4 === 0) expect(await redis.db.reply('BLPOP', 'life:never', 0.01)).toBeNull();
      if (i % 4 === 1) await redis.db.watch([`life:${i % 10}`], (conn) => conn.multi((tx) => tx.command('INCR', `life:${i % 10}`)));
      if (i % 4 === 2) {
        const sub = redis.subscriber();
        await sub.subscribe('life:ch');
        await sub.psubscribe('life:*');
      }
      // A command in flight while closing settles first (graceful).
      const last = redis.db.reply('PING');
      await redis.close();
      expect(await last).toBe('PONG');
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(open.seen).toBeGreaterThan(300); // shared connections, leases, pub/sub connections
    expect(open.size).toBe(0); // every connection that was ready said it ended
    open.stop();
    expect(processListeners()).toEqual(listenersBefore);
    expect(await settledTo(before)).toSatisfy((now: Record<string, number>) => within(now, before));
  });

  it('200 caching clients closed, and 200 clients disconnected mid-command: nothing left', async () => {
    await turn();
    const before = resources();
    const listenersBefore = processListeners();
    const open = openConnections();
    for (let i = 0; i < 200; i++) {
      const redis = new Redis(env.server.url, { cache: { maxEntries: 100 } });
      const cached = redis.db.with({ cache: true });
      await cached.reply('GET', 'life:cached');
      await cached.reply('GET', 'life:cached');
      await redis.close();
    }
    for (let i = 0; i < 200; i++) {
      const redis = new Redis(env.server.url, { blockingPool: { size: 1 } });
      redis.on('commandError', () => {});
      await redis.db.reply('PING');
      const pending = [redis.db.reply('GET', 'life:x').catch(() => {}), redis.db.reply('BLPOP', 'life:never', 5).catch(() => {})];
      if (i % 2 === 0) await turn();
      redis.disconnect();
      await Promise.all(pending);
    }
    expect(open.seen).toBeGreaterThanOrEqual(400);
    expect(open.size).toBe(0);
    open.stop();
    expect(processListeners()).toEqual(listenersBefore);
    expect(await settledTo(before)).toSatisfy((now: Record<string, number>) => within(now, before));
  });

  it('200 clients that never connected (closed before the first command was answered): nothing left', async () => {
    await turn();
    const before = resources();
    for (let i = 0; i < 200; i++) {
      const redis = new Redis(env.server.url);
      const p = redis.db.reply('PING').catch((e: unknown) => e);
      if (i % 2 === 0) redis.disconnect();
      else await redis.close();
      await p;
    }
    expect(await settledTo(before)).toSatisfy((now: Record<string, number>) => within(now, before));
  });
});
