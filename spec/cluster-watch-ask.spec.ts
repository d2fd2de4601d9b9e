/**
 * A db.watch whose key's slot is being migrated: the source node answers
 * WATCH with ASK for a key it does not hold (it may be at the importing node
 * already). MOVED / ASK are handled internally (README "Errors"), yet the
 * AskError reached the caller and the watch failed at once. A WATCH cannot
 * follow an ASK (every command fn sends would need ASKING on the importing
 * node), and the ASK says nothing ran, so the watch waits the migration out
 * with the TRYAGAIN backoff, within its WATCH's deadline: once the slot has
 * moved, the WATCH is answered MOVED and leased again on the new owner, where
 * fn runs once.
 */
import { expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';
import { outcome } from './support/outcome.js';

const { cluster, client } = useCluster({ commandTimeout: 15_000 }, { start: { replicasPerMaster: 0 } });

it('a WATCH answered ASK waits for the migration to end, then fn runs once on the new owner', async () => {
  const key = 'watch-ask:{m}';
  const slot = keySlot(key);
  const from = await cluster.ownerOf(slot);
  const to = cluster.masters().find((m) => m.port !== from)!.port;
  const redis = client();
  await redis.db.reply('PING');
  for (const m of cluster.masters()) await cluster.call(m.port, 'CONFIG', 'RESETSTAT');
  const move = await cluster.moveSlot(slot, to, { stopAt: 'migrating' }); // the key exists nowhere: the source answers ASK
  let runs = 0;
  const watched = outcome(redis.db.watch([key], async (conn) => {
    runs++;
    const v = await conn.reply('GET', key);
    return conn.multi((tx) => { tx.command('SET', key, `${v ?? 'none'}+1`); });
  }));
  // Answered ASK at least once while the slot migrates (else this proves nothing), then the move ends.
  await until('the source answered the WATCH', async () => /cmdstat_watch:.*(failed_calls|rejected_calls)=[1-9]/.test(String(await cluster.call(from, 'INFO', 'commandstats'))));
  await move.finish();
  expect(await watched).toEqual(['OK']);
  expect(runs).toBe(1);
  expect(await redis.db.reply('GET', key)).toBe('none+1');
  expect(await cluster.ownerOf(slot)).toBe(to);
}, 60_000);
