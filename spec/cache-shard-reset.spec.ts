/**
 * Client-side cache on a cluster (3 masters + 3 replicas for this file): what
 * one node's connection events cost the cache. A lost connection, a new one
 * or a FLUSHALL on one node drops the entries of that node's shard only; the
 * other shards' entries keep being served without a round trip. And what must
 * not change: a write made while that node's connection was down is never
 * answered from the cache afterwards.
 */
import { describe, expect, it } from 'vitest';
import type { Redis } from '../lib/index.js';
import { SlotMap } from '../lib/topology/cluster/slot-map.js';
import { shardSlots } from '../lib/topology/cluster/shard-tracking.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';

const env = useCluster({ commandTimeout: 5000 });
const { cluster } = env;

function reader(): Redis {
  return env.client({ cache: { maxEntries: 1000 } });
}

/** Cache hits and misses of `redis` so far. */
function counts(redis: Redis): { hits: number; misses: number } {
  const { hits, misses } = redis.stats().cache!;
  return { hits, misses };
}

describe('cache: one node at a time', () => {
  it("a node's lost connection drops its shard's entries only; the others are still hits", async () => {
    const r = reader();
    const cached = r.db.with({ cache: true });
    const [a, b, c] = await keysOnEachMaster(cluster, 'csr1');
    for (const { key, port } of [a!, b!, c!]) await cluster.call(port, 'SET', key, `v-${key}`);
    for (const { key } of [a!, b!, c!]) expect(await cached.reply('GET', key)).toBe(`v-${key}`);
    const warm = counts(r);
    for (const { key } of [a!, b!, c!]) expect(await cached.reply('GET', key)).toBe(`v-${key}`);
    expect(counts(r)).toEqual({ hits: warm.hits + 3, misses: warm.misses });

    // Cut this client's connection to a's master; a read-only EXISTS there is resent, so it returns once reconnected.
    await cluster.call(a!.port, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    expect(await r.db.reply('EXISTS', a!.key)).toBe(1);
    expect(r.stats().reconnects).toBeGreaterThan(0);

    const after = counts(r);
    expect(await cached.reply('GET', b!.key)).toBe(`v-${b!.key}`);
    expect(await cached.reply('GET', c!.key)).toBe(`v-${c!.key}`);
    expect(counts(r)).toEqual({ hits: after.hits + 2, misses: after.misses });
    expect(await cached.reply('GET', a!.key)).toBe(`v-${a!.key}`);
    expect(counts(r)).toEqual({ hits: after.hits + 2, misses: after.misses + 1 });
  });

  it('a write made while the connection to its node was down is read back, not the cached value', async () => {
    const r = reader();
    const cached = r.db.with({ cache: true });
    const [a, b] = await keysOnEachMaster(cluster, 'csr2');
    for (const { key, port } of [a!, b!]) await cluster.call(port, 'SET', key, 'old');
    for (let i = 0; i < 2; i++) for (const { key } of [a!, b!]) expect(await cached.reply('GET', key)).toBe('old');
    // Cut the connection and write before this client reconnects: no invalidation will ever reach it for that write.
    await cluster.call(a!.port, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await cluster.call(a!.port, 'SET', a!.key, 'new');
    // The guarantee's round trip to the key's node (here over the new connection).
    expect(await r.db.reply('EXISTS', a!.key)).toBe(1);
    expect(await cached.reply('GET', a!.key)).toBe('new');
    expect(await cached.reply('GET', b!.key)).toBe('old');
  });

  it('a FLUSHALL on one master drops that shard\'s entries only', async () => {
    const r = reader();
    const cached = r.db.with({ cache: true });
    const [a, b, c] = await keysOnEachMaster(cluster, 'csr3');
    for (const { key, port } of [a!, b!, c!]) await cluster.call(port, 'SET', key, 'kept');
    for (let i = 0; i < 2; i++) for (const { key } of [a!, b!, c!]) expect(await cached.reply('GET', key)).toBe('kept');
    await cluster.call(a!.port, 'FLUSHALL');
    // The server's null invalidation comes before the reply to anything sent to that node later.
    await r.db.reply('EXISTS', a!.key);
    const before = counts(r);
    expect(await cached.reply('GET', b!.key)).toBe('kept');
    expect(await cached.reply('GET', c!.key)).toBe('kept');
    expect(await cached.reply('GET', a!.key)).toBe(null);
    expect(counts(r)).toEqual({ hits: before.hits + 2, misses: before.misses + 1 });
  });
});

describe('shardSlots', () => {
  const map = SlotMap.build([
    { master: { host: 'h', port: 1 }, replicas: [{ host: 'h', port: 11 }], slots: [[0, 99], [200, 299]] },
    { master: { host: 'h', port: 2 }, slots: [[100, 199]] },
  ]);

  it("names every slot of a master's shard, and a replica's shard", () => {
    const first = [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 100 }, (_, i) => 200 + i)];
    expect(shardSlots(map, 'h', 1)).toEqual(first);
    expect(shardSlots(map, 'h', 11)).toEqual(first);
    expect(shardSlots(map, 'h', 2)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
  });

  it('is undefined for a node the map does not list (everything is then reset)', () => {
    expect(shardSlots(map, 'h', 3)).toBeUndefined();
    expect(shardSlots(SlotMap.EMPTY, 'h', 1)).toBeUndefined();
  });
});
