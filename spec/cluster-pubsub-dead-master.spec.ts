/**
 * Channel subscriptions placed while a master is known to be down (its
 * connection lost, no replica to promote yet). SUBSCRIBE uses one
 * connection to any node, and PUBLISH reaches every node's subscribers: the
 * client placed the channels on a master round robin, the dead one included,
 * and the subscribe call timed out although two masters were serving (the
 * channels move away only from a connection that was lost after it was
 * ready, never from one that never connected). Found by the HA contract
 * audit: channels now go to a master whose connection is not known down,
 * and so do keyless commands (ECHO, PUBLISH...), which waited out their
 * deadline on the dead master one time in three.
 */
import { describe, expect, it } from 'vitest';
import type { Redis } from '../lib/index.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 2000, connectTimeout: 500 }, { start: { replicasPerMaster: 0 }, end: 'disconnect' });

describe('subscribing while a master is down', () => {
  it('keyless commands and channels go to a live master: every call resolves and messages published through a live node arrive', async () => {
    const dead = (await keysOnEachMaster(cluster, 'pubsub-dead'))[1]!.port;
    const clients: Redis[] = [];
    const downSeen = new Set<Redis>();
    for (let i = 0; i < 6; i++) {
      const redis = client();
      redis.on('error', (err: Error & { node?: string }) => {
        if (err.node === `127.0.0.1:${dead}`) downSeen.add(redis);
      });
      await redis.db.reply('PING'); // every master: each client has a connection to the one that dies
      for (let j = 0; j < i; j++) await redis.db.reply('ECHO', 'turn'); // each client's round robin at another master
      clients.push(redis);
    }
    await cluster.kill(dead);
    await until('every client saw the master go', () => downSeen.size === clients.length);
    // Keyless commands go to any master: a live one, not the one known down (it would hold them to their deadline).
    const echoes = await Promise.allSettled(clients.map((redis) => redis.db.reply('ECHO', 'alive')));
    expect(echoes.map((s) => s.status)).toEqual(clients.map(() => 'fulfilled'));
    const got = clients.map(() => [] as string[]);
    const subscribed = await Promise.allSettled(
      clients.map((redis, i) => {
        const sub = redis.subscriber();
        sub.on('message', ({ message }) => got[i]!.push(String(message)));
        return sub.subscribe('pubsub-dead:news');
      }),
    );
    expect(subscribed.map((s) => s.status)).toEqual(clients.map(() => 'fulfilled'));
    const live = cluster.masters().find((m) => m.port !== dead)!.port;
    await cluster.call(live, 'PUBLISH', 'pubsub-dead:news', 'hello');
    await until('every subscriber got the message', () => got.every((g) => g.length === 1));
    expect(got).toEqual(clients.map(() => ['hello']));
  });
});
