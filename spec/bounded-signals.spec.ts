/**
 * Memory stays bounded (DESIGN safety rule 5) for AbortSignal views on a
 * long-running client, against a real redis-server: thousands of commands on
 * one long-lived signal, signals that fire after their commands settled,
 * AbortSignal.timeout, and blocking commands through the pool given up by
 * their signals. After each pattern the client is back at its baseline:
 * no abort listener left on any signal (each would keep the client's watch,
 * its settled commands and the client alive), nothing pending or queued, no
 * lease beyond the pool's size, no failure reported for a settled command.
 * Counts only: no heap sizes, no timings.
 */
import { getEventListeners } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { AbortError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { expectIdle } from './support/bounded.js';
import { until } from './support/until.js';

const env = useRealServer();
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;
const turn = () => new Promise((r) => setImmediate(r));

// A blocking command's timeout is checked at the server's hz: 10 a second by default, 100 ms per short BLPOP.
beforeAll(async () => {
  const admin = new Redis(env.server.url);
  await admin.db.reply('CONFIG', 'SET', 'hz', '500');
  await admin.close();
});

/** What a leak would grow: requests waiting for replies or to be written, side connections. */
describe('one long-lived signal that never fires', () => {
  it('5,000 commands one after another and 20 batches of 500: no listener once each settled, none reported', async () => {
    const redis = env.client();
    const errors: unknown[] = [];
    redis.on('commandError', (e) => errors.push(e));
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    for (let i = 0; i < 5000; i++) {
      await db.reply('SET', `sig:one:${i % 50}`, i);
      if (i % 1000 === 0) expect(listeners(ac.signal)).toBe(0);
    }
    for (let b = 0; b < 20; b++) {
      const batch = Array.from({ length: 500 }, (_, i) => db.reply('INCR', `sig:batch:${i % 10}`));
      expect(listeners(ac.signal)).toBe(1); // one per client, not one per command
      db.command('PING'); // fire-and-forget ones too
      await Promise.all(batch);
      await redis.db.reply('PING');
      expect(listeners(ac.signal)).toBe(0);
    }
    expectIdle(redis, 8);
    expect(errors).toEqual([]);
    expect(redis.stats().commandErrors).toBe(0);
  });

  it('3,000 views made on it (a view per request, as a web handler does): no listener, nothing held', async () => {
    const redis = env.client();
    const ac = new AbortController();
    for (let i = 0; i < 3000; i++) {
      const view = redis.db.with({ signal: ac.signal, timeout: 5000 });
      await view.reply('GET', `sig:view:${i % 7}`);
    }
    expect(listeners(ac.signal)).toBe(0);
    expectIdle(redis, 8);
  });
});

describe('signals that fire after their commands settled', () => {
  it('2,000 controllers, each aborted after its reply: no rejection, no report, no listener', async () => {
    const redis = env.client();
    const errors: unknown[] = [];
    redis.on('commandError', (e) => errors.push(e));
    const signals: AbortSignal[] = [];
    for (let i = 0; i < 2000; i++) {
      const ac = new AbortController();
      const db = redis.db.with({ signal: ac.signal });
      const p = db.reply('SET', 'sig:after', i);
      db.command('GET', 'sig:after'); // unobserved: must not be reported as aborted once it settled
      expect(await p).toBe('OK');
      await db.reply('PING');
      ac.abort();
      if (i % 100 === 0) signals.push(ac.signal);
    }
    await redis.db.reply('PING');
    await turn();
    for (const s of signals) expect(listeners(s)).toBe(0);
    expect(errors).toEqual([]);
    expect(redis.stats().commandErrors).toBe(0);
    expectIdle(redis, 8);
  });

  it('AbortSignal.timeout that never fires: 2,000 commands, no listener left on any of the signals', async () => {
    const redis = env.client();
    const kept: AbortSignal[] = [];
    for (let i = 0; i < 2000; i++) {
      const signal = AbortSignal.timeout(60_000);
      await redis.db.with({ signal }).reply('GET', 'sig:timeout');
      if (i % 50 === 0) kept.push(signal);
    }
    for (const s of kept) expect(listeners(s)).toBe(0);
    expectIdle(redis, 8);
  });

  it('AbortSignal.timeout(0) (already fired): 2,000 commands refused unsent, nothing held', async () => {
    const redis = env.client();
    const signal = AbortSignal.timeout(0);
    await new Promise((r) => setTimeout(r, 5));
    expect(signal.aborted).toBe(true);
    for (let i = 0; i < 2000; i++) {
      const err = await redis.db.with({ signal }).reply('GET', 'sig:fired').catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AbortError', sent: false });
    }
    expect(listeners(signal)).toBe(0);
    expect(await redis.db.reply('PING')).toBe('PONG');
    expectIdle(redis, 8);
  });
});

describe('blocking commands through the pool, with signals', () => {
  it('300 short BLPOPs on one long-lived signal, and 300 given up mid-block: leases and listeners back to baseline', async () => {
    const size = 3;
    const redis = env.client({ blockingPool: { size } });
    const orphans: unknown[] = [];
    redis.on('orphanedReply', (v) => orphans.push(v));
    const long = new AbortController();
    const db = redis.db.with({ signal: long.signal });
    await redis.db.reply('DEL', 'sig:jobs');
    for (let i = 0; i < 100; i++) {
      // Three at a time: as many as the pool has, then one waiting for a lease.
      const all = [db.reply('BLPOP', 'sig:jobs', 0.01), db.reply('BLPOP', 'sig:jobs', 0.01), db.reply('BLPOP', 'sig:jobs', 0.01)];
      if (i % 2 === 0) await redis.db.reply('RPUSH', 'sig:jobs', `job${i}`);
      const got = await Promise.all(all);
      expect(got.filter((g) => g !== null).length).toBeLessThanOrEqual(1);
    }
    expect(listeners(long.signal)).toBe(0);
    for (let i = 0; i < 300; i++) {
      const ac = new AbortController();
      const blocked = redis.db.with({ signal: ac.signal }).reply('BLPOP', 'sig:never', 10).catch((e: unknown) => e);
      const queued = i % 3 === 0 ? redis.db.with({ signal: ac.signal }).reply('BLPOP', 'sig:never', 10).catch((e: unknown) => e) : undefined;
      if (i % 2 === 0) await turn(); // sometimes before the lease is there, sometimes after the write
      ac.abort();
      expect(await blocked).toBeInstanceOf(AbortError);
      if (queued) expect(await queued).toBeInstanceOf(AbortError);
      expect(listeners(ac.signal)).toBe(0);
    }
    // The abandoned BLPOPs are unblocked (CLIENT UNBLOCK) and their leases drained: the pool serves again.
    expect(await redis.db.reply('BLPOP', 'sig:never', 0.01)).toBeNull();
    expect(listeners(long.signal)).toBe(0);
    // The last drains may still be asking (CLIENT UNBLOCK answered 0 while their BLPOP was on its way: they ask again,
    // on the shared connection): once they are over, nothing is held (CI once saw one UNBLOCK still in flight here).
    await until('the last drains are over', () => redis.stats().pending === 0);
    expectIdle(redis, size);
    expect(orphans).toEqual([]);
  });

  it('AbortSignal.timeout on 100 BLPOPs that the server answers first: no listener, no timer left after close', async () => {
    const redis = new Redis(env.server.url, { blockingPool: { size: 2 } });
    const before = timers();
    const kept: AbortSignal[] = [];
    for (let i = 0; i < 100; i++) {
      const signal = AbortSignal.timeout(60_000);
      expect(await redis.db.with({ signal }).reply('BLPOP', 'sig:never2', 0.01)).toBeNull();
      if (i % 10 === 0) kept.push(signal);
    }
    for (const s of kept) expect(listeners(s)).toBe(0);
    expectIdle(redis, 2);
    await redis.close();
    await turn();
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

/** Timers the event loop keeps alive (AbortSignal.timeout's are unref'd: not listed). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
