/**
 * A conn.multi block in db.watch refused at queue time with TRYAGAIN (a
 * multi-key command over keys a migration has split) was waited out and sent
 * again on the same lease. But a refused block is an EXECABORT, and the
 * server discards a transaction with every WATCH of its connection: the
 * re-sent block ran unguarded, and committed over a watched key another
 * client had changed meanwhile (the very thing WATCH is for). As after a
 * MOVED or ASK, the watch is void: after the backoff the block resolves null
 * (nothing ran), so `retries` runs fn again under a fresh WATCH.
 */
import { expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { useCluster, tryAgainsAnswered } from './support/real-cluster.js';
import { outcome } from './support/outcome.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 15_000 }), { start: { masters: 3, replicasPerMaster: 0 } });

it('a block refused with TRYAGAIN never commits without its WATCH: it resolves null, and a watched key changed meanwhile keeps its value', async () => {
  const redis = client();
  const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
  let tag = '';
  for (let i = 0; ; i++) if ((await cluster.ownerOf(keySlot(`{r10t${i}}`))) === x) { tag = `r10t${i}`; break; }
  const slot = keySlot(`{${tag}}`);
  const watched = `{${tag}}w`;
  await redis.db.reply('SET', watched, 'start');
  const before = await tryAgainsAnswered(cluster);
  let runs = 0;
  const result = outcome(redis.db.watch([watched], async (conn) => {
    runs++;
    const seen = await conn.reply('GET', watched);
    if (runs === 1) await cluster.moveSlot(slot, y, { stopAt: 'migrating' }); // the slot starts moving while fn runs
    return conn.multi((tx) => {
      tx.command('MGET', watched, `{${tag}}absent`); // split by the migration: TRYAGAIN, the block is refused
      tx.command('SET', watched, `fn saw ${seen}`);
    });
  }));
  await until('the block was refused with TRYAGAIN', async () => (await tryAgainsAnswered(cluster)) > before);
  await cluster.call(x, 'SET', watched, 'changed by another client'); // after fn read it: fn's block must not commit
  // The migration is called off: the slot stays on x, where the lease is.
  await cluster.call(y, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
  await cluster.call(x, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
  expect(await result).toBeNull();
  expect(runs).toBe(1);
  expect(await redis.db.reply('GET', watched)).toBe('changed by another client');
}, 60_000);
