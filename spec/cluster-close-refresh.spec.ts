/**
 * A graceful close() (or a disconnect()) of a cluster client while a
 * slot-map refresh is under way: the refresh that close() made pointless is
 * not reported as an 'error' event (the user asked to close; nothing is left
 * for that map to route). What failed before close() is still reported.
 *
 * Against a real cluster: the client is seeded with one node only, a replica
 * killed first, so the first refresh's CLUSTER SHARDS waits, queued, for a
 * connection that is refused (reported: that is a real failure). close() then
 * settles the queued question ("closed while disconnected"), which ends the
 * refresh: before the fix that ending was emitted as 'error' ("no cluster node
 * answered CLUSTER SHARDS ... the client closed while disconnected") after
 * close() had been called.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ connectTimeout: 2000 });

/** A few turns of the event loop: promise chains already due have run. */
const turns = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

describe('close() or disconnect() during a slot-map refresh', () => {
  for (const end of ['close', 'disconnect'] as const) {
    it(`${end}(): the refresh it ended is not reported as 'error'; the seed's refused connection before it is`, async () => {
      const seed = cluster.replicas()[0]!;
      await cluster.kill(seed.port);
      try {
        const redis = client({ nodes: [seed.url] });
        const errors: Error[] = [];
        redis.on('error', (err: Error) => errors.push(err));
        await once(redis, 'error'); // the seed refused the connection; the refresh's question waits in its queue
        expect(errors.length).toBeGreaterThan(0);
        expect(errors[0]!.message).not.toMatch(/CLUSTER SHARDS/); // the connection's failure, not the refresh's
        const before = errors.length;
        if (end === 'close') await redis.close();
        else redis.disconnect();
        await turns();
        expect(errors.slice(before).map((e) => e.message)).toEqual([]);
      } finally {
        await cluster.restart(seed.port);
      }
    });
  }
});
