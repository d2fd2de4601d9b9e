/**
 * The blocking pool settles what it owns at once, against a real redis-server
 * behind a fault proxy:
 *
 * - close() or disconnect() while a blocking command waits out its retry
 *   backoff: the caller gets ClosedError by the time close() resolves (at once
 *   for disconnect()), saying whether an earlier try was written and may have
 *   run, and the backoff's timer is cleared;
 * - commands aborted while they wait for a free side connection (the pool at
 *   its size): each leaves the waiting line and its maxWait timer is cleared
 *   at once, not when a connection frees up or maxWait passes (10k of them).
 *
 * The backoff and maxWait are values no other timer of the client uses, so the
 * spec can tell those timers apart; they keep their real (long) delays: a
 * caller that settles only when they end has not settled when the spec looks.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, ClosedError, Redis, RetryPolicy } from '../lib/index.js';
import { useProxiedServer } from './support/proxied-server.js';
import { watchTimers } from './support/timer-watch.js';

const env = useProxiedServer();

/** The retry backoff of the policy under test. */
const BACKOFF = 987_654;
/** The pool's maxWait in the waiting-line tests. */
const MAX_WAIT = 876_543;

const timers = watchTimers([BACKOFF, MAX_WAIT]);
const watched = timers.set;
const cleared = timers.cleared;
const { sleep, until } = timers;

const retry = RetryPolicy.constant({ attempts: 3, delay: BACKOFF });
type Outcome = { settled: boolean; error: unknown };
/** Follow `p`: `settled` turns true when it settles. */
function follow(p: PromiseLike<unknown>): Outcome {
  const out: Outcome = { settled: false, error: undefined };
  Promise.resolve(p).then(
    () => (out.settled = true),
    (error: unknown) => Object.assign(out, { settled: true, error }),
  );
  return out;
}
/** A few turns of the event loop: promise chains already due have run. */
const turns = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

describe('close() or disconnect() while a blocking command waits out its retry backoff', () => {
  it('close(), no try written (its lease could not connect): ClosedError "not sent" before close() resolves, the timer cleared', async () => {
    const { redis, proxy } = await env.through();
    const admin = env.track(new Redis(env.server.url));
    await admin.db.reply('DEL', 'close-backoff:q');
    proxy.refuse(true); // the lease cannot connect: a try that never ran, retried after the policy's delay
    const pop = follow(redis.db.with({ retry }).reply('BLPOP', 'close-backoff:q', 0));
    await until(() => watched.length > 0);
    proxy.refuse(false);
    const accepted = proxy.accepted;
    await redis.close();
    await turns();
    expect(pop.settled).toBe(true);
    expect(pop.error).toBeInstanceOf(ClosedError);
    expect(pop.error).toMatchObject({ command: 'BLPOP', node: expect.stringMatching(/^127\.0\.0\.1:\d+$/), message: expect.stringMatching(/closed while the command waited to be retried; the command was not sent/) });
    expect(cleared.has(watched[0])).toBe(true);
    expect(watched).toHaveLength(1);
    expect(proxy.accepted).toBe(accepted); // no lease opened for it
    await admin.db.reply('RPUSH', 'close-backoff:q', 'item');
    expect(await admin.db.reply('LRANGE', 'close-backoff:q', 0, -1)).toEqual(['item']); // never sent
  });

  it('disconnect(), a try written and lost (XREAD, resent after the backoff): ClosedError "may have run" at once, the timer cleared', async () => {
    const { redis, proxy } = await env.through();
    const admin = env.track(new Redis(env.server.url));
    const read = follow(redis.db.with({ retry }).reply('XREAD', 'BLOCK', 0, 'STREAMS', 'close-backoff:stream', '$'));
    await until(async () => String(await admin.db.reply('CLIENT', 'LIST')).includes('cmd=xread'));
    proxy.cutAll(); // lost after the write: it may have run, and is resent after the delay
    await until(() => watched.length > 0);
    redis.disconnect();
    await turns();
    expect(read.settled).toBe(true);
    expect(read.error).toBeInstanceOf(ClosedError);
    expect(read.error).toMatchObject({ command: 'XREAD', node: expect.stringMatching(/^127\.0\.0\.1:\d+$/), message: expect.stringMatching(/disconnected while the command waited to be retried; .*may have run/) });
    expect(cleared.has(watched[0])).toBe(true);
    expect(watched).toHaveLength(1);
    expect(String(await admin.db.reply('CLIENT', 'LIST'))).not.toContain('cmd=xread'); // not sent again
  });
});

describe('commands aborted while they wait for a free side connection', () => {
  it('10k aborted waiters: each settles with AbortError, leaves the line and has its maxWait timer cleared at once; the pool still serves', async () => {
    const { redis } = await env.through({ blockingPool: { size: 1, maxWait: MAX_WAIT } });
    const admin = env.track(new Redis(env.server.url));
    await admin.db.reply('DEL', 'close-backoff:hold', 'close-backoff:never', 'close-backoff:next');
    const hold = follow(redis.db.reply('BLPOP', 'close-backoff:hold', 0)); // the pool's only connection
    const ac = new AbortController();
    const view = redis.db.with({ signal: ac.signal });
    const waiting = Array.from({ length: 10_000 }, () => follow(view.reply('BLPOP', 'close-backoff:never', 0)));
    expect(watched).toHaveLength(10_000); // each waits in line with its own maxWait timer
    ac.abort();
    await turns();
    expect(waiting.every((w) => w.settled && w.error instanceof AbortError && (w.error as AbortError).sent === false)).toBe(true);
    expect(watched.every((t) => cleared.has(t))).toBe(true); // nothing keeps 10k timers (and their waiters) alive
    // The connection frees up: it goes to the next live caller, none of the aborted ones is sent.
    const next = follow(redis.db.reply('BLPOP', 'close-backoff:next', 0));
    await admin.db.reply('RPUSH', 'close-backoff:hold', 'a');
    await until(() => hold.settled);
    expect(hold.error).toBeUndefined();
    await admin.db.reply('RPUSH', 'close-backoff:next', 'b');
    await until(() => next.settled);
    expect(next.error).toBeUndefined();
    await admin.db.reply('RPUSH', 'close-backoff:never', 'c');
    expect(await admin.db.reply('LRANGE', 'close-backoff:never', 0, -1)).toEqual(['c']);
    expect(redis.stats().leased).toBe(1);
  });
});
