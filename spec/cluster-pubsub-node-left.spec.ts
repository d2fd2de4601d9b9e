/**
 * Subscriptions whose node leaves the client's slot map (a real 3+3 cluster,
 * started once for this file; tests change the topology and run in order):
 *  - a client seeded by a name the cluster does not announce (`localhost`,
 *    a load balancer, a NAT address): what is subscribed before the first
 *    slot map goes to the seed, whose unit leaves once the map names the
 *    node otherwise;
 *  - the master carrying the channel subscriptions dies and a replica takes
 *    over: it leaves the map.
 * Either way the subscriptions must follow to a node of the map, the calls
 * made meanwhile must resolve, and messages must keep arriving.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import type { Message, Redis, Subscriber } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster(
  () => ({ commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 } }),
  { end: 'disconnect' },
);

interface Listener {
  sub: Subscriber;
  got: string[];
  errors: Error[];
}

function listen(redis: Redis): Listener {
  const sub = redis.subscriber();
  const got: string[] = [];
  const errors: Error[] = [];
  sub.on('message', (m: Message<string>) => got.push(`${m.channel}=${m.message}`));
  sub.on('error', (err: Error) => errors.push(err));
  return { sub, got, errors };
}

/** Publish on `channel` (PUBLISH reaches every node's subscribers; SPUBLISH its shard's) until every listener has a message sent after this call. */
async function reaches(publisher: Redis, channel: string, listeners: Listener[], shard = false): Promise<void> {
  const tag = `m${Math.random().toString(36).slice(2, 8)}`;
  let n = 0;
  await until(`a message on ${channel} reaches every subscriber`, async () => {
    await publisher.db.reply(shard ? 'SPUBLISH' : 'PUBLISH', channel, `${tag}-${n++}`);
    return listeners.every((l) => l.got.some((g) => g.startsWith(`${channel}=${tag}-`)));
  }, 15_000);
}

describe('a seed the cluster names otherwise (localhost)', () => {
  it('subscriptions made before the first slot map follow to the map\'s nodes: the calls resolve, messages keep coming', async () => {
    const seedPort = cluster.nodes[0]!.port;
    const publisher = client({ nodes: cluster.urls.slice() });
    await publisher.db.reply('PING');
    // Several clients, each subscribing at once: some calls are confirmed by the seed before the map comes, some after.
    const listeners: Listener[] = [];
    const calls: Promise<string>[] = [];
    for (let i = 0; i < 6; i++) {
      const redis = client({ nodes: [`redis://localhost:${seedPort}`] });
      const l = listen(redis);
      listeners.push(l);
      // Observed now (Promise.allSettled below comes after later awaits).
      calls.push(...[l.sub.subscribe('left:chan'), l.sub.psubscribe('left:pat:*'), l.sub.ssubscribe('left{shard}')].map((c) => c.then(() => 'ok', (err: unknown) => String(err))));
      if (i % 2 === 1) await redis.db.reply('PING'); // let this one's map in first
    }
    expect((await Promise.all(calls)).filter((r) => r !== 'ok')).toEqual([]);
    await reaches(publisher, 'left:chan', listeners);
    await reaches(publisher, 'left:pat:x', listeners);
    await reaches(publisher, 'left{shard}', listeners, true);
    for (const l of listeners) expect(l.errors).toEqual([]);
  });
});

describe('auto mode, seeded by a name the cluster does not announce', () => {
  it('what was subscribed before the handshake said cluster follows to the map\'s nodes', async () => {
    const seedPort = cluster.nodes[0]!.port;
    const publisher = client({ nodes: cluster.urls.slice() });
    await publisher.db.reply('PING');
    const { Redis } = await import('../lib/index.js');
    const redis = new Redis(`redis://localhost:${seedPort}`, { commandTimeout: 8000 }); // mode 'auto'
    try {
      const l = listen(redis);
      const calls = [l.sub.subscribe('auto:chan'), l.sub.ssubscribe('auto{shard}')].map((c) => c.then(() => 'ok', (err: unknown) => String(err)));
      expect(await Promise.all(calls)).toEqual(['ok', 'ok']);
      await reaches(publisher, 'auto:chan', [l]);
      await reaches(publisher, 'auto{shard}', [l], true);
      expect(redis.mode).toBe('cluster');
      expect(l.errors).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});

describe('the node carrying the subscriptions dies', () => {
  it('channel and pattern subscriptions are made again on a master of the map; messages keep coming', async () => {
    const publisher = client({ nodes: cluster.urls.slice() });
    const redis = client({ nodes: cluster.urls.slice() });
    const l = listen(redis);
    await l.sub.subscribe('dies:chan');
    await l.sub.psubscribe('dies:pat:*');
    await reaches(publisher, 'dies:chan', [l]);
    // The master holding this subscriber's pub/sub connection.
    let carrier: number | undefined;
    for (const m of cluster.masters()) {
      const list = String(await cluster.call(m.port, 'CLIENT', 'LIST'));
      if (/ sub=1 /.test(list) && / psub=1 /.test(list)) carrier = m.port;
    }
    expect(carrier).toBeDefined();
    await cluster.failover(carrier!);
    await reaches(publisher, 'dies:chan', [l]);
    await reaches(publisher, 'dies:pat:y', [l]);
    const shard = 'dies{s}';
    await l.sub.ssubscribe(shard);
    await reaches(publisher, shard, [l], true);
    expect(keySlot(shard)).toBeGreaterThanOrEqual(0);
  });
});

describe('an unsubscribe made while the subscribe call waits, then the node leaves', () => {
  it('the call made again holds only what is still wanted: the channel let go of stays let go', async () => {
    const seed = cluster.masters()[0]!.port;
    for (let i = 0; i < 4; i++) {
      const redis = client({ nodes: [`redis://localhost:${seed}`] });
      const sub = redis.subscriber();
      const call = sub.subscribe(`race${i}:c`, `race${i}:d`);
      await sub.unsubscribe(`race${i}:c`); // before the server confirmed the subscribe (and before the first slot map)
      await call; // made again on a node of the map once the seed's unit left
      await redis.db.reply('PING');
      expect(sub.subscriptions.channels).toEqual([`race${i}:d`]);
      for (const n of cluster.nodes) {
        if (!n.alive) continue;
        expect(await cluster.call(n.port, 'PUBSUB', 'NUMSUB', `race${i}:c`)).toEqual([`race${i}:c`, 0]);
      }
    }
  });
});
