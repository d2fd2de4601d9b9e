/**
 * A blocking command aborted (`db.with({ signal })`) while it waits in the
 * blocking pool's retry backoff, against a real redis-server behind a fault
 * proxy: the caller gets its AbortError at once (sent: false when no try was
 * written, sent: true when one was and may have run), the backoff's timer is
 * cleared then (it no longer keeps the process alive for up to the policy's
 * delay), and nothing follows: no lease is opened, nothing is sent.
 *
 * The policy's delay is one no other timer uses, so the spec can tell the
 * backoff's timer apart; it is shortened to a few ms in the timer call (the
 * spec never waits the real delay), and the spec then waits past it.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, Redis, RetryPolicy } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { watchTimers } from './support/timer-watch.js';

const env = useProxiedServer();

/** The backoff of the policy under test: no other timer of the client uses this delay. */
const BACKOFF = 987_654;
/** What the spec lets the backoff last instead (it waits past it to see what the pool does then). */
const SHORTENED = 20;

const timers = watchTimers([BACKOFF], new Map([[BACKOFF, SHORTENED]]));
const backoffTimers = timers.set;
const cleared = timers.cleared;
const { sleep, until } = timers;

const retry = RetryPolicy.constant({ attempts: 3, delay: BACKOFF });
const settle = <T>(p: PromiseLike<T>) => Promise.resolve(p).then((value) => ({ value, error: undefined }), (error: unknown) => ({ value: undefined, error }));

describe('a blocking command aborted in the pool\'s retry backoff', () => {
  it('no try written (its lease could not connect): AbortError sent: false at once, the timer cleared, no lease opened after', async () => {
    const { redis, proxy } = await env.through();
    const admin = env.track(new Redis(env.server.url));
    await admin.db.reply('DEL', 'backoff:q');
    proxy.refuse(true); // the lease cannot connect: a try that never ran, retried after the policy's delay
    const ac = new AbortController();
    const pop = settle(redis.db.with({ signal: ac.signal, retry }).reply('BLPOP', 'backoff:q', 0));
    await until(() => backoffTimers.length > 0);
    proxy.refuse(false); // a lease opened after the backoff would connect now
    const accepted = proxy.accepted;
    ac.abort();
    const { error } = await pop;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ sent: false, command: 'BLPOP' });
    expect(cleared.has(backoffTimers[0])).toBe(true); // the process is not kept alive for the rest of the delay
    await sleep(SHORTENED * 5); // past the backoff's end
    expect(backoffTimers).toHaveLength(1);
    expect(redis.stats().leased).toBe(0); // no lease taken (and opened) for a command already given up
    expect(proxy.accepted).toBe(accepted);
    await admin.db.reply('RPUSH', 'backoff:q', 'item');
    expect(await admin.db.reply('LRANGE', 'backoff:q', 0, -1)).toEqual(['item']); // the BLPOP was never sent
  });

  it('a try written and lost (XREAD, read-only: resent after the backoff): AbortError sent: true at once, the timer cleared, nothing after', async () => {
    const { redis, proxy } = await env.through();
    const admin = env.track(new Redis(env.server.url));
    const ac = new AbortController();
    const read = settle(redis.db.with({ signal: ac.signal, retry }).reply('XREAD', 'BLOCK', 0, 'STREAMS', 'backoff:stream', '$'));
    await until(async () => String(await admin.db.reply('CLIENT', 'LIST')).includes('cmd=xread'));
    proxy.cutAll(); // the lease is lost after the write: the read may have run, and is resent after the delay
    await until(() => backoffTimers.length > 0);
    const leased = redis.stats().leased;
    ac.abort();
    const { error } = await read;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ sent: true, command: 'XREAD' });
    expect(cleared.has(backoffTimers[0])).toBe(true);
    await sleep(SHORTENED * 5);
    expect(backoffTimers).toHaveLength(1);
    expect(redis.stats().leased).toBe(leased); // no lease taken (and opened) for a command already given up
    expect(String(await admin.db.reply('CLIENT', 'LIST'))).not.toContain('cmd=xread'); // not sent again
  });
});
