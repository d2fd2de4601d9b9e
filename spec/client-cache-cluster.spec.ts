/**
 * Client-side caching on a Redis Cluster (3 masters, 3 replicas, started for
 * this file): tracking on every node's shared connection, invalidations from
 * each node, hits that reach no node, split MGET, the writer/reader guarantee
 * per node, and a slot migration (the old owner deletes the key: its
 * invalidation reaches us).
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const env = useCluster({ commandTimeout: 5000 });
const { cluster } = env;

function client(cache = true): Redis {
  return env.client(cache ? { cache: { maxEntries: 10_000 } } : {});
}

/** GET calls on every master (INFO commandstats). */
async function gets(): Promise<number> {
  let n = 0;
  for (const m of cluster.masters()) {
    const info = String(await cluster.call(m.port, 'INFO', 'commandstats'));
    n += Number(/^cmdstat_get:calls=(\d+)/m.exec(info)?.[1] ?? 0);
  }
  return n;
}

describe('client-side cache on a cluster', () => {
  it('caches reads from every node; hits reach no node; each node invalidates its keys', async () => {
    const reader = client();
    const writer = client(false);
    const cached = reader.db.with({ cache: true });
    const keys = Array.from({ length: 30 }, (_, i) => `ccc:${i}`);
    // Keys on every master.
    expect(new Set(await Promise.all(keys.map((k) => cluster.ownerOf(keySlot(k))))).size).toBe(3);
    await Promise.all(keys.map((k) => writer.db.reply('SET', k, 'v1')));
    expect(await Promise.all(keys.map((k) => cached.reply('GET', k)))).toEqual(keys.map(() => 'v1'));
    const before = await gets();
    for (let i = 0; i < 3; i++) expect(await Promise.all(keys.map((k) => cached.reply('GET', k)))).toEqual(keys.map(() => 'v1'));
    expect(await gets()).toBe(before);
    await Promise.all(keys.map((k) => writer.db.reply('SET', k, 'v2')));
    await Promise.all(keys.map((k) => reader.db.reply('EXISTS', k))); // a round trip to each key's node
    expect(await Promise.all(keys.map((k) => cached.reply('GET', k)))).toEqual(keys.map(() => 'v2'));
    // MGET across slots: split, merged, cached whole, invalidated by any of its keys.
    expect(await cached.reply('MGET', keys[0]!, keys[1]!, keys[2]!)).toEqual(['v2', 'v2', 'v2']);
    expect(await cached.reply('MGET', keys[0]!, keys[1]!, keys[2]!)).toEqual(['v2', 'v2', 'v2']);
    await writer.db.reply('SET', keys[2]!, 'v3');
    await reader.db.reply('EXISTS', keys[2]!);
    expect(await cached.reply('MGET', keys[0]!, keys[1]!, keys[2]!)).toEqual(['v2', 'v2', 'v3']);
  });

  it('the guarantee holds per node: after a round trip to the key\'s node, never the old value', async () => {
    const reader = client();
    const writer = client(false);
    const cached = reader.db.with({ cache: true });
    const keys = ['{a}ccg', '{b}ccg', '{c}ccg'];
    for (const k of keys) await writer.db.reply('SET', k, 0);
    const acked = new Map(keys.map((k) => [k, 0]));
    let done = false;
    const violations: string[] = [];
    const write = async () => {
      for (let i = 1; i <= 1500; i++) {
        const k = keys[i % keys.length]!;
        await writer.db.reply('SET', k, i);
        acked.set(k, i);
      }
      done = true;
    };
    const read = async () => {
      let n = 0;
      while (!done) {
        const k = keys[n++ % keys.length]!;
        const floor = acked.get(k)!;
        await reader.db.reply('EXISTS', k); // the round trip, to the key's node
        const v = Number(await cached.reply('GET', k));
        if (v < floor) violations.push(`${k}: ${v} < ${floor}`);
        await cached.reply('GET', k);
      }
    };
    await Promise.all([write(), read(), read()]);
    expect(violations).toEqual([]);
    expect(reader.stats().cache!.hits).toBeGreaterThan(100);
  }, 60_000);

  it('a slot migrated away: the old owner deletes the key and invalidates it; the read follows MOVED', async () => {
    const reader = client();
    const writer = client(false);
    const cached = reader.db.with({ cache: true });
    const key = 'ccm:moving';
    const slot = keySlot(key);
    await writer.db.reply('SET', key, 'here');
    expect(await cached.reply('GET', key)).toBe('here');
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    await cluster.moveSlot(slot, to);
    await writer.db.reply('SET', key, 'there'); // follows MOVED to the new owner
    await reader.db.reply('EXISTS', key); // a round trip (MOVED, then the new owner)
    expect(await cached.reply('GET', key)).toBe('there');
    expect(await cached.reply('GET', key)).toBe('there');
    await writer.db.reply('SET', key, 'again');
    await reader.db.reply('EXISTS', key);
    expect(await cached.reply('GET', key)).toBe('again');
  });
});
