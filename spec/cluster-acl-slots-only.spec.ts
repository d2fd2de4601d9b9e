/**
 * An ACL user allowed CLUSTER SLOTS but not CLUSTER SHARDS: the grant older
 * clients (ioredis, node-redis 4) document, common in ACL templates. The
 * client asks SHARDS first and fell back to SLOTS only when the server did
 * not know SHARDS (Redis < 7): refused with NOPERM, it never got a slot map,
 * and every command waited out its deadline. Found by the HA contract audit
 * ("ACL users lacking CLUSTER permissions"): a NOPERM for SHARDS falls back
 * to SLOTS too.
 */
import { describe, expect, it } from 'vitest';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 3000 }, { start: { replicasPerMaster: 0 } });

describe('a user allowed CLUSTER SLOTS, refused CLUSTER SHARDS', () => {
  it('gets the slot map from SLOTS: commands are routed, MGET split and merged, mode cluster', async () => {
    for (const n of cluster.nodes) {
      await cluster.call(n.port, 'ACL', 'SETUSER', 'slots-only', 'on', '>pw', '~*', '&*', '-@all', '+@read', '+@write', '+@connection', '+cluster|slots', '+dbsize');
    }
    const keys = (await keysOnEachMaster(cluster, 'slots-only')).map((k) => k.key);
    const redis = client({ username: 'slots-only', password: 'pw' });
    expect(await redis.db.reply('MSET', ...keys.flatMap((k) => [k, k]))).toBe('OK');
    expect(await redis.db.reply('MGET', ...keys)).toEqual(keys);
    expect(redis.mode).toBe('cluster');
    expect(redis.nodes('master')).toHaveLength(3);
  });
});
