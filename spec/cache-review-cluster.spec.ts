/**
 * Client-side cache on a Redis Cluster, after an adversarial review (issue
 * 13): a cached miss (GET -> null, EXISTS -> 0) read from a slot's old owner
 * is never invalidated by the new owner (it never tracked it for us, and the
 * old one deletes nothing), so entries of a slot whose owner changed must go
 * when the client learns it: a MOVED, an ASK (the slot is being migrated), or
 * a slot map refresh. Also FLUSHALL on one node by another client.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Redis, RedisOptions } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const env = useCluster({ commandTimeout: 5000 });
const { cluster } = env;

function client(cache = true, opts: RedisOptions = {}): Redis {
  return env.client({ ...(cache ? { cache: { maxEntries: 10_000 } } : {}), ...opts });
}

/**
 * A caching client with its connection to every master up: a node's first
 * connection drops the cache's entries of that node's slots (or everything,
 * before the first slot map), which would hide what these specs look for.
 */
async function readerClient(opts: RedisOptions = {}): Promise<Redis> {
  const redis = client(true, opts);
  await redis.db.reply('DBSIZE'); // every master
  return redis;
}

/** A master other than the one serving `slot`. */
async function otherMaster(slot: number): Promise<number> {
  const from = await cluster.ownerOf(slot);
  return cluster.masters().find((m) => m.port !== from)!.port;
}

