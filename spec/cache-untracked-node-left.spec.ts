/**
 * Client-side caching on a cluster where one node refuses tracking (an ACL
 * without CLIENT TRACKING there): every cached read is sent to the server
 * instead (nothing could invalidate what that node answers). Once that node
 * has left the slot map (failed over to a replica that allows tracking), the
 * cache must serve again: the node that refused is gone, it cannot keep the
 * cache off for the client's life. A real 3+3 cluster.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster(
  (c) => ({ nodes: c.urls.slice(), cache: { maxEntries: 1000 }, commandTimeout: 5000, connectTimeout: 500, reconnect: { baseDelay: 20, maxDelay: 200 } }),
  { end: 'disconnect' },
);

describe('a node that refused tracking leaves the map', () => {
  it('the cache bypasses while it is there, and serves again once it is gone', async () => {
    const refusing = cluster.masters()[0]!.port;
    await cluster.call(refusing, 'ACL', 'SETUSER', 'default', '-client|tracking');
    const redis = client();
    const cached = redis.db.with({ cache: true });
    let key = '';
    for (let i = 0; key === ''; i++) if ((await cluster.ownerOf(keySlot(`untracked:${i}`))) !== refusing) key = `untracked:${i}`;
    await redis.db.reply('SET', key, 'v');
    // Every node connected (one refused tracking): cached reads are not cached.
    await until('every master connected', async () => {
      await redis.db.reply('DBSIZE');
      return true;
    });
    expect(await cached.reply('GET', key)).toBe('v');
    expect(await cached.reply('GET', key)).toBe('v');
    expect(redis.stats().cache!.hits).toBe(0);
    await cluster.failover(refusing);
    await until('the dead master left the slot map', async () => !redis.nodes().some((n) => n.address.endsWith(`:${refusing}`)), 15_000);
    await until('a cached read is served from the cache', async () => {
      await cached.reply('GET', key);
      return redis.stats().cache!.hits > 0;
    });
  });
});
