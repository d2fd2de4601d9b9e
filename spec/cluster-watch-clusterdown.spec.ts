/**
 * DESIGN (Cluster): "TRYAGAIN and CLUSTERDOWN are retried with backoff inside
 * the command's deadline". A db.watch whose WATCH a down cluster refused
 * (nothing watched, fn not run) failed at once with ClusterDownError, while a
 * command or a MULTI block issued at the same moment waited the outage out.
 * It waits too now, within its WATCH's deadline, then runs fn once. A real
 * 3-master cluster without replicas: killing a master puts the cluster in
 * `cluster_state:fail` until it comes back.
 */
import { expect, it } from 'vitest';
import { useCluster, keysOnEachMaster } from './support/real-cluster.js';
import { until } from './support/until.js';
import { outcome } from './support/outcome.js';

const { cluster, client } = useCluster({ commandTimeout: 15_000 }, { start: { replicasPerMaster: 0 }, end: 'disconnect' });

it('a db.watch refused with CLUSTERDOWN runs fn once the cluster is back, within its deadline', async () => {
  const redis = client();
  const keys = await keysOnEachMaster(cluster, 'wcd');
  const key = keys[0]!.key;
  await redis.db.reply('SET', key, '41');
  await cluster.kill(keys[1]!.port);
  await until('the live masters say cluster_state:fail', async () => String(await cluster.call(keys[0]!.port, 'CLUSTER', 'INFO')).includes('cluster_state:fail'));
  let runs = 0;
  const watched = outcome(redis.db.watch([key], async (conn) => {
    runs++;
    const v = await conn.reply('GET', key);
    return conn.multi((tx) => { tx.command('SET', key, Number(v) + 1); });
  }));
  // Refused at least once while the cluster is down (else this proves nothing), then the node comes back.
  await until('the WATCH was refused by the down cluster', async () => /cmdstat_watch:.*rejected_calls=[1-9]/.test(String(await cluster.call(keys[0]!.port, 'INFO', 'commandstats'))));
  await cluster.restart(keys[1]!.port);
  expect(await watched).toEqual(['OK']);
  expect(runs).toBe(1);
  expect(await redis.db.reply('GET', key)).toBe('42');
}, 60_000);
