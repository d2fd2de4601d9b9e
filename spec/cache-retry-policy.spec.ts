/**
 * Client-side cache: callers that would share one read (a fill) but asked
 * for different retry rules. A fill is resent after a lost connection by the
 * rules of the caller that started it, so a caller joins only a fill with its
 * own rules (issue 13, adversarial review 2: a default-policy caller that
 * joined a read started by a RetryPolicy.none() view failed with
 * ConnectionLostError where its own policy retries).
 */
import { describe, expect, it } from 'vitest';
import { Redis, RetryPolicy } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until } from './support/until.js';
import { calls } from './support/commandstats.js';

const CACHE = { cache: { maxEntries: 1000, maxBytes: 1 << 20 } };
const env = useProxiedServer({ reconnect: { baseDelay: 20, maxDelay: 50 } });

const settle = <T>(p: PromiseLike<T>) =>
  Promise.resolve(p).then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error: (error as Error).name }),
  );

describe('a shared cached read and each caller’s retry policy', () => {
  it('control: alone, a default-policy cached GET written then cut is retried and answers', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'r2c:alone', 'v');
    proxy.stall();
    const read = settle(cached.reply('GET', 'r2c:alone'));
    await until('the shared read is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    expect(await read).toEqual({ value: 'v', error: undefined });
  });

  it('a caller joining a read started by a view with RetryPolicy.none() keeps its own (default) retry', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'r2c:joined', 'v');
    proxy.stall();
    const noRetry = settle(cached.with({ retry: RetryPolicy.none() }).reply('GET', 'r2c:joined')); // starts the shared read
    const mine = settle(cached.reply('GET', 'r2c:joined')); // would join it
    await until('the shared read is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    expect((await noRetry).error).toBe('ConnectionLostError'); // its own choice
    // Its own policy retries a read lost with its connection (as the control shows): not another caller's.
    expect(await mine).toEqual({ value: 'v', error: undefined });
  });

  it('a RetryPolicy.none() caller is not answered by a resend of a read started with the default policy', async () => {
    const { redis, proxy } = await env.through(CACHE);
    const cached = redis.db.with({ cache: true });
    await redis.db.reply('SET', 'r2c:refused', 'v');
    proxy.stall();
    const retried = settle(cached.reply('GET', 'r2c:refused')); // starts the shared read
    const noRetry = settle(cached.with({ retry: RetryPolicy.none() }).reply('GET', 'r2c:refused')); // would join it
    await until('the shared read is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    expect(await retried).toEqual({ value: 'v', error: undefined });
    expect((await noRetry).error).toBe('ConnectionLostError'); // its policy refused a resend
  });

  it('callers with the same rules still share one read: the same policy object, and idempotent (irrelevant to a read)', async () => {
    const probe = env.track(new Redis(env.server.url));
    const { redis } = await env.through(CACHE);
    await redis.db.reply('SET', 'r2c:shared', 'v');
    const policy = RetryPolicy.constant({ attempts: 3, delay: 10 });
    const before = await calls(probe, 'GET');
    const reads = [
      redis.db.with({ cache: true, retry: policy }).reply('GET', 'r2c:shared'),
      redis.db.with({ cache: true, retry: policy, idempotent: true }).reply('GET', 'r2c:shared'),
      redis.db.with({ cache: true, retry: policy }).reply('GET', 'r2c:shared'),
    ];
    expect(await Promise.all(reads)).toEqual(['v', 'v', 'v']);
    expect(await calls(probe, 'GET')).toBe(before + 1);
    expect(redis.stats().cache?.misses).toBe(3);
  });
});
