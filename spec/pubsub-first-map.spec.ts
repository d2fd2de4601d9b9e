/**
 * Subscriber calls made before a cluster client has its first slot map wait
 * for it, as commands do (cluster.ts #afterFirstMap), within the call's
 * deadline, and are routed by it. Before, a call was routed at once: a shard
 * channel went to a guessed seed (MOVED was to correct it), channels and
 * patterns were pinned to a seed. A seed held still (SIGSTOP) kept a shard
 * channel waiting out its deadline although another seed's map placed it
 * elsewhere; a seed named otherwise than in the map (`localhost`) carried the
 * channels until the map came, then was handed over like a node that left
 * (subscriptions moved to a second connection).
 *
 * One 3-master cluster without replicas (stopping a master must not fail it
 * over: node timeout 60 s); tests stop a node and let it go on before ending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, ConnectError, type Message } from '../lib/index.js';
import { Hub } from '../lib/pubsub/hub.js';
import { peekHubs } from './support/hub-peek.js';
import { follow } from './support/outcome.js';
import { whileStopped } from './support/process-stop.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 8000 }, {
  start: { replicasPerMaster: 0, nodeTimeout: 60_000, extraArgs: ['--cluster-require-full-coverage', 'no'] },
  end: 'disconnect',
});
const peek = peekHubs();

/** TEST-ONLY: hubs handed over with members in them (their node left routing: subscriptions moved to another connection). */
const handedOver: string[] = [];
const originalHandOver = Hub.prototype.handOver;
beforeAll(() => {
  Hub.prototype.handOver = function (this: Hub) {
    if (peek.members(this) > 0) handedOver.push(this.node);
    return originalHandOver.call(this);
  };
});
afterAll(() => {
  Hub.prototype.handOver = originalHandOver;
});

function pidOf(port: number): number {
  return cluster.node(port).pid!;
}

/** Channels, patterns and shard channels subscribed on any node of the cluster. */
async function serverSide(): Promise<string[]> {
  const seen: string[] = [];
  for (const m of cluster.masters()) {
    seen.push(...((await cluster.call(m.port, 'PUBSUB', 'CHANNELS')) as string[]).map((c) => `channel ${c}`));
    seen.push(...((await cluster.call(m.port, 'PUBSUB', 'SHARDCHANNELS')) as string[]).map((c) => `shard ${c}`));
    seen.push(`patterns ${String(await cluster.call(m.port, 'PUBSUB', 'NUMPAT'))}`);
  }
  return seen.filter((s) => s !== 'patterns 0');
}

describe('a shard channel subscribed before the first slot map', () => {
  it('waits for the map (a seed is held still, another answers) and is subscribed at its slot\'s master', async () => {
    const [a, b, c] = cluster.masters();
    const onB = await keyOn(cluster, b!.port, 'pfm:y');
    const onC = await keyOn(cluster, c!.port, 'pfm:z');
    const seedA = `redis://127.0.0.1:${a!.port}`, seedB = `redis://127.0.0.1:${b!.port}`;
    await whileStopped(pidOf(a!.port), async () => {
      // Both orders of the seeds: before the map, a call was sent to a seed chosen by its place in the list.
      for (const nodes of [[seedA, seedB], [seedB, seedA]]) {
        const redis = client({ nodes });
        const sub = redis.subscriber();
        const got: string[] = [];
        sub.on('message', (m: Message<string>) => got.push(`${m.channel}=${m.message}`));
        await within(`the ssubscribe, seeds ${nodes.join(' ')}`, Promise.all([sub.ssubscribe(onB), sub.ssubscribe(onC)]));
        // At each owner: the client sends SPUBLISH to any master (MOVED corrects it), which may be the stopped one.
        await cluster.call(b!.port, 'SPUBLISH', onB, 'one');
        await cluster.call(c!.port, 'SPUBLISH', onC, 'two');
        await until('the messages', () => got.length >= 2);
        expect(got.sort()).toEqual([`${onB}=one`, `${onC}=two`]);
        const nodesHeld = peek.hubsOf(redis).filter((h) => peek.members(h) > 0).map((h) => h.node);
        expect(nodesHeld.sort()).toEqual([`127.0.0.1:${b!.port}`, `127.0.0.1:${c!.port}`].sort());
      }
    });
  });

  it('rejects with the first map\'s error, naming the call, when no map comes within the call\'s deadline; nothing is subscribed', async () => {
    const [a] = cluster.masters();
    const x = await keyOn(cluster, a!.port, 'pfm:x');
    const redis = client({ nodes: [`redis://127.0.0.1:${a!.port}`] });
    const sub = redis.subscriber({ timeout: 300 });
    const calls = await whileStopped(pidOf(a!.port), () =>
      Promise.all([sub.ssubscribe(x), sub.subscribe('pfm:late'), sub.psubscribe('pfm:late:*')].map((c) => c.then(() => undefined, (err: Error) => err))),
    );
    for (const [err, command] of calls.map((e, i) => [e, ['SSUBSCRIBE', 'SUBSCRIBE', 'PSUBSCRIBE'][i]] as const)) {
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).message).toMatch(/no cluster slot map within 300 ms/);
      expect((err as ConnectError).command).toBe(command);
    }
    await redis.db.reply('PING'); // the map is in now
    expect(sub.subscriptions).toEqual({ channels: [], patterns: [], shardChannels: [] });
    expect(peek.hubMembers(redis)).toBe(0);
    expect(await serverSide()).toEqual([]);
  });
});

