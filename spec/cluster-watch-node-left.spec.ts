/**
 * db.watch waiting for a side connection on a unit that leaves the slot map
 * (a real 3+3 cluster). In auto mode, what is called before the first slot
 * map goes to the seed's unit; seeded by a name the cluster does not
 * announce (`localhost`), that unit leaves once the map names the node
 * 127.0.0.1. A watch still waiting there for a lease has sent nothing: it
 * must be routed again and run once where the map says, not fail and not
 * run twice. With a master that dies instead, a watch waiting on its unit
 * goes to the promoted replica the same way, and so does a blocking command
 * waiting for a side connection there (it was never written).
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError, Redis } from '../lib/index.js';
import { useCluster, keyOn } from './support/real-cluster.js';
import { until } from './support/until.js';
import { outcome } from './support/outcome.js';
import { blockedInList } from './support/blocked-clients.js';

const { cluster, client, track } = useCluster(
  () => ({ commandTimeout: 8000, connectTimeout: 1000, reconnect: { baseDelay: 20, maxDelay: 250 } }),
  { end: 'disconnect' },
);


/** How many clients of the node on `port` are blocked in `command` (CLIENT LIST). */
const blockedCount = async (port: number, command: string) => blockedInList(String(await cluster.call(port, 'CLIENT', 'LIST')), command);


describe('the seed\'s unit leaves while a watch waits for its only side connection', () => {
  it('the watch runs once, on the node the map names, and commits', async () => {
    const seed = cluster.masters()[0]!.port;
    const pusher = client();
    const blocked = await keyOn(cluster, seed, 'wl-block');
    const counter = await keyOn(cluster, seed, 'wl-counter');
    await pusher.db.reply('SET', counter, 41);
    const redis = track(new Redis(`redis://localhost:${seed}`, { commandTimeout: 8000, blockingPool: { size: 1 } }));
    redis.on('error', () => {});
    // The only side connection of the seed's unit: blocked in BLPOP.
    const popped = outcome(redis.db.reply('BLPOP', blocked, 8));
    let runs = 0;
    const watched = outcome(
      redis.db.watch([counter], async (conn) => {
        runs++;
        const cur = Number(await conn.reply('GET', counter));
        return conn.multi((tx) => tx.command('SET', counter, cur + 1));
      }),
    );
    await until('the slot map is in (the seed\'s unit left)', () => {
      const nodes = redis.stats().nodes;
      return redis.mode === 'cluster' && nodes !== undefined && Object.keys(nodes).every((n) => !n.startsWith('localhost'));
    });
    expect(await watched).toEqual(['OK']);
    expect(runs).toBe(1);
    expect(await pusher.db.reply('GET', counter)).toBe('42');
    // The BLPOP was not disturbed: it completes on the seed (the same node, under its other name).
    await until('the BLPOP blocked on the seed', async () => (await blockedCount(seed, 'blpop')) >= 1);
    await pusher.db.reply('RPUSH', blocked, 'x');
    expect(await popped).toEqual([blocked, 'x']);
  });
});

describe('a master dies while a watch and a BLPOP wait for its only side connection', () => {
  it('the watch runs once, and the BLPOP blocks, on the promoted replica once the map names it', async () => {
    const master = cluster.masters()[1]!.port;
    const counter = await keyOn(cluster, master, 'wd-counter');
    const blocked = await keyOn(cluster, master, 'wd-block');
    const pusher = client();
    await pusher.db.reply('SET', counter, 10);
    await until('the replica has the counter', async () => Number(await cluster.call(master, 'WAIT', 1, 1000)) >= 1);
    const redis = client({ blockingPool: { size: 1 } });
    await redis.db.reply('PING');
    const popped = outcome(redis.db.reply('BLPOP', blocked, 0));
    await until('the BLPOP holds the only side connection', async () => (await blockedCount(master, 'blpop')) === 1);
    let runs = 0;
    const watched = outcome(
      redis.db.watch([counter], async (conn) => {
        runs++;
        const cur = Number(await conn.reply('GET', counter));
        return conn.multi((tx) => tx.command('SET', counter, cur + 1));
      }),
    );
    // And a BLPOP waiting for that side connection too (never written).
    const queued = await keyOn(cluster, master, 'wd-queued');
    const waiting = outcome(redis.db.reply('BLPOP', queued, 0));
    await cluster.failover(master);
    expect(await watched).toEqual(['OK']);
    expect(runs).toBe(1);
    expect(await pusher.db.reply('GET', counter)).toBe('11');
    // It blocks on the new master (it was never written: nothing to lose), and gets what is pushed there.
    await pusher.db.reply('RPUSH', queued, 'y');
    expect(await waiting).toEqual([queued, 'y']);
    // The BLPOP on the dead master fails as a lost connection does, in bounded time (not ClosedError).
    const err = await popped;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).not.toBe('ClosedError');
  });
});

describe('a master and its replicas all die (no failover can come)', () => {
  it('the watch fails with the connection error within its command timeout; fn never ran', async () => {
    const master = cluster.masters()[2]!.port;
    const counter = await keyOn(cluster, master, 'wg-counter');
    const redis = client({ commandTimeout: 1500 });
    await redis.db.reply('PING');
    for (const r of cluster.replicas(master)) await cluster.kill(r.port);
    await cluster.kill(master);
    let runs = 0;
    const watched = await outcome(
      redis.db.watch([counter], async (conn) => {
        runs++;
        return conn.reply('GET', counter);
      }),
    );
    expect(watched).toBeInstanceOf(ConnectionError);
    expect(runs).toBe(0); // and it settled: the wait is bounded by the command timeout, not by a failover that never comes
  });
});
