/**
 * A subscriber does not keep the pub/sub bookkeeping of a node that left the
 * slot map (a real 3+3 cluster). Its subscriptions moved to a node of the
 * map; the old hub holds nothing for anyone. If the subscriber kept it, every
 * failover or map flap for the subscriber's life would add one: memory that
 * grows with topology changes, not with what the user holds.
 *
 * The seed is named otherwise than the cluster announces it (`localhost`),
 * and the client is in auto mode: what is subscribed before the first
 * handshake (which says cluster) goes to the seed's hub, which is handed over
 * once the map names that node otherwise. (In cluster mode such calls wait
 * for the first slot map and never reach the seed's hub:
 * spec/pubsub-first-map.spec.ts.)
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { Redis, type Message } from '../lib/index.js';
import type { Hub } from '../lib/pubsub/hub.js';
import { peekHubs } from './support/hub-peek.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const { cluster, client, track } = useCluster(() => ({ commandTimeout: 8000, connectTimeout: 1000 }), { end: 'disconnect' });
const peek = peekHubs();

it('the hub of a node that left the map is let go of once the subscriptions moved; they keep working', async () => {
  const seedPort = cluster.nodes[0]!.port;
  const publisher = client();
  await publisher.db.reply('PING');
  const redis = track(new Redis(`redis://localhost:${seedPort}`, { commandTimeout: 8000, connectTimeout: 1000 })); // mode 'auto'
  redis.on('error', () => {});
  const sub = redis.subscriber();
  const got: string[] = [];
  sub.on('message', (m: Message<string>) => got.push(m.message));
  const calls = [sub.subscribe('release:chan'), sub.psubscribe('release:pat:*'), sub.ssubscribe('release{s}')];
  // Before the first handshake: the only hub is the seed's (the probe's), by the name it was given.
  const seedHubs = peek.hubsOf(redis);
  expect(seedHubs.map((h) => h.node)).toEqual([`localhost:${seedPort}`]);
  const seedHub = new WeakRef<Hub>(seedHubs[0]!);
  seedHubs.length = 0;
  await Promise.all(calls);
  await until('the seed hub handed over (routing no longer lists it)', () => !peek.hubsOf(redis).some((h) => h.node.startsWith('localhost:')));

  await until('the handed-over hub is collected', async () => {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    return seedHub.deref() === undefined;
  });

  // The subscriptions themselves moved and work.
  let n = 0;
  await until('messages on all three kinds arrive', async () => {
    n++;
    await publisher.db.reply('PUBLISH', 'release:chan', `c${n}`);
    await publisher.db.reply('PUBLISH', 'release:pat:x', `p${n}`);
    await publisher.db.reply('SPUBLISH', 'release{s}', `s${n}`);
    return ['c', 'p', 's'].every((k) => got.some((g) => g.startsWith(k)));
  });
  expect(sub.subscriptions).toEqual({ channels: ['release:chan'], patterns: ['release:pat:*'], shardChannels: ['release{s}'] });
});
