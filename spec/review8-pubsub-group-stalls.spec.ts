/**
 * Review of f13d72c (a subscribe call over several cluster nodes is a
 * CallGroup: its parts stay undoable until every part settled, then each hub
 * keeps or undoes its part; Hub.undo replaces the undo by name).
 *
 * Two ways the group's undo goes wrong while one node is slow to answer
 * (held still with SIGSTOP, then let go with SIGCONT; a long
 * cluster-node-timeout keeps the cluster ok meanwhile):
 *
 * - a part that resolved and whose slot then moved to another node is
 *   followed there by a subscribe of its own (Member.moved, not a part of the
 *   group): when the group fails, Hub.undo finds nothing of it on the old
 *   node, and the channel the failed call alone asked for stays subscribed
 *   on the new one;
 * - the undo waits for the UNSUBSCRIBE with the client's commandTimeout, not
 *   the subscriber's deadline: with commandTimeout 0 a call past its own
 *   deadline waits for as long as the node does not answer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NoPermError } from '../lib/index.js';
import { keySlot } from '../lib/commands/slot.js';
import { tracked } from './support/outcome.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';
import { whileStopped } from './support/process-stop.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000 }), {
  start: { replicasPerMaster: 0, nodeTimeout: 60_000, extraArgs: ['--cluster-require-full-coverage', 'no'] },
  end: 'disconnect',
});

beforeAll(async () => {
  for (const node of cluster.nodes) {
    await cluster.call(node.port, 'ACL', 'SETUSER', 'r8g', 'on', '>pw', '~*', 'resetchannels', '&r8ok:*', '+@all');
  }
});

/** The node's process stops answering (its socket stays open) until `body` is done. */
function whileNodeStopped<T>(port: number, body: () => Promise<T>): Promise<T> {
  return whileStopped(cluster.node(port).pid!, body);
}

async function shardChannels(port: number): Promise<string[]> {
  return ((await cluster.call(port, 'PUBSUB', 'SHARDCHANNELS', 'r8ok:*')) as string[]).map(String).sort();
}

/** Slot `slot` (no keys in it) moves from the master on `from` to the one on `to`. */
async function moveEmptySlot(slot: number, from: number, to: number): Promise<void> {
  const fromId = cluster.node(from).id;
  const toId = cluster.node(to).id;
  await cluster.call(to, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
  await cluster.call(from, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
  await cluster.call(to, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId);
  await cluster.call(from, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId);
}

describe('an ssubscribe over several nodes that fails after a part of it resolved', () => {
  it('a resolved part whose slot moved to another node meanwhile is let go of there too', async () => {
    const [a, b, c] = cluster.masters();
    const ok = await keyOn(cluster, a!.port, 'r8ok:g1:a');
    const refused = await keyOn(cluster, b!.port, 'r8bad:g1');
    const warm = await keyOn(cluster, b!.port, 'r8ok:g1:warm');
    const redis = client({ username: 'r8g', password: 'pw' });
    const sub = redis.subscriber();
    await sub.ssubscribe(warm); // node b's pub/sub connection is up
    const call = await whileNodeStopped(b!.port, async () => {
      const call = tracked(sub.ssubscribe(ok, refused)); // node b's part waits while b is stopped
      await until('node a confirmed its part', async () => (await shardChannels(a!.port)).includes(ok));
      await moveEmptySlot(keySlot(ok), a!.port, c!.port);
      await redis.db.reply('GET', ok).catch(() => {}); // routing learns the move, if node a's sunsubscribe did not tell it
      await until('the subscriber followed its channel to node c', async () => (await shardChannels(c!.port)).includes(ok));
      expect(call.settled()).toBe(false);
      return call;
    });
    expect(await within('the call', call.result)).toBeInstanceOf(NoPermError); // node b refused its part
    // The call failed: what it alone asked for is let go of, wherever it went meanwhile.
    expect(sub.subscriptions.shardChannels).not.toContain(ok);
    await until('node c holds nothing for the failed call', async () => (await shardChannels(c!.port)).length === 0);
    expect(await shardChannels(a!.port)).toEqual([]);
  });
});

describe('an ssubscribe over several nodes with a deadline, the client without one (commandTimeout 0)', () => {
  it('settles although the node of its resolved part does not answer the undo', async () => {
    const [a, b] = cluster.masters();
    const ok = await keyOn(cluster, a!.port, 'r8ok:g2:a');
    const refused = await keyOn(cluster, b!.port, 'r8bad:g2');
    const warm = await keyOn(cluster, b!.port, 'r8ok:g2:warm');
    const redis = client({ username: 'r8g', password: 'pw', commandTimeout: 0 });
    const sub = redis.subscriber({ timeout: 4000 });
    await sub.ssubscribe(warm);
    // Node b holds its part back until node a, whose part resolved, stops answering; then refuses it.
    const call = await whileNodeStopped(b!.port, async () => {
      const call = tracked(sub.ssubscribe(ok, refused));
      await until('node a confirmed its part', async () => (await shardChannels(a!.port)).includes(ok));
      process.kill(cluster.node(a!.port).pid!, 'SIGSTOP');
      expect(call.settled()).toBe(false);
      return call;
    });
    try {
      // The call's deadline is 4 s: it settles within it (and its undo with it), whatever node a does.
      expect(await within('the call, while node a does not answer', call.result)).toBeInstanceOf(Error);
    } finally {
      process.kill(cluster.node(a!.port).pid!, 'SIGCONT');
    }
    await until('node a let go of the failed call\'s channel', async () => !(await shardChannels(a!.port)).includes(ok));
    expect(sub.subscriptions.shardChannels).toEqual([warm]);
  });
});
