/**
 * Safety rule 4: every deadline fires on time, whatever other deadlines are
 * pending. The link is stalled (no reply ever comes), so each command rejects
 * exactly when its own deadline passes; the bound checked here is generous for
 * a shared machine, but far below what a hidden or stale timer would give.
 */
import { describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, type RedisOptions } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until } from './support/until.js';

const env = useProxiedServer({ staleReplyGrace: 60_000 });

/** Lateness allowed past a deadline: ~20 ms plus a turn of the loop, with room for a busy shared machine. */
const LATE = 120;

async function stalled(opts: RedisOptions): Promise<Redis> {
  const { redis, proxy } = await env.through(opts);
  proxy.stall();
  return redis;
}

/** Milliseconds from now until `p` rejects with a ReplyTimeoutError. */
async function rejectsAfter(p: Promise<unknown>): Promise<number> {
  const started = Date.now();
  const err = await p.then(
    () => new Error('resolved'),
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(ReplyTimeoutError);
  return Date.now() - started;
}

describe('deadlines', () => {
  it('a later per-call deadline issued first does not hide an earlier default one', async () => {
    const redis = await stalled({ commandTimeout: 200 });
    await new Promise((r) => setTimeout(r, 250)); // no deadline pending: the long one arms the timer
    const long = redis.db.with({ timeout: 3000 }).reply('GET', 'a');
    long.catch(() => {});
    const elapsed = await rejectsAfter(redis.db.reply('GET', 'b'));
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + LATE);
  });

  it('per-call deadlines of different lengths, issued in any order, each fire on time', async () => {
    const redis = await stalled({ commandTimeout: 5000 });
    const timeouts = [700, 150, 400, 50, 900, 250, 600];
    const started = Date.now();
    const results = await Promise.all(
      timeouts.map(async (t) => {
        const err = await redis.db.with({ timeout: t }).reply('GET', `k${t}`).catch((e: Error) => e);
        expect(err).toBeInstanceOf(ReplyTimeoutError);
        return { t, at: Date.now() - started };
      }),
    );
    for (const { t, at } of results) {
      expect(at).toBeGreaterThanOrEqual(t - 5);
      expect(at).toBeLessThan(t + LATE);
    }
  });

  it('a default deadline counts from the call, even after a long synchronous turn', async () => {
    const redis = await stalled({ commandTimeout: 500 });
    for (const key of ['early1', 'early2']) redis.db.reply('GET', key).catch(() => {}); // a write is scheduled for this turn
    const spinUntil = Date.now() + 300;
    while (Date.now() < spinUntil); // the same turn of the event loop, 300 ms later
    const elapsed = await rejectsAfter(redis.db.reply('GET', 'late'));
    expect(elapsed).toBeGreaterThanOrEqual(495);
    expect(elapsed).toBeLessThan(500 + LATE);
  });

  it('the health PING deadline does not delay an earlier command deadline', async () => {
    const { redis, proxy } = await env.through({ pingInterval: 1000, commandTimeout: 100 });
    proxy.stall();
    // Silent for two intervals, the health check sends its PING (deadline 1 s): the only command, so the first bytes held.
    await until('the health PING is written: its bytes are held by the proxy', () => proxy.held > 0);
    const elapsed = await rejectsAfter(redis.db.reply('GET', 'k'));
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(100 + LATE);
  });

  it('queued commands (offline) expire on time too, mixed with per-call deadlines', async () => {
    const proxy = await env.proxy();
    const redis = env.track(new Redis(proxy.url, { commandTimeout: 300, reconnect: { baseDelay: 20, maxDelay: 20 }, connectTimeout: 200 }));
    redis.on('error', () => {});
    await redis.db.reply('PING');
    proxy.refuse(true);
    proxy.cutAll();
    await until('the client saw the loss: what is asked next waits offline', () => redis.stats().connectionLost > 0);
    const long = redis.db.with({ timeout: 2000 }).reply('GET', 'x');
    long.catch(() => {});
    const [a, b] = await Promise.all([rejectsAfter(redis.db.reply('GET', 'y')), rejectsAfter(redis.db.with({ timeout: 150 }).reply('GET', 'z'))]);
    expect(a).toBeGreaterThanOrEqual(295);
    expect(a).toBeLessThan(300 + LATE);
    expect(b).toBeGreaterThanOrEqual(145);
    expect(b).toBeLessThan(150 + LATE);
  });

  it('a command written, lost with its connection and timing out while it waits to be resent says sent: true', async () => {
    const { redis, proxy } = await env.through({ commandTimeout: 300 });
    proxy.stall(); // nothing comes back, and the reconnect's handshake never finishes
    const outcome = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const byDefault = outcome(redis.db.reply('GET', 'deadline:lost'));
    const perCall = outcome(redis.db.with({ timeout: 400 }).reply('GET', 'deadline:lost'));
    await until('the GETs are written: their bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll(); // reads: queued to be sent again on the next connection
    // They may have run before the loss: never "it was never sent".
    expect(await byDefault).toMatchObject({ name: 'ReplyTimeoutError', sent: true });
    expect(await perCall).toMatchObject({ name: 'ReplyTimeoutError', sent: true });
  });
});
