/**
 * Memory stays bounded (DESIGN safety rule 5) under transaction and script
 * churn on a long-running client, against a real redis-server: db.multi
 * blocks (with queue-time refusals), db.watch blocks that commit, conflict,
 * throw, or run on a signal view, and db.run with thousands of distinct
 * Script objects. Afterwards the client is back at its baseline: nothing
 * pending or queued, no lease beyond the pool's size (a lease not handed back
 * is a connection and its buffers kept for good), no abort listener left on a
 * long-lived signal (it would keep the client's watch and the settled
 * commands alive), nothing WATCHed left on a lease. Counts only: no heap
 * sizes, no timings.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ExecAbortError, Script } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { expectIdle } from './support/bounded.js';

const env = useRealServer();
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('db.multi churn', () => {
  it('3,000 blocks, one in ten refused at queue time (EXECABORT): nothing held', async () => {
    const redis = env.client();
    const db = redis.db;
    for (let i = 0; i < 3000; i++) {
      if (i % 10 === 0) {
        const err = await db.multi((tx) => {
          tx.command('SET', 'tx:m', i);
          tx.command('NOSUCHCOMMAND' as 'GET', 'x');
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExecAbortError);
      } else {
        const [ok, n] = (await db.multi((tx) => {
          tx.command('SET', 'tx:m', i);
          tx.command('INCR', 'tx:m');
        }))!;
        expect([ok, n]).toEqual(['OK', i + 1]);
      }
    }
    expectIdle(redis, 8);
  });
});

describe('db.watch churn', () => {
  it('2,000 watch blocks that commit, conflict, throw, or return early: leases handed back, nothing WATCHed left', async () => {
    const size = 2;
    const redis = env.client({ blockingPool: { size } });
    const other = env.client();
    const db = redis.db;
    await db.reply('SET', 'tx:w', 0);
    let conflicts = 0;
    for (let i = 0; i < 2000; i++) {
      const kind = i % 4;
      const run = db.watch(['tx:w', `tx:w:${i % 13}`], async (conn) => {
        const cur = Number(await conn.reply('GET', 'tx:w'));
        if (kind === 1) await other.db.reply('INCR', 'tx:w'); // a conflict: EXEC answers null
        if (kind === 2) throw new Error('block failed');
        if (kind === 3) return 'early'; // no EXEC at all: the lease must still be unwatched
        return conn.multi((tx) => tx.command('SET', 'tx:w', cur + 1));
      });
      const r = await run.catch((e: unknown) => e);
      if (kind === 1) {
        expect(r).toBeNull();
        conflicts++;
      } else if (kind === 2) expect(r).toMatchObject({ message: 'block failed' });
      else if (kind === 3) expect(r).toBe('early');
      else expect(r).toEqual(['OK']);
      if (i % 250 === 0) expectIdle(redis, size);
    }
    expect(conflicts).toBe(500);
    expectIdle(redis, size);
    // No lease kept a WATCH: a block on each lease commits although tx:w changed since every block above.
    await other.db.reply('INCR', 'tx:w');
    const leases = await Promise.all(
      Array.from({ length: size }, () => db.watch(['tx:other'], (conn) => conn.multi((tx) => tx.command('INCR', 'tx:count')))),
    );
    for (const r of leases) expect(r).not.toBeNull();
  });

  it('1,000 watch blocks on a long-lived signal view, some throwing: no abort listener left on the signal', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    for (let i = 0; i < 1000; i++) {
      const r = await db
        .watch(['tx:s'], async (conn) => {
          const cur = Number(await conn.reply('GET', 'tx:s'));
          if (i % 5 === 0) throw new Error('block failed');
          return conn.multi((tx) => tx.command('SET', 'tx:s', cur + 1));
        })
        .catch((e: unknown) => e);
      if (i % 5 !== 0) expect(r).toEqual(['OK']);
    }
    expect(await redis.db.reply('GET', 'tx:s')).toBe('800');
    expect(listeners(ac.signal)).toBe(0);
    expectIdle(redis, 8);
  });

  it('one watch block on a signal view, with commands of its own, lets the signal go once it settled', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    await db.watch(['tx:one'], (conn) => conn.multi((tx) => tx.command('INCR', 'tx:one')));
    expect(listeners(ac.signal)).toBe(0);
    await db.watch(['tx:one'], async (conn) => {
      conn.command('GET', 'tx:one');
      const reply = conn.reply('GET', 'tx:one');
      expect(listeners(ac.signal)).toBe(1); // while the block's commands are in flight, the signal can give them up
      const cur = Number(await reply);
      return conn.multi((tx) => tx.command('SET', 'tx:one', cur + 1));
    });
    // Else the listener (and the settled commands, the watch, the client behind it) stays until the signal fires.
    expect(listeners(ac.signal)).toBe(0);
    // Likewise a multi block on the view.
    await db.multi((tx) => tx.command('INCR', 'tx:one'));
    expect(listeners(ac.signal)).toBe(0);
  });
});

describe('scripts', () => {
  it('3,000 distinct Script objects run once each (NOSCRIPT then EVAL), and inside MULTI: nothing held', async () => {
    const redis = env.client();
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    await redis.db.reply('SCRIPT', 'FLUSH');
    for (let i = 0; i < 3000; i++) {
      const script = new Script(`return ${i}`, { readOnly: i % 2 === 0 });
      expect(await db.run(script)).toBe(i);
      if (i % 10 === 0) {
        const [r] = (await redis.db.multi((tx) => tx.run(new Script(`return 'm${i}'`))))!;
        expect(r).toBe(`m${i}`);
      }
    }
    expect(listeners(ac.signal)).toBe(0);
    expectIdle(redis, 8);
    await redis.db.reply('SCRIPT', 'FLUSH');
  });
});
