/**
 * A client lets go of the per-node units (and their pub/sub hubs) of masters
 * that failed over and left the slot map (a real 3+3 cluster, kill -9 and a
 * replica promoted). Kept, every failover in the client's life would add one
 * unit: a connection's bookkeeping, its blocking pool, its hub.
 *
 * Each failover runs in a function of its own: a Hub held in a register of a
 * frame still running (the test's own) would be kept alive by the test.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { type Message, type Redis } from '../lib/index.js';
import type { Hub } from '../lib/pubsub/hub.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { peekHubs } from './support/hub-peek.js';
import { until } from './support/until.js';
import { whileStopped } from './support/process-stop.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const { cluster, client } = useCluster(() => ({ commandTimeout: 4000, connectTimeout: 500 }), { end: 'disconnect' });
const peek = peekHubs();

/** A weak reference to the hub `redis` has for the node on `port` (it has one per node unit). */
function hubOn(redis: Redis, port: number): WeakRef<Hub> {
  const hub = peek.hubsOf(redis).find((h) => h.node.endsWith(`:${port}`));
  if (hub === undefined) throw new Error(`no unit for the node on ${port}`);
  return new WeakRef(hub);
}

/** The port of the node whose hub carries `redis`'s subscriptions (the only one with members: one subscriber, one node). */
function carrying(redis: Redis): number {
  const hubs = peek.hubsOf(redis).filter((h) => peek.members(h) > 0);
  expect(hubs.length).toBe(1);
  return Number(hubs[0]!.node.split(':').pop());
}

async function collected(redis: Redis, what: string, refs: WeakRef<Hub>[]): Promise<void> {
  peek.hubsOf(redis); // the peek remembers only the hubs the client has now
  await until(what, async () => {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    return refs.every((r) => r.deref() === undefined);
  });
}

/** Fail the master on `port` over (kill -9) and wait until `redis` routes no more to it; resolves with the promoted replica's port. */
async function failOver(redis: Redis, port: number): Promise<number> {
  const promoted = await cluster.failover(port);
  await until('the client dropped the old master from its map', () => !Object.keys(redis.stats().nodes ?? {}).some((a) => a.endsWith(`:${port}`)));
  return promoted;
}

it('the units of masters that failed over are let go of, failover after failover; subscriptions keep working', async () => {
  const redis = client();
  const publisher = client();
  await redis.db.reply('PING');
  const sub = redis.subscriber();
  const got: string[] = [];
  sub.on('message', (m: Message<string>) => got.push(m.message));
  await sub.subscribe('retain:chan');
  let port = carrying(redis);
  const shard = `{${await keyOn(cluster, port, 'retain')}}`; // a shard channel on the same master
  await sub.ssubscribe(shard);
  const left: WeakRef<Hub>[] = [];
  for (let round = 0; round < 3; round++) {
    left.push(hubOn(redis, port));
    const old = port;
    port = await failOver(redis, old);
    let n = 0;
    await until('messages on both kinds arrive again', async () => {
      n++;
      await publisher.db.reply('PUBLISH', 'retain:chan', `c${round}-${n}`);
      await publisher.db.reply('SPUBLISH', shard, `s${round}-${n}`);
      return got.some((g) => g.startsWith(`c${round}-`)) && got.some((g) => g.startsWith(`s${round}-`));
    });
    await cluster.restart(old); // back as a replica of the promoted one: the next round fails it back
    // Units of nodes the map names (masters; replicas only as seeds asked for the first map): none added per failover.
    expect(Object.keys(redis.stats().nodes ?? {}).length).toBeLessThanOrEqual(cluster.nodes.length);
    // The shard channel follows its slot; the channel hub moves only off a lost node: next round, fail over the shard's master.
    port = await cluster.ownerOf(Number((await cluster.call(port, 'CLUSTER', 'KEYSLOT', shard)) as number));
  }
  await collected(redis, 'the hubs of the masters that left are collected', left);
  expect(sub.subscriptions).toEqual({ channels: ['retain:chan'], patterns: [], shardChannels: [shard] });
}, 120_000);

it('a unit that served keyed commands is let go of when its master fails over, though only keyless commands follow', async () => {
  const redis = client();
  const port = cluster.masters()[1]!.port;
  const key = await keyOn(cluster, port, 'retain-keyed');
  await redis.db.reply('SET', key, 'v'); // routed by slot: that master's unit is looked up once per map (a cache)
  const old = hubOn(redis, port);
  try {
    await failOver(redis, port);
    await redis.db.reply('PING'); // keyless: any master, never by slot
    await collected(redis, 'the failed master unit is collected', [old]);
  } finally {
    await cluster.restart(port); // back as a replica: the next test needs every master with one
  }
}, 60_000);

it('the unit of a frozen master whose replica took over is let go of while it is still frozen', async () => {
  const redis = client({ cluster: { refreshInterval: 300 } }); // nothing else tells it: the frozen master's connection stays up
  await redis.db.reply('PING');
  const sub = redis.subscriber();
  await sub.subscribe('retain-frozen:chan');
  const port = carrying(redis);
  const key = await keyOn(cluster, port, 'retain-frozen');
  await sub.ssubscribe(`{${key}}`);
  await redis.db.reply('SET', key, 'v');
  const old = hubOn(redis, port);
  const replica = cluster.replicas(port)[0]!.port;
  await whileStopped(cluster.node(port).pid!, async () => {
    await cluster.call(replica, 'CLUSTER', 'FAILOVER', 'TAKEOVER');
    await until('the client dropped the frozen master from its map', () => !Object.keys(redis.stats().nodes ?? {}).some((a) => a.endsWith(`:${port}`)));
    await collected(redis, 'the frozen master unit is collected', [old]);
  });
  await cluster.waitOk(); // back as a replica of the one that took over
}, 60_000);
