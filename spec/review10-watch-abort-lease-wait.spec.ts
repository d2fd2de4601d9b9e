/**
 * README (Cancelling): a call waiting for a pooled connection when its signal
 * fires gets AbortError { sent: false } and is never sent; for watch,
 * "nothing is leased when the signal has fired". A db.watch waiting in the
 * pool's line did not hear its signal: it waited on (to PoolTimeoutError, or
 * until a lease freed up), then sent WATCH and ran fn.
 */
import { describe, expect, it } from 'vitest';
import { AbortError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.watch aborted while it waits for a side connection', () => {
  it('rejects with AbortError { sent: false }, fn never runs, and the lease it was owed goes back to the pool', async () => {
    const redis = env.client({ blockingPool: { size: 1, maxWait: 2000 } });
    const db = redis.db;
    await db.reply('DEL', 'r10wl:q', 'r10wl:k');
    const hold = db.reply('BLPOP', 'r10wl:q', 0); // the pool's only lease
    await db.reply('PING');
    const ac = new AbortController();
    let ran = false;
    const watch = db.with({ signal: ac.signal }).watch(['r10wl:k'], async () => void (ran = true));
    setImmediate(() => ac.abort());
    const err = await watch.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).sent).toBe(false);
    await db.reply('RPUSH', 'r10wl:q', 'item'); // frees the lease
    expect(await hold).toEqual(['r10wl:q', 'item']);
    // The lease reached the aborted watch's place in line and came back: the next watch gets it.
    expect(await db.watch(['r10wl:k'], (conn) => conn.multi((tx) => void tx.command('SET', 'r10wl:k', 'v')))).toEqual(['OK']);
    expect(ran).toBe(false);
    expect(redis.stats().leased).toBe(1);
  });
});
