/**
 * `stats().timeouts` counts calls, once each: a cluster runs MGET (DEL, ...)
 * over several slots as one part per slot, and DBSIZE as one part per master;
 * when the parts time out together, the user made one call and saw one
 * ReplyTimeoutError: it counts one, at the node whose part timed out first
 * (the nodes' counts still add up to the total). Every master is paused
 * (CLIENT PAUSE) so that every part is written and none is answered in time.
 */
import { describe, expect, it } from 'vitest';
import { ReplyTimeoutError, type Redis } from '../lib/index.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';
import { outcome } from './support/outcome.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 }, { start: { replicasPerMaster: 0 } });

/** Run `fn` with every master paused (their replies wait), then unpause them. */
async function paused<T>(fn: () => Promise<T>): Promise<T> {
  const masters = cluster.masters();
  await Promise.all(masters.map((m) => cluster.call(m.port, 'CLIENT', 'PAUSE', '1000', 'ALL')));
  try {
    return await fn();
  } finally {
    await Promise.all(masters.map((m) => cluster.call(m.port, 'CLIENT', 'UNPAUSE')));
  }
}

const nodesTotal = (redis: Redis) => Object.values(redis.stats().nodes!).reduce((n, s) => n + s.timeouts, 0);

describe('cluster stats().timeouts: one per call', () => {
  it('an MGET split over every master whose parts all time out counts one', async () => {
    const keys = (await keysOnEachMaster(cluster, 'split-to')).map((k) => k.key);
    expect(keys.length).toBeGreaterThan(1);
    const redis = client();
    expect(await redis.db.reply('MGET', ...keys)).toEqual(keys.map(() => null)); // every node's connection is up
    const err = await paused(() => outcome(redis.db.with({ timeout: 150 }).reply('MGET', ...keys)));
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(redis.stats().timeouts).toBe(1);
    expect(nodesTotal(redis)).toBe(1);
  });

  it('a DBSIZE fanned out to every master whose parts all time out counts one', async () => {
    const redis = client();
    await redis.db.reply('DBSIZE'); // every master's connection is up
    const err = await paused(() => outcome(redis.db.with({ timeout: 150 }).reply('DBSIZE')));
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(redis.stats().timeouts).toBe(1);
    expect(nodesTotal(redis)).toBe(1);
  });
});
