/**
 * DESIGN (Cluster): "TRYAGAIN and CLUSTERDOWN are retried with backoff inside
 * the command's deadline". A MULTI block refused at queue time with
 * CLUSTERDOWN ran nothing (EXECABORT), so it is sent again whole once the
 * cluster serves again, as a single command issued at the same moment is.
 * Before, the block failed at once with ExecAbortError while the INCR beside
 * it waited the outage out. A real 3-master cluster without replicas: killing
 * a master puts the cluster in `cluster_state:fail` until it comes back.
 */
import { expect, it } from 'vitest';
import { ExecAbortError } from '../lib/index.js';
import { useCluster, keysOnEachMaster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 15_000 }, { start: { replicasPerMaster: 0 }, end: 'disconnect' });

it('a block refused with CLUSTERDOWN at queue time is sent again once the cluster is back, within its deadline', async () => {
  const redis = client();
  const keys = await keysOnEachMaster(cluster, 'cd');
  await redis.db.reply('PING');
  await cluster.kill(keys[1]!.port);
  await until('the live masters say cluster_state:fail', async () => String(await cluster.call(keys[0]!.port, 'CLUSTER', 'INFO')).includes('cluster_state:fail'));
  const block = redis.db.multi((tx) => {
    tx.command('INCR', keys[0]!.key);
    tx.command('INCR', keys[0]!.key);
  }).catch((err: Error) => err);
  const single = redis.db.reply('INCR', `${keys[0]!.key}:single`);
  // Refused at least once while the cluster is down (else this proves nothing), then the node comes back.
  await until('the block was refused by the down cluster', async () => /cmdstat_multi:calls=[1-9]/.test(String(await cluster.call(keys[0]!.port, 'INFO', 'commandstats'))));
  await cluster.restart(keys[1]!.port);
  expect(await single).toBe(1);
  const result = await block;
  expect(result).not.toBeInstanceOf(ExecAbortError);
  expect(result).toEqual([1, 2]);
}, 60_000);
