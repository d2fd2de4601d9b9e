/**
 * A shard channel whose slot moved to another master is subscribed again
 * there; the old node's hub then holds nothing for its subscriber, and its
 * pub/sub connection must close as after any other last unsubscribe (the
 * subscriber is dropped without close(): nothing else would ever close it).
 * Before, the old hub kept the idle subscriber, and so the connection, until
 * that subscriber's next call.
 *
 * Two ways the client learns of the move (a real 3-master cluster):
 * - its slot map changes first (Hub.relocateShards): the old owner is frozen
 *   (SIGSTOP) before it hears of the move, the new map comes from the other
 *   masters (refreshInterval);
 * - the old owner tells it first: it drops the channel (`sunsubscribe`), the
 *   channel is asked for again there and answered MOVED (Hub.refuse).
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Message, Redis } from '../lib/index.js';
import { whileStopped } from './support/process-stop.js';
import { useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster(() => ({ commandTimeout: 30_000 }), { start: { replicasPerMaster: 0, nodeTimeout: 15_000 } });

/** The client's open pub/sub connections to the node at `port` (its hub there). */
function pubsubConnections(redis: Redis, port: number): number {
  return redis.stats().nodes?.[`127.0.0.1:${port}`]?.pubsub.connections ?? 0;
}

/** `channel`'s messages reach `sub` (published at the slot's owner, `port`). */
async function receives(sub: { on(e: 'message', l: (m: Message) => void): unknown }, port: number, channel: string): Promise<void> {
  const got: Message[] = [];
  sub.on('message', (m) => got.push(m));
  await until(`a message on ${channel}`, async () => {
    await cluster.call(port, 'SPUBLISH', channel, 'hi');
    return got.length > 0;
  });
  expect(got[0]).toEqual({ channel, message: 'hi', sharded: true });
}

describe('a shard channel moved to another master', () => {
  it('learnt from the slot map: the old node\'s idle pub/sub connection closes', async () => {
    const channel = 'idle-moved{map}';
    const slot = keySlot(Buffer.from(channel));
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    const third = cluster.masters().find((m) => m.port !== from && m.port !== to)!.port;
    const redis = client({ cluster: { refreshInterval: 200 } });
    const sub = redis.subscriber();
    await sub.ssubscribe(channel);
    expect(pubsubConnections(redis, from)).toBe(1);
    const move = await cluster.moveSlot(slot, to, { stopAt: 'migrating' });
    await whileStopped(cluster.node(from).pid!, async () => {
      // The old owner hears nothing of this while frozen: the client learns it from the others' map.
      await cluster.call(to, 'CLUSTER', 'SETSLOT', slot, 'NODE', cluster.node(to).id);
      await cluster.call(third, 'CLUSTER', 'SETSLOT', slot, 'NODE', cluster.node(to).id);
      await until('the channel is subscribed at the new owner', async () => {
        const n = await cluster.call(to, 'PUBSUB', 'SHARDNUMSUB', channel);
        return (n as unknown[])[1] === 1;
      });
    });
    await within('the move finished', move.finish(), 30_000);
    await until('the old node has no pub/sub connection of the client', () => pubsubConnections(redis, from) === 0);
    expect(redis.stats().pubsub).toMatchObject({ connections: 1, shardChannels: 1 });
    await receives(sub, to, channel);
    expect(sub.subscriptions.shardChannels).toEqual([channel]);
  }, 60_000);

  it('learnt from the old node (sunsubscribe, then MOVED): the old node\'s idle pub/sub connection closes', async () => {
    const channel = 'idle-moved{push}';
    const slot = keySlot(Buffer.from(channel));
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters().find((m) => m.port !== from)!.port;
    const redis = client();
    const sub = redis.subscriber();
    await sub.ssubscribe(channel);
    expect(pubsubConnections(redis, from)).toBe(1);
    await within('the move', cluster.moveSlot(slot, to), 30_000);
    await until('the channel is subscribed at the new owner', async () => {
      const n = await cluster.call(to, 'PUBSUB', 'SHARDNUMSUB', channel);
      return (n as unknown[])[1] === 1;
    });
    await until('the old node has no pub/sub connection of the client', () => pubsubConnections(redis, from) === 0);
    expect(redis.stats().pubsub).toMatchObject({ connections: 1, shardChannels: 1 });
    await receives(sub, to, channel);
    expect(sub.subscriptions.shardChannels).toEqual([channel]);
  }, 60_000);
});
