/**
 * With `reconnect: false`, a node's unit whose connection was lost is
 * closed for good, and the cluster opens a fresh unit for that address the
 * next time it routes there (Cluster #unit). A blocking command waiting for
 * the slot map to place it again (its node unreachable, never written) may
 * be waiting in the old unit's pool at that moment: the client is not
 * closing, so it must go on waiting, and run once the node is back; never
 * fail with ClosedError 'the client was disconnected'.
 */
import { beforeAll, expect, it, vi } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { RetryPolicy } from '../lib/index.js';
import { Cluster } from '../lib/topology/cluster/cluster.js';
import { Standalone } from '../lib/topology/standalone.js';
import { useCluster } from './support/real-cluster.js';
import { blockedInList } from './support/blocked-clients.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster(() => ({ connectTimeout: 1000, reconnect: false }), {
  end: 'disconnect',
  start: { masters: 3, replicasPerMaster: 0 },
});

/** How many units were let go of, however (leave(): routed no more; disconnect(): the old way). */
function spyRenewals(): () => number {
  const left = vi.spyOn(Standalone.prototype, 'leave');
  const cut = vi.spyOn(Standalone.prototype, 'disconnect');
  return () => left.mock.calls.length + cut.mock.calls.length;
}

let port = 0;
let key = '';

beforeAll(async () => {
  port = cluster.masters()[0]!.port;
  for (let i = 0; key === ''; i++) if ((await cluster.ownerOf(keySlot(`ur:${i}`))) === port) key = `ur:${i}`;
});

it('a BLPOP waiting for its node while that node\'s unit is opened afresh blocks there once the node is back', async () => {
  const redis = client({ commandTimeout: 30_000 });
  await redis.db.reply('GET', key); // the node's shared connection is open: losing it closes the unit for good
  const spy = vi.spyOn(Cluster.prototype, 'unreachable');
  try {
    await cluster.kill(port);
    let settled = false;
    // Its retry policy rides out CLUSTERDOWN from the node just back (its cluster state not ok yet).
    const retry = RetryPolicy.exponential({ attempts: 100, baseDelay: 20, maxDelay: 200 });
    const popped = redis.db.with({ retry }).reply('BLPOP', key, 0).then(
      (v) => v,
      (err: Error) => err,
    );
    void popped.then(() => (settled = true));
    await until('the BLPOP waits for the slot map', () => spy.mock.calls.length > 0 || settled);
    // Meanwhile routing opens units for the dead address afresh (each slot map query asks it), and lets the old ones go.
    const renewed = spyRenewals();
    try {
      await until('the dead address\'s unit was opened afresh twice', () => renewed() >= 2 || settled);
    } finally {
      vi.restoreAllMocks();
    }
    await cluster.restart(port);
    await until('the BLPOP is blocked on the node, or settled', async () => settled || blockedInList(String(await cluster.call(port, 'CLIENT', 'LIST')), 'blpop') === 1);
    await cluster.call(port, 'RPUSH', key, 'v');
    expect(await popped).toEqual([key, 'v']);
  } finally {
    spy.mockRestore();
  }
});
