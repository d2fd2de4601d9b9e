/**
 * Channel and pattern subscriptions whose master dies, in a cluster slow to
 * fail it over (a real 3+3 cluster with a 20 s node timeout, as production
 * clusters often have 15 s): PUBLISH reaches the subscribers of every node,
 * so the subscriptions must not wait for the failover on the dead node. They
 * move to another master as soon as the connection is lost, and messages
 * published meanwhile through the live nodes keep arriving. Shard channels
 * stay: only their slot's master can serve them.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionError, Message } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster(
  () => ({ commandTimeout: 5000, connectTimeout: 500, reconnect: { baseDelay: 50, maxDelay: 200 } }),
  { end: 'disconnect', start: { nodeTimeout: 20_000 } },
);

describe('the master carrying channel subscriptions dies, no failover yet', () => {
  it('they move to another master at once; messages published through live nodes keep arriving', async () => {
    const redis = client({ nodes: cluster.urls.slice() });
    const sub = redis.subscriber();
    const got: string[] = [];
    const errors: Error[] = [];
    sub.on('message', (m: Message<string>) => got.push(`${m.channel}=${m.message}`));
    sub.on('error', (err: Error) => errors.push(err));
    await sub.subscribe('lost:chan');
    await sub.psubscribe('lost:pat:*');
    let carrier: number | undefined;
    for (const m of cluster.masters()) {
      const list = String(await cluster.call(m.port, 'CLIENT', 'LIST'));
      if (/ sub=1 /.test(list) && / psub=1 /.test(list)) carrier = m.port;
    }
    expect(carrier).toBeDefined();
    const live = cluster.masters().find((m) => m.port !== carrier)!.port;
    await cluster.kill(carrier!);
    // Bounded well below the node timeout: the cluster still lists the dead master, nothing has failed over.
    let n = 0;
    await until('a message published through a live node arrives', async () => {
      await cluster.call(live, 'PUBLISH', 'lost:chan', `c${n}`);
      await cluster.call(live, 'PUBLISH', 'lost:pat:x', `p${n++}`);
      return got.some((g) => g.startsWith('lost:chan=c')) && got.some((g) => g.startsWith('lost:pat:x=p'));
    }, 8000);
    // Subscribed once, not twice: one delivery per publish (a second subscription would deliver it again, by the time a later message came).
    await cluster.call(live, 'PUBLISH', 'lost:chan', 'once');
    await cluster.call(live, 'PUBLISH', 'lost:chan', 'later');
    await until('the later message arrives', () => got.includes('lost:chan=later'));
    expect(got.filter((g) => g === 'lost:chan=once')).toEqual(['lost:chan=once']);
    // The loss itself is told ('error' is emitted while listened to); the dead node's reconnect attempts are not this subscriber's any more.
    expect(errors.map((e) => [e.constructor.name, (e as ConnectionError).node])).toEqual([['ConnectionLostError', `127.0.0.1:${carrier}`]]);
  });
});