describe('closing while calls wait for the first slot map', () => {
  it('sub.close(): every call (keyspace too) settles once, with ClosedError, and nothing is subscribed after', async () => {
    const [a] = cluster.masters();
    const x = await keyOn(cluster, a!.port, 'pfm:cx');
    const redis = client({ nodes: [`redis://127.0.0.1:${a!.port}`], commandTimeout: 30_000 });
    const sub = redis.subscriber();
    await whileStopped(pidOf(a!.port), async () => {
      const calls = [sub.ssubscribe(x), sub.subscribe('pfm:closed'), sub.psubscribe('pfm:closed:*'), sub.keyspace('pfm:ks:*'), sub.unsubscribe('pfm:closed')].map(follow);
      await within('close()', sub.close());
      await until('every call settled', () => calls.every((c) => c.settled > 0));
      for (const c of calls) {
        expect(c.settled).toBe(1);
        expect(c.error).toBeInstanceOf(ClosedError);
      }
    });
    await redis.db.reply('PING'); // the map is in now
    expect(peek.hubMembers(redis)).toBe(0);
    expect(await serverSide()).toEqual([]);
  });

  it('redis.disconnect(): every call settles once, with ClosedError', async () => {
    const [a] = cluster.masters();
    const x = await keyOn(cluster, a!.port, 'pfm:rx');
    const redis = client({ nodes: [`redis://127.0.0.1:${a!.port}`], commandTimeout: 30_000 });
    const sub = redis.subscriber();
    await whileStopped(pidOf(a!.port), async () => {
      const calls = [sub.ssubscribe(x), sub.subscribe('pfm:rclosed'), sub.keyspace('pfm:rks:*')].map(follow);
      redis.disconnect();
      await until('every call settled', () => calls.every((c) => c.settled > 0));
      for (const c of calls) {
        expect(c.settled).toBe(1);
        expect(c.error).toBeInstanceOf(ClosedError);
      }
    });
    expect(await serverSide()).toEqual([]);
  });
});

describe('a seed named otherwise than in the slot map (localhost)', () => {
  it('channels and patterns subscribed at once are never carried by the seed\'s connection: no hand-over, each message once', async () => {
    const [a] = cluster.masters();
    const redis = client({ nodes: [`redis://localhost:${a!.port}`] });
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', (m: Message<string>) => got.push(`${m.pattern ?? ''}>${m.message}`));
    handedOver.length = 0;
    await within('the calls', Promise.all([sub.subscribe('pfm:alias'), sub.psubscribe('pfm:alias*')]));
    const publisher = client();
    for (let i = 0; i < 5; i++) await publisher.db.reply('PUBLISH', 'pfm:alias', `m${i}`);
    await until('every message', () => got.length >= 10);
    await publisher.db.reply('PING');
    expect(got.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'].flatMap((m) => [`>${m}`, `pfm:alias*>${m}`]).sort());
    expect(handedOver).toEqual([]);
    expect(peek.hubsOf(redis).filter((h) => peek.members(h) > 0).map((h) => h.node.startsWith('127.0.0.1:'))).toEqual([true]);
    // The seed's own unit (it asked for the map) is let go of once the map names its node otherwise: nothing of it is left open.
    const stats = redis.stats();
    expect(Object.keys(stats.nodes ?? {}).filter((address) => address.startsWith('localhost:'))).toEqual([]);
    expect(stats.pubsub.connections).toBe(1);
  });
});

describe('a client not yet connected, seeded by the whole cluster', () => {
  it('a plain Redis made and subscribed at once works as before (the common path)', async () => {
    const redis = client();
    const sub = redis.subscriber();
    const got: string[] = [];
    sub.on('message', (m: Message<string>) => got.push(m.message));
    await sub.subscribe('pfm:plain');
    await sub.ssubscribe('pfm:plain{s}');
    await redis.db.reply('PUBLISH', 'pfm:plain', 'p');
    await redis.db.reply('SPUBLISH', 'pfm:plain{s}', 's');
    await until('both messages', () => got.length >= 2);
    expect(got.sort()).toEqual(['p', 's']);
  });
});
