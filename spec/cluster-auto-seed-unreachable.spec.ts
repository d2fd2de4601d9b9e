/**
 * Auto mode (one URL) finds a cluster: the unit it first connected to, the
 * seed's, becomes one of the cluster's units (AutoTopology's probe). When
 * the seed is named as the slot map names it, that unit stays the unit of
 * its master for the client's life, so it must route like every other
 * master's unit: a blocking command waiting there for a side connection
 * when the master dies (never written) waits for the slot map to name the
 * promoted replica, and blocks there, as on any other master (553f4cd);
 * it must not fail with the dead node's ConnectError.
 */
import { describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useCluster, keyOn } from './support/real-cluster.js';
import { blockedInList } from './support/blocked-clients.js';
import { until } from './support/until.js';
import { outcome } from './support/outcome.js';

const { cluster, client, track } = useCluster(() => ({}), { end: 'disconnect' });



describe('auto mode, seeded by the address the slot map gives its master', () => {
  it('a BLPOP waiting for the seed unit\'s only side connection when that master dies blocks on the promoted replica', async () => {
    const seed = cluster.masters()[0]!.port;
    const held = await keyOn(cluster, seed, 'as-held');
    const queued = await keyOn(cluster, seed, 'as-queued');
    const pusher = client();
    const redis = track(new Redis(`redis://127.0.0.1:${seed}`, { commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 }, blockingPool: { size: 1 } }));
    redis.on('error', () => {});
    await redis.db.reply('PING');
    await until('the client knows the slot map', () => redis.mode === 'cluster' && Object.keys(redis.stats().nodes ?? {}).length > 1);
    expect(Object.keys(redis.stats().nodes ?? {})).toContain(`127.0.0.1:${seed}`); // the seed's unit is the master's unit
    const popped = outcome(redis.db.reply('BLPOP', held, 0));
    await until('the BLPOP holds the only side connection', async () => blockedInList(String(await cluster.call(seed, 'CLIENT', 'LIST')), 'blpop') === 1);
    const waiting = outcome(redis.db.reply('BLPOP', queued, 0)); // never written: it waits for that side connection
    await cluster.failover(seed);
    await pusher.db.reply('RPUSH', queued, 'y');
    expect(await waiting).toEqual([queued, 'y']);
    expect(await popped).toBeInstanceOf(Error); // blocked on the dead master: lost with it (rule 2)
  });
});
