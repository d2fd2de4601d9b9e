/**
 * Shard channels on a real cluster (one for this file).
 *
 * An ssubscribe naming channels of several nodes, one of them refused by
 * the ACL, is undone whole (README: "the whole call is undone"): the parts
 * other nodes confirmed used to stay subscribed behind the rejected call.
 *
 * An `ssubscribe` sent with a stale slot map is answered MOVED; its
 * subscriber makes the call again at the slot's owner after a short pause.
 * A `sunsubscribe` of that channel made during the pause must win (the user
 * let go of it last): it used to be subscribed again after the sunsubscribe
 * had resolved, and its messages kept coming.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ClosedError, NoPermError, type Message, type Subscriber } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000 }));

/** A master other than `port`. */
function otherMaster(port: number): number {
  return cluster.masters().find((m) => m.port !== port)!.port;
}

/**
 * Resolves in the first turn of the event loop in which `sub` holds no shard
 * channel (its call was answered MOVED and waits to be made again): a check
 * phase comes before the next timers phase, so this runs inside the pause.
 */
function whenLetGo(sub: Subscriber): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (sub.subscriptions.shardChannels.length === 0 ? resolve() : setImmediate(check));
    setImmediate(check);
  });
}

describe('an ssubscribe answered MOVED, then sunsubscribe before it is made again', () => {
  it('the channel stays let go of: nothing subscribed at the owner, no message', async () => {
    const redis = client();
    const channel = 'audit7{moved-unsub}';
    const slot = keySlot(Buffer.from(channel));
    await redis.db.reply('PING'); // the client knows the slot map
    const from = await cluster.ownerOf(slot);
    const to = otherMaster(from);
    await cluster.moveSlot(slot, to); // behind the client's back: the ssubscribe goes to `from`, answered MOVED

    const sub = redis.subscriber();
    const got: Message[] = [];
    sub.on('message', (m) => got.push(m));
    const subscribing = outcome(sub.ssubscribe(channel));
    expect(sub.subscriptions.shardChannels).toEqual([channel]);
    await within('the MOVED answer', whenLetGo(sub));
    await within('sunsubscribe', sub.sunsubscribe(channel));
    expect(await within('ssubscribe settles', subscribing)).toBeUndefined();
    // Whatever the ssubscribe would still do is done once a later call on the same node has been confirmed.
    await sub.ssubscribe(`audit7{moved-unsub}:later`);

    expect(sub.subscriptions.shardChannels).toEqual([`audit7{moved-unsub}:later`]);
    expect(await cluster.call(to, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 0]);
    await redis.db.reply('SPUBLISH', channel, 'unwanted');
    await redis.db.reply('SPUBLISH', `audit7{moved-unsub}:later`, 'wanted');
    await within('the later channel delivers', new Promise<void>((r) => sub.once('message', () => r())));
    expect(got.map((m) => m.message)).toEqual(['wanted']);
  }, 30_000);

  it('close() during the pause: the ssubscribe rejects with ClosedError, nothing is subscribed', async () => {
    const redis = client();
    const channel = 'audit7{moved-close}';
    const slot = keySlot(Buffer.from(channel));
    await redis.db.reply('PING');
    const from = await cluster.ownerOf(slot);
    const to = otherMaster(from);
    await cluster.moveSlot(slot, to);

    const sub = redis.subscriber();
    const subscribing = outcome(sub.ssubscribe(channel));
    await within('the MOVED answer', whenLetGo(sub));
    await within('close', sub.close());
    expect(await within('ssubscribe settles', subscribing)).toBeInstanceOf(ClosedError);
    expect(await cluster.call(to, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 0]);
  }, 30_000);
});

describe('an ssubscribe over several nodes, one channel refused', () => {
  it('rejects with NoPermError and leaves nothing subscribed on any node', async () => {
    for (const node of cluster.nodes) {
      await cluster.call(node.port, 'ACL', 'SETUSER', 'cl7', 'on', '>pw', '~*', 'resetchannels', '&cl7ok:*', '+@all');
    }
    const [a, b] = cluster.masters();
    const okA = await keyOn(cluster, a!.port, 'cl7ok:a');
    const okB = await keyOn(cluster, b!.port, 'cl7ok:b');
    const bad = await keyOn(cluster, b!.port, 'cl7bad');
    const redis = client({ username: 'cl7', password: 'pw' });
    const sub = redis.subscriber();
    expect(await within('ssubscribe settles', outcome(sub.ssubscribe(okA, okB, bad)))).toBeInstanceOf(NoPermError);
    expect(sub.subscriptions.shardChannels).toEqual([]);
    const held = async () => Number(((await cluster.call(a!.port, 'PUBSUB', 'SHARDNUMSUB', okA)) as unknown[])[1]) + Number(((await cluster.call(b!.port, 'PUBSUB', 'SHARDNUMSUB', okB)) as unknown[])[1]);
    await until('nothing subscribed on either node', async () => (await held()) === 0);
    expect(redis.stats().pubsub.shardChannels).toBe(0);
  }, 30_000);
});