describe('cache review: cached misses of a slot that moves', () => {
  it('MOVED: after the round trip that meets the move, the write on the new owner is seen', async () => {
    const reader = await readerClient();
    const writer = client(false);
    const cached = reader.db.with({ cache: true });
    const key = 'ccrc:moved';
    const sibling = '{ccrc:moved}:other'; // same slot, read only through the cache
    expect(keySlot(sibling)).toBe(keySlot(key));
    await reader.db.reply('EXISTS', key); // the node's connection is up: what is read from now on is kept
    expect(await cached.reply('GET', key)).toBe(null);
    expect(await cached.reply('EXISTS', key)).toBe(0);
    expect(await cached.reply('GET', sibling)).toBe(null);
    expect(await cached.reply('GET', key)).toBe(null);
    expect(await cached.reply('EXISTS', key)).toBe(0);
    expect(await cached.reply('GET', sibling)).toBe(null);
    expect(reader.stats().cache!.hits).toBe(3); // the misses are cached
    const elsewhere = 'ccrc:stays'; // another slot: its entry outlives the move
    expect(keySlot(elsewhere)).not.toBe(keySlot(key));
    await writer.db.reply('SET', elsewhere, 'kept');
    expect(await cached.reply('GET', elsewhere)).toBe('kept');
    await cluster.moveSlot(keySlot(key), await otherMaster(keySlot(key)));
    await writer.db.reply('SET', key, 'now'); // on the new owner (after a MOVED)
    await writer.db.reply('SET', sibling, 'too');
    await reader.db.reply('EXISTS', key); // the reader's round trip for that slot: MOVED, then the new owner
    expect(await cached.reply('GET', key)).toBe('now');
    expect(await cached.reply('EXISTS', key)).toBe(1);
    expect(await cached.reply('GET', sibling)).toBe('too');
    const hits = reader.stats().cache!.hits;
    expect(await cached.reply('GET', elsewhere)).toBe('kept');
    expect(reader.stats().cache!.hits).toBe(hits + 1); // only the moved slot's entries went
    // The new owner tracks what it answered: its invalidations reach us.
    await writer.db.reply('SET', key, 'later');
    await reader.db.reply('EXISTS', key);
    expect(await cached.reply('GET', key)).toBe('later');
  });

  it('ASK: while the slot migrates, a key written at the importing node is seen after the reader meets the ASK', async () => {
    const reader = await readerClient();
    const writer = client(false);
    const cached = reader.db.with({ cache: true });
    const key = 'ccrc:asked';
    const slot = keySlot(key);
    await reader.db.reply('EXISTS', key);
    expect(await cached.reply('GET', key)).toBe(null);
    expect(await cached.reply('GET', key)).toBe(null);
    expect(reader.stats().cache!.hits).toBe(1);
    const move = await cluster.moveSlot(slot, await otherMaster(slot), { stopAt: 'migrating' });
    try {
      await writer.db.reply('SET', key, 'imported'); // the source has no such key: ASK, written at the target
      await reader.db.reply('EXISTS', key); // ASK for the reader too
      expect(await cached.reply('GET', key)).toBe('imported');
    } finally {
      await move.finish();
    }
    await reader.db.reply('EXISTS', key);
    expect(await cached.reply('GET', key)).toBe('imported');
    await writer.db.reply('SET', key, 'after');
    await reader.db.reply('EXISTS', key);
    expect(await cached.reply('GET', key)).toBe('after');
  });

  it('a slot map refresh that moves a slot drops its entries even without a MOVED', async () => {
    const reader = await readerClient({ cluster: { refreshInterval: 100 } });
    const writer = client(false);
    const cached = reader.db.with({ cache: true });
    const key = 'ccrc:refreshed';
    const slot = keySlot(key);
    const from = await cluster.ownerOf(slot);
    const to = await otherMaster(slot);
    await reader.db.reply('EXISTS', key);
    expect(await cached.reply('GET', key)).toBe(null);
    expect(await cached.reply('GET', key)).toBe(null);
    expect(reader.stats().cache!.hits).toBe(1);
    await cluster.moveSlot(slot, to); // every node agrees on the new owner when this resolves
    // The reader sends nothing meanwhile: only a periodic refresh can tell it
    // of the move, and the cached miss (its only entry) goes when one does.
    await until('a periodic refresh dropped the moved slot\'s cached miss', () => reader.stats().cache!.entries === 0);
    await writer.db.reply('SET', key, 'fresh');
    const oldOwner = () => Object.entries(reader.stats().nodes!).find(([address]) => address.endsWith(`:${from}`))?.[1].commands ?? 0;
    const before = oldOwner();
    await reader.db.reply('EXISTS', key); // a round trip for that slot
    expect(oldOwner()).toBe(before); // it went straight to the new owner: no MOVED was involved
    expect(await cached.reply('GET', key)).toBe('fresh');
  });

  it("FLUSHALL on one node by another client: that node's entries go (a null invalidation), the other nodes' stay", async () => {
    const reader = await readerClient();
    const cached = reader.db.with({ cache: true });
    const writer = client(false);
    const keys = Array.from({ length: 12 }, (_, i) => `ccrc:fl:${i}`);
    await Promise.all(keys.map((k) => writer.db.reply('SET', k, 'v')));
    expect(await Promise.all(keys.map((k) => cached.reply('GET', k)))).toEqual(keys.map(() => 'v'));
    expect(await Promise.all(keys.map((k) => cached.reply('GET', k)))).toEqual(keys.map(() => 'v'));
    expect(reader.stats().cache).toMatchObject({ hits: 12, entries: 12 });
    const node = await cluster.ownerOf(keySlot(keys[0]!));
    await cluster.call(node, 'FLUSHALL');
    await reader.db.reply('EXISTS', keys[0]!); // a round trip to that node
    // A null invalidation does not say which keys: every entry of that node's shard, none of the others.
    const owners = await Promise.all(keys.map((k) => cluster.ownerOf(keySlot(k))));
    const elsewhere = owners.filter((o) => o !== node).length;
    expect(elsewhere).toBeGreaterThan(0);
    expect(reader.stats().cache!.entries).toBe(elsewhere);
    expect(await cached.reply('GET', keys[0]!)).toBe(null);
    expect(await Promise.all(keys.map((k) => cached.reply('EXISTS', k)))).toEqual(await Promise.all(keys.map((k) => writer.db.reply('EXISTS', k))));
  });

  it('a cached MGET split over slots, aborted after its parts were written: sent: true, and the nodes stay paired', async () => {
    const reader = await readerClient();
    const writer = client(false);
    const keys = ['{ccrc:a}:x', '{ccrc:b}:x', '{ccrc:c}:x'];
    expect(new Set(await Promise.all(keys.map((k) => cluster.ownerOf(keySlot(k))))).size).toBeGreaterThan(1);
    await Promise.all(keys.map((k) => writer.db.reply('SET', k, k)));
    const slow = await cluster.ownerOf(keySlot(keys[0]!));
    const written = () => {
      const node = Object.entries(reader.stats().nodes!).find(([address]) => address.endsWith(`:${slow}`))?.[1];
      return node === undefined ? 0 : node.pending - node.queued; // handed to the socket, not answered
    };
    // The node holds the reader's shared connection until UNPAUSE, not for
    // some time: a write on it is postponed by the pause, and what follows it
    // on that connection (the MGET's part) waits behind it.
    await cluster.call(slow, 'CLIENT', 'PAUSE', 60_000, 'WRITE');
    let held: Promise<unknown> | undefined;
    try {
      held = reader.db.reply('SET', `${keys[0]!}:held`, 'x');
      await until('the held write is written', () => written() === 1);
      const ac = new AbortController();
      const read = reader.db.with({ cache: true, signal: ac.signal }).reply('MGET', ...keys).catch((e: unknown) => e);
      await until("the MGET's part is written behind it", () => written() === 2);
      ac.abort();
      expect(await read).toMatchObject({ name: 'AbortError', sent: true, command: 'MGET' });
    } finally {
      await cluster.call(slow, 'CLIENT', 'UNPAUSE');
    }
    expect(await held).toBe('OK');
    expect(await reader.db.reply('GET', keys[0]!)).toBe(keys[0]); // answered after the aborted part's reply
    expect(await reader.db.with({ cache: true }).reply('MGET', ...keys)).toEqual(keys);
  });
});
