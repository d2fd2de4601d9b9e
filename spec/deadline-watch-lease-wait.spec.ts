/**
 * A db.watch waits for a side connection at most its view's timeout when that
 * is shorter than `blockingPool.maxWait`, as a blocking command does: its
 * WATCH and every command of fn carry that deadline, and a call never waits
 * past its own deadline for a connection to send on.
 *
 * Before, `db.with({ timeout: 100 }).watch(...)` with the pool exhausted
 * waited the whole maxWait (here 8 s: PoolTimeoutError "within 8000 ms").
 * Now it gets PoolTimeoutError "within 100 ms", fn never runs, nothing is
 * sent, the wait is counted once in stats().timeouts, and the lease freed
 * later goes to the next caller.
 */
import { describe, expect, it } from 'vitest';
import { PoolTimeoutError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('db.watch with the pool exhausted', () => {
  it("waits for a lease at most the view's timeout when shorter than maxWait", async () => {
    const redis = env.client({ blockingPool: { size: 1, maxWait: 8000 } });
    const db = redis.db;
    await db.reply('DEL', 'dlw:q', 'dlw:k');
    const hold = db.reply('BLPOP', 'dlw:q', 0); // the pool's only lease
    await db.reply('PING');
    const timeouts = redis.stats().timeouts;
    let ran = false;
    const err = await db.with({ timeout: 100 }).watch(['dlw:k'], async () => void (ran = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect((err as Error).message).toMatch(/within 100 ms/);
    expect(ran).toBe(false);
    expect(redis.stats().timeouts).toBe(timeouts + 1);
    await db.reply('RPUSH', 'dlw:q', 'item'); // frees the lease
    expect(await hold).toEqual(['dlw:q', 'item']);
    expect(await db.watch(['dlw:k'], (conn) => conn.multi((tx) => void tx.command('SET', 'dlw:k', 'v')))).toEqual(['OK']);
    expect(redis.stats().leased).toBe(1);
  }, 20_000);

  it('a view timeout longer than maxWait leaves maxWait the bound', async () => {
    const redis = env.client({ blockingPool: { size: 1, maxWait: 100 } });
    const db = redis.db;
    await db.reply('DEL', 'dlw:q2');
    const hold = db.reply('BLPOP', 'dlw:q2', 0);
    await db.reply('PING');
    const err = await db.with({ timeout: 8000 }).watch(['dlw:k2'], () => 'ran').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect((err as Error).message).toMatch(/within 100 ms/);
    await db.reply('RPUSH', 'dlw:q2', 'item');
    await hold;
  }, 20_000);
});
