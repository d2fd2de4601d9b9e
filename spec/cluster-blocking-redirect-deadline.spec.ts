/**
 * A blocking command redirected (MOVED, ASK) keeps what its caller asked
 * for (a real 3+3 cluster, started once for this file):
 *  - a per-call timeout (`db.with({ timeout })`) still bounds it on the node
 *    it is redirected to: a BLPOP 0 (forever) with a 500 ms timeout answers
 *    ReplyTimeoutError, it does not block forever there;
 *  - given up by its signal or its timeout after ASK, its lease on the
 *    importing node is drained (the server lets go of it) and serves the
 *    next blocking call, with no ASKING left behind.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { AbortError, ReplyTimeoutError } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';
import { outcome } from './support/outcome.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 8000, cluster: { refreshInterval: 0 } }));

function otherMaster(port: number): number {
  return cluster.masters().find((m) => m.port !== port)!.port;
}

async function blocked(port: number, command: string): Promise<number> {
  const list = String(await cluster.call(port, 'CLIENT', 'LIST'));
  return list.split('\n').filter((line) => line.includes(` cmd=${command} `) && / flags=\S*b/.test(line)).length;
}


describe('a blocking command with a per-call timeout, redirected', () => {
  it('MOVED (a stale slot map): the timeout still bounds it on the new owner', async () => {
    const redis = client();
    const key = 'rdl{moved}';
    await redis.db.reply('PING'); // the client knows the slot map
    const from = await cluster.ownerOf(keySlot(key));
    const to = otherMaster(from);
    await cluster.moveSlot(keySlot(key), to); // behind the client's back
    const got = await within('the BLPOP settles', outcome(redis.db.with({ timeout: 500 }).reply('BLPOP', key, 0)));
    expect(got).toBeInstanceOf(ReplyTimeoutError);
    await until('the new owner let go of it', async () => (await blocked(to, 'blpop')) === 0);
  });

  it('ASK (the slot migrating): the timeout still bounds it on the importing node, whose lease then serves the next call', async () => {
    const redis = client();
    const key = 'rdl{ask}';
    await redis.db.reply('PING');
    const from = await cluster.ownerOf(keySlot(key));
    const to = otherMaster(from);
    const move = await cluster.moveSlot(keySlot(key), to, { stopAt: 'migrating' });
    try {
      const got = await within('the BLPOP settles', outcome(redis.db.with({ timeout: 500 }).reply('BLPOP', key, 0)));
      expect(got).toBeInstanceOf(ReplyTimeoutError);
      await until('the importing node let go of it', async () => (await blocked(to, 'blpop')) === 0);
      // Aborted by its signal once blocked there: drained too.
      const ac = new AbortController();
      const aborted = outcome(redis.db.with({ signal: ac.signal }).reply('BLPOP', key, 0));
      await until('the BLPOP blocked on the importing node', async () => (await blocked(to, 'blpop')) === 1);
      ac.abort();
      expect(await within('the aborted BLPOP settles', aborted)).toBeInstanceOf(AbortError);
      await until('the importing node let go of it', async () => (await blocked(to, 'blpop')) === 0);
      // The leases serve the next calls: with ASK again, and where the slot belongs once it moved.
      const next = outcome(redis.db.reply('BLPOP', key, 5));
      await until('the next BLPOP blocked on the importing node', async () => (await blocked(to, 'blpop')) === 1);
      expect(await redis.db.reply('RPUSH', key, 'job')).toBe(1);
      expect(await next).toEqual([key, 'job']);
    } finally {
      await move.finish();
    }
  });
});
