/**
 * The offline queue's bounds (queue.ts) while the connection is down: a
 * command given up while queued (deadline, abort) stops counting (review 2).
 */
import { describe, expect, it } from 'vitest';
import { useProxiedServer } from './support/proxied-server.js';

const env = useProxiedServer({ reconnect: { baseDelay: 20, maxDelay: 50 } });

const settle = <T>(p: PromiseLike<T>) =>
  Promise.resolve(p).then(
    (value) => ({ value, error: undefined as string | undefined }),
    (error: unknown) => ({ value: undefined, error: (error as Error).name }),
  );

describe('commands given up while queued offline', () => {
  it('no longer count toward maxQueued: a live command is queued (and runs) once the dead ones settled', async () => {
    const { redis, proxy } = await env.through({ maxQueued: 10 });
    proxy.refuse(true);
    proxy.cutAll();
    await new Promise<void>((resolve) => redis.once('reconnecting', () => resolve()));
    // Ten commands wait for the connection and time out there: each settled, never sent.
    const dead = await Promise.all(Array.from({ length: 10 }, (_, i) => settle(redis.db.with({ timeout: 50 }).reply('SET', `r2q:dead:${i}`, 'x'))));
    expect(dead.every((r) => r.error === 'ReplyTimeoutError')).toBe(true);
    // Nothing is waiting any more; a new command must be queued, not refused as if 10 were.
    const live = settle(redis.db.with({ timeout: 5000 }).reply('SET', 'r2q:live', 'y'));
    expect(redis.stats().queued).toBe(1); // queued, waiting for the connection
    proxy.refuse(false);
    expect(await live).toEqual({ value: 'OK', error: undefined });
  });

  it('no longer count toward maxQueuedBytes (same with a byte bound)', async () => {
    const { redis, proxy } = await env.through({ maxQueuedBytes: 64 * 1024 });
    proxy.refuse(true);
    proxy.cutAll();
    await new Promise<void>((resolve) => redis.once('reconnecting', () => resolve()));
    const big = 'v'.repeat(30 * 1024);
    const dead = await Promise.all([0, 1].map((i) => settle(redis.db.with({ timeout: 50 }).reply('SET', `r2q:big:${i}`, big))));
    expect(dead.every((r) => r.error === 'ReplyTimeoutError')).toBe(true);
    const live = settle(redis.db.with({ timeout: 5000 }).reply('SET', 'r2q:big:live', big));
    expect(redis.stats().queued).toBe(1); // queued, waiting for the connection
    proxy.refuse(false);
    expect(await live).toEqual({ value: 'OK', error: undefined });
  });
});
