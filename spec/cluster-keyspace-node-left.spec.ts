/**
 * Keyspace streams (`sub.keyspace()`) whose node leaves the client's slot map
 * (a real 3+3 cluster, started once for this file; tests run in order). In a
 * cluster a keyspace stream listens on the node that carries the client's
 * channel and pattern subscriptions; when that node leaves the map the
 * stream must go on where routing places them now, as those subscriptions do
 * (Hub.handOver), not end:
 *  - a seed named otherwise than the cluster announces it (`localhost`): a
 *    stream made before the first slot map is on the seed's unit, which
 *    leaves once the map names the node 127.0.0.1, although the node is fine;
 *  - the master carrying it dies and a replica takes over.
 */
import { describe, expect, it } from 'vitest';
import { Redis, type Keyspace, type KeyspaceEvent } from '../lib/index.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client, track } = useCluster(
  () => ({ commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 } }),
  { end: 'disconnect' },
);

interface Stream {
  ks: Keyspace;
  got: string[];
  closed: boolean;
}

function watch(ks: Keyspace): Stream {
  const s: Stream = { ks, got: [], closed: false };
  ks.on('event', (e: KeyspaceEvent) => s.got.push(`${String(e.key)}:${e.event}`));
  ks.on('close', () => (s.closed = true));
  return s;
}

/** SET a fresh key of `prefix` on every master until every stream saw one of them (a stream listens on one master). */
async function reaches(writer: Redis, prefix: string, streams: Stream[]): Promise<void> {
  const keys = await keysOnEachMaster(cluster, prefix);
  await until(`a keyspace event of ${prefix} reaches every stream`, async () => {
    for (const { key } of keys) await writer.db.reply('SET', key, 'v');
    return streams.every((s) => s.got.some((g) => g.startsWith(`${prefix}:`)));
  }, 15_000);
}

async function notifyEverywhere(): Promise<void> {
  for (const n of cluster.nodes) if (n.alive) await cluster.call(n.port, 'CONFIG', 'SET', 'notify-keyspace-events', 'KA');
}

describe('a seed the cluster names otherwise (localhost), auto mode', () => {
  it('a keyspace stream made before the first slot map goes on once the seed\'s unit left', async () => {
    await notifyEverywhere();
    const seed = cluster.masters()[0]!.port;
    const writer = client({ nodes: cluster.urls.slice() });
    const streams: Stream[] = [];
    for (let i = 0; i < 4; i++) {
      const redis = track(new Redis(`redis://localhost:${seed}`, { commandTimeout: 8000 }));
      redis.on('error', () => {});
      const made = redis.subscriber().keyspace('ksleft*');
      if (i % 2 === 1) await redis.db.reply('PING'); // this one's map comes while (or before) the call is confirmed
      streams.push(watch(await made));
      await redis.db.reply('PING'); // the map is in: the seed's unit left
    }
    await reaches(writer, 'ksleft', streams);
    expect(streams.map((s) => s.closed)).toEqual([false, false, false, false]);
  });
});

describe('the pub/sub connection carrying a keyspace stream is lost, its node fine', () => {
  it('the stream stays on that node (its events are that node\'s keys) while channels move away', async () => {
    await notifyEverywhere();
    const writer = client({ nodes: cluster.urls.slice() });
    const redis = client({ nodes: cluster.urls.slice() });
    const sub = redis.subscriber();
    sub.on('error', () => {});
    const s = watch(await sub.keyspace('kslost*'));
    await sub.subscribe('kslost:chan');
    await reaches(writer, 'kslost', [s]);
    const carriers = async (flag: string) => {
      const found: number[] = [];
      for (const m of cluster.masters()) if (new RegExp(` ${flag}=1 `).test(String(await cluster.call(m.port, 'CLIENT', 'LIST')))) found.push(m.port);
      return found;
    };
    const [carrier] = await carriers('psub');
    expect(carrier).toBeDefined();
    await cluster.call(carrier!, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    // The channel moves to another master at once; the keyspace stream reconnects where it was.
    await until('the channel subscribed on another master', async () => (await carriers('sub')).some((p) => p !== carrier));
    await until('the keyspace pattern subscribed again', async () => (await carriers('psub')).length > 0);
    expect(await carriers('psub')).toEqual([carrier]);
    s.got.length = 0;
    await reaches(writer, 'kslost', [s]);
    expect(s.closed).toBe(false);
  });
});

describe('the master carrying a keyspace stream dies', () => {
  it('the stream goes on on a master of the map', async () => {
    await notifyEverywhere();
    const writer = client({ nodes: cluster.urls.slice() });
    const redis = client({ nodes: cluster.urls.slice() });
    const s = watch(await redis.subscriber().keyspace('ksdies*'));
    await reaches(writer, 'ksdies', [s]);
    let carrier: number | undefined;
    for (const m of cluster.masters()) if (/ psub=1 /.test(String(await cluster.call(m.port, 'CLIENT', 'LIST')))) carrier = m.port;
    expect(carrier).toBeDefined();
    await cluster.failover(carrier!);
    await notifyEverywhere(); // the promoted replica's own setting
    s.got.length = 0;
    await reaches(writer, 'ksdies', [s]);
    expect(s.closed).toBe(false);
  }, 60_000);
});
