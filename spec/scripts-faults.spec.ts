/**
 * Scripts across a cut connection (a fault proxy in front of a real server):
 * a read-only script (EVALSHA_RO) is safe to send again, a writing one
 * (EVALSHA) is not: it fails with maybeExecuted, and never runs twice.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionLostError, RetryPolicy, Script } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';

const env = useProxiedServer();

describe('scripts and lost connections', () => {
  it('a read-only script in flight when the connection is cut is sent again and answers', async () => {
    const { redis, proxy } = await env.through({ retry: RetryPolicy.exponential({ attempts: 3, baseDelay: 10 }) });
    const db = redis.db;
    await db.reply('SET', 'f:ro', 'v');
    // Slow enough to be in flight when the cut comes.
    const slow = new Script('local t = redis.call("TIME"); local s = tonumber(t[1]) * 1e6 + tonumber(t[2]); repeat t = redis.call("TIME") until tonumber(t[1]) * 1e6 + tonumber(t[2]) - s > 100000; return redis.call("GET", KEYS[1])', { readOnly: true });
    const pending = db.run(slow, ['f:ro']);
    await new Promise((r) => setTimeout(r, 30));
    proxy.cutAll();
    expect(await pending).toBe('v');
  });

  it('a writing script in flight when the connection is cut fails with maybeExecuted and is not sent again', async () => {
    const { redis, proxy } = await env.through({ retry: RetryPolicy.exponential({ attempts: 3, baseDelay: 10 }) });
    const db = redis.db;
    await db.reply('DEL', 'f:w');
    const slowIncr = new Script('local t = redis.call("TIME"); local s = tonumber(t[1]) * 1e6 + tonumber(t[2]); repeat t = redis.call("TIME") until tonumber(t[1]) * 1e6 + tonumber(t[2]) - s > 100000; return redis.call("INCR", KEYS[1])');
    await db.run(slowIncr, ['f:w']); // loaded; f:w = 1
    const pending = db.run(slowIncr, ['f:w']).catch((e: unknown) => e); // observed at once: it is to reject
    await new Promise((r) => setTimeout(r, 30));
    proxy.cutAll();
    const err = await pending;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).maybeExecuted).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await db.reply('GET', 'f:w')).toBe('2'); // it ran once (the server finished it), never twice
  });
});
