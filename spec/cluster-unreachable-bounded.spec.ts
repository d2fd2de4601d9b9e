/**
 * A db.watch or a blocking command whose node is unreachable waits for the
 * slot map to say where its keys live now (Cluster.unreachable), within the
 * command timeout since it first found the node unreachable. Here the node
 * is dead for good (a master without replicas: no failover will come), so
 * nothing ever takes its place:
 *  - the wait ends within that bound even when the slot map refresh it
 *    waits for never ends (reasons to refresh keep coming: see below);
 *  - close() and disconnect() end it at once, as they end every call in
 *    flight: ClosedError, settled before close() resolves.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ClosedError, ConnectionError, RetryPolicy } from '../lib/index.js';
import { Cluster } from '../lib/topology/cluster/cluster.js';
import { useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';
import { tracked } from './support/outcome.js';

const { cluster, client } = useCluster(() => ({ connectTimeout: 1000, reconnect: { baseDelay: 2, maxDelay: 5 } }), {
  end: 'disconnect',
  start: { masters: 3, replicasPerMaster: 0 },
});

/** A key served by the master killed below. */
let key = '';

beforeAll(async () => {
  const dead = cluster.masters()[0]!.port;
  for (let i = 0; key === ''; i++) if ((await cluster.ownerOf(keySlot(`ub:${i}`))) === dead) key = `ub:${i}`;
  await cluster.kill(dead);
});

/** Counts the calls that entered the wait for the slot map. */
function spyWait(): { entered(): number; restore(): void } {
  const spy = vi.spyOn(Cluster.prototype, 'unreachable');
  return { entered: () => spy.mock.calls.length, restore: () => spy.mockRestore() };
}

describe('the node never comes back, and the refresher never rests', () => {
  // With reconnect: false, each slot map query opens the dead node's unit afresh (the last one gave up), which asks
  // for one more refresh: the refresher runs every ~100 ms for as long as the node is down, and no refresh "ends".
  it('a watch fails with the connection error within its command timeout; fn never ran', async () => {
    const redis = client({ commandTimeout: 1500, reconnect: false });
    let runs = 0;
    const watched = await within('the watch settles', tracked(redis.db.watch([key], () => runs++)).result);
    expect(watched).toBeInstanceOf(ConnectionError);
    expect(runs).toBe(0);
  });

  it('a BLPOP (no retries) fails with the connection error within its command timeout', async () => {
    const redis = client({ commandTimeout: 1500, reconnect: false });
    const popped = await within('the BLPOP settles', tracked(redis.db.with({ retry: RetryPolicy.none() }).reply('BLPOP', key, 0)).result);
    expect(popped).toBeInstanceOf(ConnectionError);
  });
});

describe('the client ends while a call waits for the slot map', () => {
  it('disconnect(): the watch and the BLPOP reject with ClosedError', async () => {
    const wait = spyWait();
    try {
      const redis = client({ commandTimeout: 60_000 });
      const watched = tracked(redis.db.watch([key], () => 0));
      const popped = tracked(redis.db.with({ retry: RetryPolicy.none() }).reply('BLPOP', key, 0));
      await until('both wait for the slot map', () => wait.entered() >= 2);
      redis.disconnect();
      expect(await watched.result).toBeInstanceOf(ClosedError);
      expect(await popped.result).toBeInstanceOf(ClosedError);
    } finally {
      wait.restore();
    }
  });

  it('close(): the watch and the BLPOP have settled, with ClosedError, once close() resolves', async () => {
    const wait = spyWait();
    try {
      const redis = client({ commandTimeout: 60_000 });
      const watched = tracked(redis.db.watch([key], () => 0));
      const popped = tracked(redis.db.with({ retry: RetryPolicy.none() }).reply('BLPOP', key, 0));
      await until('both wait for the slot map', () => wait.entered() >= 2);
      await redis.close();
      expect(watched.settled()).toBe(true);
      expect(popped.settled()).toBe(true);
      expect(await watched.result).toBeInstanceOf(ClosedError);
      expect(await popped.result).toBeInstanceOf(ClosedError);
    } finally {
      wait.restore();
    }
  });
});
