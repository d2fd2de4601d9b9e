/**
 * The client-side cache and replicas on a real cluster (3 masters, 3
 * replicas, started for this file). A replica applies a write after its
 * master acknowledged it, and invalidates only then: what a lagging replica
 * answered must never be served to a read routed to the master after its
 * round trip there (a per-node handle on a replica read through the cache,
 * with the default `readFrom: 'master'`). And the reverse, with reads routed
 * to replicas (`readFrom`): those cached reads are as stale as the replica
 * (README "Client-side caching"), a master's handle is not.
 *
 * The lag is made, not waited for: the replica's link to its master is
 * broken (a wrong `masterauth`, then CLIENT KILL TYPE master: it cannot
 * reconnect) while the replica keeps serving reads; mending it lets the
 * replica catch up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Database, Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const env = useCluster({ commandTimeout: 5000 });
const { cluster } = env;

/** The master of `key`'s slot and its replica. */
async function shardOf(key: string): Promise<{ master: number; replica: number }> {
  const master = await cluster.ownerOf(keySlot(key));
  const replicas = cluster.replicas(master);
  expect(replicas).toHaveLength(1);
  return { master, replica: replicas[0]!.port };
}

async function linkStatus(replica: number): Promise<string | undefined> {
  return /^master_link_status:(\w+)/m.exec(String(await cluster.call(replica, 'INFO', 'replication')))?.[1];
}

/** The replica stays up and readable, but receives nothing more from its master. */
async function breakLink(replica: number): Promise<void> {
  await cluster.call(replica, 'CONFIG', 'SET', 'masterauth', 'not-the-password');
  await cluster.call(replica, 'CLIENT', 'KILL', 'TYPE', 'master');
  expect(await linkStatus(replica)).toBe('down');
}

const broken = new Set<number>();
async function mendLink(replica: number): Promise<void> {
  await cluster.call(replica, 'CONFIG', 'SET', 'masterauth', '');
  broken.delete(replica);
  const deadline = Date.now() + 15_000;
  while ((await linkStatus(replica)) !== 'up') {
    if (Date.now() > deadline) throw new Error(`the replica on ${replica} did not reconnect to its master`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(async () => {
  for (const port of [...broken]) await mendLink(port); // a failed test leaves the cluster whole for the next
});

/** Write on the master (another client), acknowledged by its replica. */
async function writeReplicated(master: number, key: string, value: string): Promise<void> {
  await cluster.call(master, 'SET', key, value);
  expect(await cluster.call(master, 'WAIT', 1, 0)).toBe(1);
}

/** `redis`'s per-node handle on the node listening on `port`. */
async function handleOn(redis: Redis, port: number): Promise<Database> {
  await redis.db.reply('PING'); // the slot map is in (no key read: no node tracks one for us yet)
  const node = redis.nodes().find((n) => n.address === `127.0.0.1:${port}`);
  if (node === undefined) throw new Error(`no node ${port} in the slot map`);
  return node.db;
}

/** Read `key` on `db` (uncached) until it answers `value`: the node has applied the write, and told us of it. */
async function until(db: Database, key: string, value: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await db.reply('GET', key)) !== value) {
    if (Date.now() > deadline) throw new Error(`${key} never read ${value}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a replica handle read through the cache, readFrom master', () => {
  it("what a lagging replica answered is never served to a master-routed read after its round trip to the master", async () => {
    const key = 'crh:{m}';
    const { master, replica } = await shardOf(key);
    await writeReplicated(master, key, 'v1');
    const reader = env.client({ cache: { maxEntries: 1000 } });
    const onReplica = await handleOn(reader, replica);
    const cached = reader.db.with({ cache: true });
    const cachedOnReplica = onReplica.with({ cache: true });

    expect(await cachedOnReplica.reply('GET', key)).toBe('v1'); // kept: the replica tracks it for us
    expect(await cachedOnReplica.reply('GET', key)).toBe('v1');

    broken.add(replica);
    await breakLink(replica);
    await cluster.call(master, 'SET', key, 'v2'); // acknowledged; the replica never hears of it
    expect(await onReplica.reply('GET', key)).toBe('v1'); // the replica lags

    expect(await reader.db.reply('GET', key)).toBe('v2'); // the round trip to the key's node (its master)
    expect(await cached.reply('GET', key)).toBe('v2'); // the guarantee: never the old value
    expect(await cached.reply('GET', key)).toBe('v2');

    // The replica's handle reads as stale as the replica, and no staler: it catches up, invalidates, and so do we.
    expect(await cachedOnReplica.reply('GET', key)).toBe('v1');
    await mendLink(replica);
    await until(onReplica, key, 'v2');
    expect(await cachedOnReplica.reply('GET', key)).toBe('v2');
    expect(await cached.reply('GET', key)).toBe('v2');
  });

  it("a master-routed read never shares a replica handle's read in flight", async () => {
    const key = 'crh:{f}';
    const { master, replica } = await shardOf(key);
    await writeReplicated(master, key, 'v1');
    const reader = env.client({ cache: { maxEntries: 1000 } });
    const onReplica = await handleOn(reader, replica);
    broken.add(replica);
    await breakLink(replica);
    await cluster.call(master, 'SET', key, 'v2');
    expect(await reader.db.reply('EXISTS', key)).toBe(1); // the round trip to the key's node (its master)
    // Issued together, nothing cached yet: the second would wait for the first's reply, were they one read.
    const fromReplica = onReplica.with({ cache: true }).reply('GET', key);
    const fromMaster = reader.db.with({ cache: true }).reply('GET', key);
    expect(await Promise.all([fromReplica, fromMaster])).toEqual(['v1', 'v2']);
    expect(reader.stats().cache?.misses).toBe(2);
  });
});

describe.each(['replica', 'prefer-replica'] as const)('reads routed to replicas (readFrom: %s)', (readFrom) => {
  it("cached reads are as stale as the replica; a master's handle reads the master's value", async () => {
    const key = `crh:{r-${readFrom}}`;
    const { master, replica } = await shardOf(key);
    await writeReplicated(master, key, 'v1');
    const reader = env.client({ cache: { maxEntries: 1000 }, cluster: { readFrom } });
    const onMaster = await handleOn(reader, master);
    const cached = reader.db.with({ cache: true });
    const cachedOnMaster = onMaster.with({ cache: true });

    expect(await cached.reply('GET', key)).toBe('v1'); // from the replica, kept
    broken.add(replica);
    await breakLink(replica);
    await cluster.call(master, 'SET', key, 'v2');

    expect(await reader.db.reply('GET', key)).toBe('v1'); // routed to the replica, which lags
    expect(await cached.reply('GET', key)).toBe('v1'); // as stale as the replica (documented)
    expect(await onMaster.reply('GET', key)).toBe('v2'); // a round trip to the master
    expect(await cachedOnMaster.reply('GET', key)).toBe('v2'); // never the replica's answer
    expect(await cachedOnMaster.reply('GET', key)).toBe('v2');

    await mendLink(replica);
    await until(reader.db, key, 'v2'); // the replica caught up: its invalidation came before this reply
    expect(await cached.reply('GET', key)).toBe('v2');
  });
});
