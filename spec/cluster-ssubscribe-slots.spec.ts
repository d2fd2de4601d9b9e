/**
 * One ssubscribe() / sunsubscribe() call naming shard channels of several
 * slots (a real 3-master cluster): the server takes the channels of one slot
 * per SSUBSCRIBE (else CROSSSLOT, even on one node), so the call is split by
 * slot, and it resolves once every channel is subscribed where its slot lives.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Message } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl] }), { start: { replicasPerMaster: 0 } });

/** `count` channel names in distinct slots served by the same master, and that master's port. */
async function channelsOnOneNode(count: number): Promise<string[]> {
  const byOwner = new Map<number, string[]>();
  for (let i = 0; i < 10_000; i++) {
    const name = `shard-slots:${i}`;
    const owner = await cluster.ownerOf(keySlot(name));
    const list = byOwner.get(owner) ?? [];
    if (list.every((n) => keySlot(n) !== keySlot(name))) list.push(name);
    byOwner.set(owner, list);
    if (list.length === count) return list;
  }
  throw new Error('not enough channels on one node');
}

describe('ssubscribe over several slots', () => {
  it('channels of several slots on one node, and on several nodes, in one call: every one subscribed, messages arrive', async () => {
    const redis = client();
    const sameNode = await channelsOnOneNode(3);
    const anywhere = ['shard-slots:a', 'shard-slots:b', 'shard-slots:c', 'shard-slots:d'];
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', (m: Message<string>) => got.push(m.channel));
    await sub.ssubscribe(...sameNode, ...anywhere);
    const all = [...sameNode, ...anywhere];
    await until('a message on every channel arrives', async () => {
      for (const ch of all) if (!got.includes(ch)) await redis.db.reply('SPUBLISH', ch, 'x');
      return all.every((ch) => got.includes(ch));
    });
    await sub.sunsubscribe(...all);
    expect(redis.stats().pubsub.shardChannels).toBe(0);
    await sub.close();
  });

  it('after its connection is cut, shard channels of several slots on one node are all subscribed again', async () => {
    const redis = client();
    const channels = await channelsOnOneNode(3);
    const node = await cluster.ownerOf(keySlot(channels[0]!));
    const sub = redis.subscriber();
    const got: string[] = [];
    const errors: Error[] = [];
    sub.on('message', (m: Message<string>) => got.push(`${m.channel}=${m.message}`));
    sub.on('error', (err: Error) => errors.push(err));
    for (const ch of channels) await sub.ssubscribe(ch); // one slot per call: accepted as they are
    const restored = new Promise<void>((resolve) => sub.once('ready', () => resolve()));
    await cluster.call(node, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    await restored;
    let n = 0;
    await until('a message on every channel arrives after the reconnect', async () => {
      n++;
      for (const ch of channels) await redis.db.reply('SPUBLISH', ch, `after-${n}`);
      return channels.every((ch) => got.some((g) => g.startsWith(`${ch}=after-`)));
    });
    expect(errors.filter((e) => /CROSSSLOT/.test(String(e)))).toEqual([]);
    // sunsubscribe() with no names: every shard channel of this subscriber, each slot its own SUNSUBSCRIBE.
    await sub.sunsubscribe();
    expect(redis.stats().pubsub.shardChannels).toBe(0);
    const left = String(await cluster.call(node, 'PUBSUB', 'SHARDNUMSUB', ...channels));
    expect(left).not.toMatch(/,1/);
    await sub.close();
  });
});


describe('SPUBLISH', () => {
  it('goes to the master of its shard channel\'s slot (the server marks the channel not_key, but it hashes to a slot): no other master sees it', async () => {
    const redis = client();
    const sub = redis.subscriber();
    const channels = ['spublish-route:a', 'spublish-route:b', 'spublish-route:c', 'spublish-route:{x}', 'spublish-route:{y}', 'spublish-route:{z}'];
    await sub.ssubscribe(...channels);
    for (const m of cluster.masters()) await cluster.call(m.port, 'CONFIG', 'RESETSTAT');
    for (const ch of channels) expect(await redis.db.reply('SPUBLISH', ch, 'x')).toBe(1);
    const seen: Record<string, string> = {};
    for (const m of cluster.masters()) {
      const stats = /^cmdstat_spublish:(.*)$/m.exec(String(await cluster.call(m.port, 'INFO', 'commandstats')))?.[1];
      if (stats !== undefined) seen[m.port] = stats;
    }
    // Each master that got one ran it: none was sent to a master that answered MOVED (rejected_calls).
    for (const [port, stats] of Object.entries(seen)) expect([port, /rejected_calls=(\d+)/.exec(stats)?.[1]]).toEqual([port, '0']);
    const owners = new Set(await Promise.all(channels.map((ch) => cluster.ownerOf(keySlot(ch)))));
    expect(Object.keys(seen).map(Number).sort()).toEqual([...owners].sort());
    await sub.close();
  });
});
