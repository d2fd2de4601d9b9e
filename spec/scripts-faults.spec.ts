/**
 * Scripts across a cut connection (a fault proxy in front of a real server):
 * a read-only script (EVALSHA_RO) is safe to send again, a writing one
 * (EVALSHA) is not: it fails with maybeExecuted, and never runs twice.
 *
 * "In flight" is made a state, not a duration: the proxy holds the server's
 * replies (stallReplies), so the script reaches the server and runs there,
 * and the cut comes once its reply is held by the proxy: the server has
 * answered and the client has not heard it, however slow the machine.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionLostError, RetryPolicy, Script } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { until } from './support/until.js';

const env = useProxiedServer();

describe('scripts and lost connections', () => {
  it('a read-only script in flight when the connection is cut is sent again and answers', async () => {
    const { redis, proxy } = await env.through({ retry: RetryPolicy.exponential({ attempts: 3, baseDelay: 10 }) });
    const db = redis.db;
    await db.reply('SET', 'f:ro', 'v');
    const read = new Script('return redis.call("GET", KEYS[1])', { readOnly: true });
    expect(await db.run(read, ['f:ro'])).toBe('v'); // loaded: what is cut below is the EVALSHA_RO itself
    proxy.stallReplies();
    const pending = db.run(read, ['f:ro']);
    await until('the script ran on the server and its reply is held by the proxy', () => proxy.held > 0);
    proxy.cutAll(); // the held reply is lost with the link
    proxy.resume(); // the next link is not held
    expect(await pending).toBe('v');
  });

  it('a writing script in flight when the connection is cut fails with maybeExecuted and is not sent again', async () => {
    const { redis, proxy } = await env.through({ retry: RetryPolicy.exponential({ attempts: 3, baseDelay: 10 }) });
    const db = redis.db;
    await db.reply('DEL', 'f:w');
    const incr = new Script('return redis.call("INCR", KEYS[1])');
    await db.run(incr, ['f:w']); // loaded; f:w = 1
    proxy.stallReplies();
    const pending = db.run(incr, ['f:w']).catch((e: unknown) => e); // observed at once: it is to reject
    await until('the script ran on the server and its reply is held by the proxy', () => proxy.held > 0);
    proxy.cutAll(); // the held reply (f:w = 2) is lost with the link
    proxy.resume();
    const err = await pending;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).maybeExecuted).toBe(true);
    // Settled with an error, it is in no queue of the client any more (one
    // outcome per command: failed, or sent again and answered).
    expect(await db.reply('GET', 'f:w')).toBe('2'); // it ran once (before the cut), never twice
  });
});
