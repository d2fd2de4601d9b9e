/**
 * What a user keeps while the cluster moves under them (a real 3+3 cluster,
 * started once for this file; tests change the topology and run in order):
 *  - a shard channel subscription (SSUBSCRIBE) follows its slot: migrated to
 *    another master (the server pushes `sunsubscribe`), or its master killed
 *    and a replica promoted; the subscriber sees no error and keeps receiving;
 *  - the node the client was given as its only seed dies: the client keeps
 *    working from the slot map it learned, and a new client given that dead
 *    seed plus a live one still connects.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Message, Redis, Subscriber } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

// Clients seeded with the first node only; disconnected after each test (what waits on a dead node fails at once).
const { cluster, client } = useCluster(
  (c) => ({ nodes: [c.seedUrl], commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 } }),
  { end: 'disconnect' },
);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Publish `prefix-N` on `channel` (SPUBLISH through `redis`, routed to the
 * slot's owner) every 20 ms until the subscriber received one published after
 * this call started, or `within` ms passed. Resolves with what arrived.
 */
async function deliveredAfter(redis: Redis, channel: string, got: string[], prefix: string, within = 15_000): Promise<string | undefined> {
  const end = Date.now() + within;
  for (let n = 0; Date.now() < end; n++) {
    await redis.db.reply('SPUBLISH', channel, `${prefix}-${n}`).catch(() => 0);
    const hit = got.find((m) => m.startsWith(`${prefix}-`));
    if (hit !== undefined) return hit;
    await sleep(20);
  }
  return undefined;
}

function collect(sub: Subscriber): { got: string[]; errors: Error[] } {
  const got: string[] = [];
  const errors: Error[] = [];
  sub.on('message', (m: Message<string>) => got.push(m.message));
  sub.on('error', (err: Error) => errors.push(err));
  return { got, errors };
}

/** A master other than `port`. */
function otherMaster(port: number): number {
  return cluster.masters().find((m) => m.port !== port)!.port;
}

describe('shard channel subscriptions follow their slot', () => {
  it('a slot migrated to another master: the subscription is made again there, the subscriber sees nothing', async () => {
    const redis = client();
    const channel = 'moves{ssub-migrate}';
    const slot = keySlot(Buffer.from(channel));
    const sub = redis.subscriber();
    const { got, errors } = collect(sub);
    await sub.ssubscribe(channel);
    expect(await deliveredAfter(redis, channel, got, 'before')).toBeDefined();

    const from = await cluster.ownerOf(slot);
    const to = otherMaster(from);
    await cluster.moveSlot(slot, to);
    expect(await cluster.ownerOf(slot)).toBe(to);

    // Published at the new owner: it reaches the subscriber only if it subscribed there.
    expect(await deliveredAfter(redis, channel, got, 'after')).toBeDefined();
    expect(errors).toEqual([]);
    expect(sub.subscriptions).toMatchObject({ shardChannels: [channel] });
    // The new owner has the subscription; the old one does not.
    expect(await cluster.call(to, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
    expect(await cluster.call(from, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 0]);
    await sub.close();
  }, 40_000);

  it('a subscribe sent with a stale slot map (MOVED) lands on the slot owner', async () => {
    const redis = client();
    const channel = 'moves{ssub-stale}';
    const slot = keySlot(Buffer.from(channel));
    await redis.db.reply('PING'); // the client knows the slot map
    const from = await cluster.ownerOf(slot);
    await cluster.moveSlot(slot, otherMaster(from)); // behind the client's back
    const sub = redis.subscriber();
    const { got, errors } = collect(sub);
    await sub.ssubscribe(channel);
    expect(await deliveredAfter(redis, channel, got, 'stale')).toBeDefined();
    expect(errors).toEqual([]);
    await sub.close();
  }, 40_000);

  it('its master killed and a replica promoted: the subscription is made again at the new master', async () => {
    const redis = client();
    const channel = 'moves{ssub-failover}';
    const slot = keySlot(Buffer.from(channel));
    const sub = redis.subscriber();
    const { got, errors } = collect(sub);
    await sub.ssubscribe(channel);
    expect(await deliveredAfter(redis, channel, got, 'before')).toBeDefined();

    const owner = await cluster.ownerOf(slot);
    const promoted = await cluster.failover(owner);
    expect(await deliveredAfter(redis, channel, got, 'after', 20_000)).toBeDefined();
    expect(await cluster.call(promoted, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
    // Connection errors of the dead node may be reported; no subscription was dropped.
    expect(errors.filter((e) => !/connect|lost|ECONNREFUSED/i.test(e.message))).toEqual([]);
    await sub.close();
    await cluster.restart(owner);
  }, 60_000);
});

describe('losing the seed node', () => {
  it('the only seed dies: the client keeps serving every slot from the map it learned', async () => {
    const seedPort = Number(new URL(cluster.seedUrl).port);
    const redis = client({ nodes: [cluster.seedUrl] });
    const keys = Array.from({ length: 200 }, (_, i) => `seedloss:${i}`);
    await Promise.all(keys.map((k, i) => redis.db.reply('SET', k, String(i))));

    const seedWasMaster = cluster.masters().some((m) => m.port === seedPort);
    if (seedWasMaster) await cluster.failover(seedPort);
    else await cluster.kill(seedPort);

    const values = await Promise.all(keys.map((k) => redis.db.reply('GET', k)));
    expect(values).toEqual(keys.map((_, i) => String(i)));
    await cluster.restart(seedPort);
  }, 60_000);

  it('a new client given a dead seed first and a live one second connects through the live one', async () => {
    const dead = cluster.replicas()[0]!.port;
    const live = cluster.masters()[0]!.port;
    await cluster.kill(dead);
    try {
      const redis = client({ nodes: [`redis://127.0.0.1:${dead}`, `redis://127.0.0.1:${live}`] });
      await redis.db.reply('SET', 'seedloss:new', 'v');
      expect(await redis.db.reply('GET', 'seedloss:new')).toBe('v');
    } finally {
      await cluster.restart(dead);
    }
  }, 60_000);
});

describe('reads from replicas when a replica dies', () => {
  it("readFrom 'replica': a killed replica's reads go to the master at once, in flight and new ones, with no error", async () => {
    const redis = client({ cluster: { readFrom: 'replica' } });
    const key = 'replica-down:k';
    await redis.db.reply('SET', key, 'v');
    const owner = await cluster.ownerOf(keySlot(key));
    const replica = cluster.replicas(owner)[0]!.port;
    await redis.db.reply('GET', key); // the replica's connection is open
    // Short deadlines: a read waiting for the dead replica to come back would time out.
    const fast = redis.db.with({ timeout: 400 });
    // Observed at once: a read that fails while the replica is being killed must not go unhandled.
    const reads = Promise.allSettled(Array.from({ length: 200 }, () => fast.reply('GET', key)));
    await cluster.kill(replica);
    const more = Promise.allSettled(Array.from({ length: 200 }, () => fast.reply('GET', key)));
    try {
      const results = [...(await reads), ...(await more)];
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect(results.every((r) => r.status === 'fulfilled' && r.value === 'v')).toBe(true);
      for (let i = 0; i < 20; i++) expect(await fast.reply('GET', key)).toBe('v');
    } finally {
      await cluster.restart(replica);
    }
  }, 60_000);
});
