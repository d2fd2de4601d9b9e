/**
 * Mode 'auto' (the default) over RESP2. DESIGN: the first handshake says
 * whether the server is a cluster node, and `protocol: 2` forces RESP2. With
 * RESP2 there is no HELLO 3 map to read `mode` from, and the client took a
 * cluster node for a single server: every command for another node's slot
 * failed with MOVED, MGET across slots with CROSSSLOT. Found by the HA
 * contract audit; the RESP2 handshake of the auto-mode probe now asks INFO
 * server (`redis_mode`) in the same round trip.
 */
import { describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { useRealServer } from './support/real-server.js';

const { cluster, track } = useCluster({}, { start: { replicasPerMaster: 0 } });
const single = useRealServer();

describe("mode 'auto' with protocol: 2", () => {
  it('a cluster node is found to be one: commands are routed by slot, MGET is split and merged', async () => {
    const redis = track(new Redis(cluster.seedUrl, { protocol: 2, commandTimeout: 3000 }));
    redis.on('error', () => {});
    const keys = Array.from({ length: 30 }, (_, i) => `resp2:${i}`);
    expect(await Promise.all(keys.map((k) => redis.db.reply('SET', k, k)))).toEqual(keys.map(() => 'OK'));
    expect(redis.mode).toBe('cluster');
    expect(await redis.db.reply('MGET', ...keys)).toEqual(keys);
    expect(await redis.db.reply('DBSIZE')).toBe(30);
  });

  it('a single server stays one', async () => {
    const redis = single.client({ protocol: 2, commandTimeout: 3000 });
    expect(await redis.db.reply('SET', 'resp2:single', 'v')).toBe('OK');
    expect(redis.mode).toBe('standalone');
  });
});
