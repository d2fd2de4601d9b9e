/**
 * A db.watch whose slot moves to another master while fn runs: the block fn
 * then sends through conn.multi is refused at queue time with MOVED (EXECABORT:
 * nothing ran). It was sent again on the same connection, to the node that no
 * longer serves the slot, until the resends were spent, and failed with
 * ExecAbortError although MOVED is handled internally. The watch cannot go on
 * there (its keys live elsewhere now), so the block ends as one whose watched
 * key changed: null, every handle null, and with `retries` fn runs again on
 * a fresh WATCH, which MOVED takes to the new owner.
 */
import { expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 15_000 }, { start: { replicasPerMaster: 0 } });

it('conn.multi refused MOVED resolves null; with retries fn runs again on the new owner and commits', async () => {
  const key = 'watch-moved:{w}';
  const slot = keySlot(key);
  const from = await cluster.ownerOf(slot);
  const to = cluster.masters().find((m) => m.port !== from)!.port;
  const redis = client();
  await redis.db.reply('SET', key, '1');
  const blocks: unknown[] = [];
  const result = await redis.db.watch([key], async (conn) => {
    const v = await conn.reply('GET', key);
    if (blocks.length === 0) await cluster.moveSlot(slot, to); // the first run: the slot moves under the watch
    const block = await conn.multi((tx) => { tx.command('SET', key, Number(v) + 1); });
    blocks.push(block);
    return block;
  }, { retries: 2 });
  expect(blocks).toEqual([null, ['OK']]);
  expect(result).toEqual(['OK']);
  expect(await redis.db.reply('GET', key)).toBe('2');
  expect(await cluster.ownerOf(slot)).toBe(to);
}, 60_000);
