/**
 * Client-side cache on a cluster (3 masters + 3 replicas), after a review of
 * the per-shard reset (a node's lost or new connection, or a null
 * invalidation from it, drops the entries of the slots its shard serves in
 * the current slot map, spec/cache-shard-reset.spec.ts). What the current map
 * says a node serves is not always what was read through it:
 *  - a replica moved to another shard (CLUSTER REPLICATE) answered reads of
 *    its old shard's slots; no master changed, and its full sync's FLUSHALL
 *    may arrive once the map already places it in the new shard; before the
 *    map says so, reading there meets a MOVED to the master the map already
 *    names (the map does not change, and nothing was dropped);
 *  - a replica promoted and learnt from a MOVED is listed twice in the map
 *    (still a replica of its old shard, and master of the moved slot).
 * And what the fixes must not cost: a replica gone from the map moves its
 * shard's slots, which drops that shard's entries, not the whole cache.
 */
import { describe, expect, it } from 'vitest';
import type { Redis } from '../lib/index.js';
import { SlotMap } from '../lib/topology/cluster/slot-map.js';
import { shardSlots } from '../lib/topology/cluster/shard-tracking.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';

const env = useCluster({ commandTimeout: 5000 });
const { cluster } = env;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` every 50 ms until it is true, for at most `ms`. */
async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

describe("cache review: readFrom 'replica', a replica that changes shard", () => {
  /**
   * A caching client reading from replicas, with `a.key` cached from a's
   * replica; then that replica is moved to b's shard (b delays its full syncs
   * by 5 s, so the replica's flush comes well after the client's map moved
   * it), and `check` runs once the client's map places it in b's shard (or at
   * once, with `mapped` false).
   */
  async function replicaMoved(prefix: string, mapped: boolean, check: (ctx: { r: Redis; a: string; aPort: number; b: string; replica: number; readsOn: (port: number) => number }) => Promise<void>): Promise<void> {
    const r = env.client({ cache: { maxEntries: 1000 }, cluster: { readFrom: 'replica', refreshInterval: 100 } });
    const cached = r.db.with({ cache: true });
    const [a, b, c] = await keysOnEachMaster(cluster, prefix);
    const replica = cluster.replicas(a!.port)[0]!.port;
    // Every node's connection up first: a new one drops entries too, which would hide what this looks for.
    await r.db.reply('DBSIZE');
    for (const { key } of [a!, b!, c!]) await r.db.reply('EXISTS', key);
    const readsOn = (port: number) => r.stats().nodes?.[`127.0.0.1:${port}/ro`]?.commands ?? 0;
    await cluster.call(a!.port, 'SET', a!.key, 'old');
    expect(await cluster.call(a!.port, 'WAIT', 1, 5000)).toBe(1);
    // Cached from a's replica (its connection's first read is not kept: the connection was new).
    await until('a hit for the key', 5000, async () => {
      const hits = r.stats().cache!.hits;
      expect(await cached.reply('GET', a!.key)).toBe('old');
      return r.stats().cache!.hits > hits;
    });
    expect(readsOn(replica)).toBeGreaterThan(0);

    await cluster.call(b!.port, 'CONFIG', 'SET', 'repl-diskless-sync-delay', '5');
    try {
      await cluster.call(replica, 'CLUSTER', 'REPLICATE', cluster.node(b!.port).id);
      // The client's map has the replica in b's shard once b's reads reach it.
      if (mapped) await until("the client's map placing the replica in b's shard", 15_000, async () => {
        const before = readsOn(replica);
        for (let i = 0; i < 4; i++) await r.db.reply('EXISTS', b!.key);
        return readsOn(replica) > before;
      });
      await check({ r, a: a!.key, aPort: a!.port, b: b!.key, replica, readsOn });
    } finally {
      await cluster.call(b!.port, 'CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
      await cluster.call(replica, 'CLUSTER', 'REPLICATE', cluster.node(a!.port).id);
      await until('the replica back in sync with a', 20_000, async () => {
        const info = String(await cluster.call(replica, 'INFO', 'replication'));
        return info.includes(`master_port:${a!.port}`) && info.includes('master_link_status:up');
      });
      await cluster.waitOk();
    }
  }

  it("once the map moved it (before its full sync): a write in its old shard is read back after a round trip to the key's node", async () => {
    await replicaMoved('csrr1', true, async ({ r, a, aPort }) => {
      await cluster.call(aPort, 'SET', a, 'new');
      // The round trip to the key's node: a's master (a has no replica left).
      expect(await r.db.reply('EXISTS', a)).toBe(1);
      expect(await r.db.with({ cache: true }).reply('GET', a)).toBe('new');
    });
  }, 60_000);

  it('its full sync (a FLUSHALL there) seen while the map places it in its new shard: its old shard\'s entries go too', async () => {
    await replicaMoved('csrr2', true, async ({ r, a, aPort, b, replica, readsOn }) => {
      await until('the replica synced with b', 20_000, async () => {
        const info = String(await cluster.call(replica, 'INFO', 'replication'));
        return info.includes('master_link_status:up') && !info.includes(`master_port:${aPort}`);
      });
      // A read through the replica's connection: its null invalidation, sent before, is handled.
      await until("a read on the replica's connection", 5000, async () => {
        const before = readsOn(replica);
        await r.db.reply('EXISTS', b);
        return readsOn(replica) > before;
      });
      await cluster.call(aPort, 'SET', a, 'new');
      expect(await r.db.reply('EXISTS', a)).toBe(1);
      expect(await r.db.with({ cache: true }).reply('GET', a)).toBe('new');
    });
  }, 60_000);

  it("before the map moves it: the round trip meets its MOVED (to a's master), and a's write is read back", async () => {
    await replicaMoved('csrr3', false, async ({ r, a, aPort, replica, readsOn }) => {
      await cluster.call(aPort, 'SET', a, 'new');
      // The client's map still sends a's reads to that replica, which no longer serves a's slots: MOVED to a's master.
      const before = readsOn(replica);
      expect(await r.db.reply('EXISTS', a)).toBe(1);
      expect(readsOn(replica)).toBeGreaterThan(before);
      expect(await r.db.with({ cache: true }).reply('GET', a)).toBe('new');
    });
  }, 60_000);
});

describe('shardSlots: a node the map lists in two shards', () => {
  const map = SlotMap.build([
    { master: { host: 'h', port: 1 }, replicas: [{ host: 'h', port: 11 }], slots: [[0, 99]] },
    { master: { host: 'h', port: 2 }, slots: [[100, 199]] },
  ]);

  it('a replica promoted and learnt from a MOVED: its events cover the slot it now serves as master too', () => {
    const moved = map.withMoved(50, 'h', 11); // h:11 is still listed as h:1's replica, and masters slot 50
    const slots = shardSlots(moved, 'h', 11);
    expect(slots).toContain(50);
    expect(slots).toContain(0);
    expect(shardSlots(moved, 'h', 1)).not.toContain(50);
  });
});

describe('SlotMap.slotsMovedFrom: a replica that leaves a shard', () => {
  const before = SlotMap.build([
    { master: { host: 'h', port: 1 }, replicas: [{ host: 'h', port: 11 }], slots: [[0, 99]] },
    { master: { host: 'h', port: 2 }, replicas: [{ host: 'h', port: 12 }], slots: [[100, 199]] },
  ]);
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

  it("moves its old shard's slots (what it answered there is no longer kept fresh), not the new shard's", () => {
    const after = SlotMap.build([
      { master: { host: 'h', port: 1 }, slots: [[0, 99]] },
      { master: { host: 'h', port: 2 }, replicas: [{ host: 'h', port: 11 }, { host: 'h', port: 12 }], slots: [[100, 199]] },
    ]);
    expect(after.slotsMovedFrom(before)).toEqual(range(0, 99));
  });

  it('a replica gone from the map moves its shard; one joining moves nothing; the same map moves nothing', () => {
    const gone = SlotMap.build([
      { master: { host: 'h', port: 1 }, replicas: [{ host: 'h', port: 11 }], slots: [[0, 99]] },
      { master: { host: 'h', port: 2 }, slots: [[100, 199]] },
    ]);
    expect(gone.slotsMovedFrom(before)).toEqual(range(100, 199));
    expect(before.slotsMovedFrom(gone)).toEqual([]);
    expect(before.slotsMovedFrom(before)).toEqual([]);
  });

  it('still moves the slots whose master changed, and those that gain or lose an owner', () => {
    const after = SlotMap.build([
      { master: { host: 'h', port: 11 }, replicas: [{ host: 'h', port: 1 }], slots: [[0, 99]] },
      { master: { host: 'h', port: 2 }, replicas: [{ host: 'h', port: 12 }], slots: [[100, 149]] },
    ]);
    expect(after.slotsMovedFrom(before)).toEqual([...range(0, 99), ...range(150, 199)]);
    expect(before.slotsMovedFrom(SlotMap.EMPTY)).toEqual(range(0, 199));
  });
});

describe('cache review: a replica gone from the slot map (readFrom master)', () => {
  it("drops its shard's entries only: the other shards' entries stay hits", async () => {
    const r = env.client({ cache: { maxEntries: 1000 }, cluster: { refreshInterval: 100 } });
    const cached = r.db.with({ cache: true });
    const [a, b, c] = await keysOnEachMaster(cluster, 'csrr4');
    await r.db.reply('DBSIZE'); // every master's connection up: a new one drops its shard's entries
    for (const { key, port } of [a!, b!, c!]) await cluster.call(port, 'SET', key, `v-${key}`);
    for (let i = 0; i < 2; i++) for (const { key } of [a!, b!, c!]) expect(await cached.reply('GET', key)).toBe(`v-${key}`);
    const replica = cluster.replicas(a!.port)[0]!.port;
    await cluster.kill(replica);
    try {
      // Marked failed by the cluster, then left out of the client's map (its shard lost a replica: a's slots move).
      await until("the client's map without the replica", 20_000, async () => !r.nodes('replica').some((n) => n.address.endsWith(`:${replica}`)));
      const { hits, misses } = r.stats().cache!;
      expect(await cached.reply('GET', b!.key)).toBe(`v-${b!.key}`);
      expect(await cached.reply('GET', c!.key)).toBe(`v-${c!.key}`);
      expect(r.stats().cache).toMatchObject({ hits: hits + 2, misses });
      expect(await cached.reply('GET', a!.key)).toBe(`v-${a!.key}`);
      expect(r.stats().cache).toMatchObject({ hits: hits + 2, misses: misses + 1 });
    } finally {
      await cluster.restart(replica);
    }
  }, 60_000);
});
