/**
 * Cluster routing: a db.watch waits for a side connection on its keys' master
 * at most its view's timeout when that is shorter than `blockingPool.maxWait`
 * (spec/deadline-watch-lease-wait.spec.ts for one server). Before, it waited
 * the whole maxWait (8 s here).
 */
import { describe, expect, it } from 'vitest';
import { PoolTimeoutError } from '../lib/index.js';
import { keyOn, useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ blockingPool: { size: 1, maxWait: 8000 } }, { start: { replicasPerMaster: 0 } });

describe('db.watch on a cluster with its node\'s pool exhausted', () => {
  it("waits for a lease at most the view's timeout when shorter than maxWait", async () => {
    const [port] = cluster.masters().map((m) => m.port);
    const key = await keyOn(cluster, port!, 'dlwc');
    const list = `{${key}}:q`;
    const redis = client();
    const hold = redis.db.reply('BLPOP', list, 0); // the only lease of that master's pool
    await redis.db.reply('PING');
    let ran = false;
    const err = await redis.db.with({ timeout: 100 }).watch([key], async () => void (ran = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect((err as Error).message).toMatch(/within 100 ms/);
    expect(ran).toBe(false);
    await redis.db.reply('RPUSH', list, 'item');
    expect(await hold).toEqual([list, 'item']);
  }, 20_000);
});
