/**
 * db.watch through Sentinel while the master is killed (real sentinels,
 * down-after 1000 ms). The watch waits for the only side connection, held
 * by a BLPOP on the master; the master dies. Nothing was watched (a WATCH
 * lives and dies with its connection) and fn has not run, so the watch must
 * run once on the promoted replica, within its command timeout, as the
 * shared connection's commands do; never fail because the old master is gone.
 * A BLPOP waiting for that side connection (never written) likewise blocks
 * on the new master.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { until } from './support/until.js';
import { outcome } from './support/outcome.js';

let sentinels: RedisSentinels;

beforeAll(async () => {
  sentinels = await startSentinels({ replicas: 1, downAfterMs: 1000 });
});
afterAll(async () => {
  await sentinels?.stop();
});


it('a watch and a BLPOP waiting for a side connection when the master dies: the watch runs once, the BLPOP blocks, on the new master', async () => {
  const redis = new Redis({ sentinel: { name: 'mymaster', nodes: sentinels.sentinelUrls.slice() }, connectTimeout: 2000, commandTimeout: 15_000, blockingPool: { size: 1 } });
  redis.on('error', () => {});
  try {
    await redis.db.reply('SET', 'sw:counter', 10);
    const old = await sentinels.masterPort();
    await until('the replica has the counter', async () => Number(await sentinels.call(old, 'WAIT', 1, 1000)) >= 1);
    const popped = outcome(redis.db.reply('BLPOP', 'sw:block', 0));
    await until('the BLPOP holds the only side connection', async () => / cmd=blpop /.test(String(await sentinels.call(old, 'CLIENT', 'LIST'))));
    let runs = 0;
    const watched = outcome(
      redis.db.watch(['sw:counter'], async (conn) => {
        runs++;
        const cur = Number(await conn.reply('GET', 'sw:counter'));
        return conn.multi((tx) => tx.command('SET', 'sw:counter', cur + 1));
      }),
    );
    // And a BLPOP waiting for that side connection too (never written).
    const waiting = outcome(redis.db.reply('BLPOP', 'sw:queued', 0));
    await sentinels.killNode(old);
    expect(await watched).toEqual(['OK']);
    expect(runs).toBe(1);
    const now = await sentinels.waitSettled({ not: old });
    expect(await sentinels.call(now, 'GET', 'sw:counter')).toBe('11');
    // It blocks on the new master and gets what is pushed there.
    await sentinels.call(now, 'RPUSH', 'sw:queued', 'y');
    expect(await waiting).toEqual(['sw:queued', 'y']);
    expect(await popped).toBeInstanceOf(Error); // blocked on the dead master: lost with it (rule 2)
  } finally {
    redis.disconnect();
  }
}, 60_000);
