/**
 * A blocking command whose slot is being migrated (a real 3+3 cluster,
 * started once for this file): the source answers ASK when the key is not
 * there, and the command must go to the importing node with ASKING before it,
 * on a leased connection (never on the shared socket, which it would block).
 * What a worker looping on BLPOP relies on during a resharding: it keeps
 * getting its jobs, pushed by other clients to the importing node, and its
 * own timeout still answers null.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { blockedInList } from './support/blocked-clients.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000, cluster: { refreshInterval: 0 } }));

/** A master other than `port`. */
function otherMaster(port: number): number {
  return cluster.masters().find((m) => m.port !== port)!.port;
}

/** Resolves once the node on `port` has a client blocked in `command` (CLIENT LIST), within the shared bound. */
async function blockedOn(port: number, command: string): Promise<void> {
  await until(`a client blocked in ${command} on ${port}`, async () => blockedInList(String(await cluster.call(port, 'CLIENT', 'LIST')), command) > 0);
}

describe('a blocking command meeting ASK', () => {
  it('blocks on the importing node (ASKING first, on a lease) and gets what is pushed there', async () => {
    const redis = client();
    const key = 'jobs{bask-1}';
    const slot = keySlot(key);
    await redis.db.reply('PING');
    const from = await cluster.ownerOf(slot);
    const to = otherMaster(from);
    const move = await cluster.moveSlot(slot, to, { stopAt: 'migrating' });
    try {
      // The key exists nowhere: the source answers ASK, the importing node takes it with ASKING.
      const popped = redis.db.reply('BLPOP', key, 5);
      popped.catch(() => {}); // awaited below; observed now so that a failure fails the test, not the run
      await blockedOn(to, 'blpop');
      // Another client's push follows the same ASK to the importing node, where the key now lives.
      expect(await redis.db.reply('RPUSH', key, 'job-1')).toBe(1);
      expect(await popped).toEqual([key, 'job-1']);
      // The shared connection was never blocked meanwhile.
      expect(await redis.db.reply('PING')).toBe('PONG');
    } finally {
      await move.finish();
    }
  });

  it("its own timeout still answers null while the slot is migrating", async () => {
    const redis = client();
    const key = 'jobs{bask-2}';
    const slot = keySlot(key);
    await redis.db.reply('PING');
    const from = await cluster.ownerOf(slot);
    const move = await cluster.moveSlot(slot, otherMaster(from), { stopAt: 'migrating' });
    try {
      expect(await redis.db.reply('BLPOP', key, 0.2)).toBeNull();
      // The lease came back clean and serves the next blocking call.
      await redis.db.reply('RPUSH', key, 'job-2');
      expect(await redis.db.reply('BLPOP', key, 1)).toEqual([key, 'job-2']);
    } finally {
      await move.finish();
    }
  });

  it('a migration called off while it blocks there: the importing node answers MOVED, it follows to the source', async () => {
    const redis = client();
    const key = 'jobs{bask-4}';
    const slot = keySlot(key);
    await redis.db.reply('PING');
    const from = await cluster.ownerOf(slot);
    const to = otherMaster(from);
    await cluster.moveSlot(slot, to, { stopAt: 'migrating' });
    const popped = redis.db.reply('BLPOP', key, 0); // blocks until a job comes, wherever the slot goes
    popped.catch(() => {});
    await blockedOn(to, 'blpop');
    // Called off: neither node is migrating any more; the source still owns the slot.
    await cluster.call(to, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    await cluster.call(from, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    // The importing node unblocks it with MOVED (its cron checks blocked clients); it blocks at the source again.
    await blockedOn(from, 'blpop');
    await cluster.call(from, 'RPUSH', key, 'job-4');
    expect(await popped).toEqual([key, 'job-4']);
  });

  it('a key still at the source is popped there, without ASK', async () => {
    const redis = client();
    const key = 'jobs{bask-3}';
    const slot = keySlot(key);
    await redis.db.reply('RPUSH', key, 'job-3');
    const from = await cluster.ownerOf(slot);
    const move = await cluster.moveSlot(slot, otherMaster(from), { stopAt: 'migrating' });
    try {
      expect(await redis.db.reply('BLPOP', key, 1)).toEqual([key, 'job-3']);
    } finally {
      await move.finish();
    }
  });
});
