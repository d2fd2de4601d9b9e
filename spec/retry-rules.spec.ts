/**
 * Safety rule 2, as the README states it: a command that never reached the
 * socket is always sent again; one that was written and lost its connection is
 * sent again only when it is safe to send twice (read-only, or free of side
 * effects like PING) or declared idempotent, and only when its retry policy
 * agrees, after the policy's backoff.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionLostError, RetryPolicy } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until } from './support/until.js';

const env = useProxiedServer({ connectTimeout: 1000, commandTimeout: 3000, reconnect: { baseDelay: 5, maxDelay: 20 } });
const through = env.through;


describe('resending after a lost connection', () => {
  it('a read-only GET in flight when a half-open connection is recycled is sent again', async () => {
    const { redis, proxy } = await through({ staleReplyGrace: 200 });
    await redis.db.reply('SET', 'rr:half-open', 'v');
    proxy.stall(); // half-open: nothing comes back
    const abandoned = redis.db.with({ timeout: 100 }).reply('GET', 'rr:other'); // its reply goes overdue
    abandoned.catch(() => {});
    const get = redis.db.reply('GET', 'rr:half-open');
    // Past the deadline (100) and the grace (200), the silent connection is recycled.
    await until('the half-open connection is recycled', () => redis.stats().connectionLost >= 1);
    proxy.resume();
    expect(await get).toBe('v');
  });

  it('a written write is not resent: ConnectionLostError { maybeExecuted: true }', async () => {
    const { redis, proxy } = await through();
    proxy.stall();
    const incr = redis.db.reply('INCR', 'rr:counter').catch((e: Error) => e); // observed at once: it is to reject
    await until('the command is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    const err = await incr;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).maybeExecuted).toBe(true);
  });

  it('the retry policy backoff is honoured on the loss path', async () => {
    const { redis, proxy } = await through();
    await redis.db.reply('SET', 'rr:backoff', 'v');
    const db = redis.db.with({ retry: RetryPolicy.constant({ delay: 400, attempts: 2 }) });
    proxy.stall();
    const get = db.reply('GET', 'rr:backoff');
    await until('the command is written: its bytes are held by the proxy', () => proxy.held > 0);
    const cutAt = Date.now();
    proxy.cutAll();
    proxy.resume();
    expect(await get).toBe('v');
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(395); // not at once: after the policy's delay
  });

  it('a backoff that would end past the deadline fails now, saying it may have run', async () => {
    const { redis, proxy } = await through();
    const db = redis.db.with({ timeout: 300, retry: RetryPolicy.constant({ delay: 1000, attempts: 2 }) });
    proxy.stall();
    const get = db.reply('GET', 'rr:late').catch((e: Error) => e); // observed at once: it is to reject
    await until('the command is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    const err = await get;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).maybeExecuted).toBe(true);
  });

  // Commands without side effects are safe to send twice even though the server does not flag them read-only.
  it.each([
    ['PING', [], 'PONG'],
    ['ECHO', ['hello'], 'hello'],
    ['DBSIZE', [], expect.any(Number)],
    ['CLIENT', ['ID'], expect.any(Number)],
    ['INFO', ['server'], expect.stringContaining('redis_version')],
  ] as const)('%s written just before a cut is sent again', async (name, args, expected) => {
    const { redis, proxy } = await through();
    proxy.stall();
    const p = redis.db.reply(name, ...args);
    await until('the command is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    expect(await p).toEqual(expected);
  });

  it('TIME written just before a cut is sent again', async () => {
    const { redis, proxy } = await through();
    proxy.stall();
    const p = redis.db.reply('TIME');
    await until('the command is written: its bytes are held by the proxy', () => proxy.held > 0);
    proxy.cutAll();
    proxy.resume();
    expect(await p).toHaveLength(2);
  });
});
