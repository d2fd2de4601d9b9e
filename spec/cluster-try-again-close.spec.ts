/**
 * A command waiting out TRYAGAIN (its slot is being migrated) before it is
 * sent again, when the client is closed: `disconnect()` rejects everything
 * pending with ClosedError now, and `close()` ends what was never sent; the
 * wait's timer must not be what settles it.
 *
 * Before, the command settled only when the backoff timer fired, and that
 * timer is unref'd: a process whose client was closed could exit with the
 * caller's await never settled. Here the timer is held (never fires), so the
 * command settles by the close or not at all.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ClosedError, type Redis } from '../lib/index.js';
import { tagOn, useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';
import { follow, type Followed } from './support/outcome.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 10_000, connectTimeout: 2000 }), {
  end: 'disconnect',
  start: { masters: 3, replicasPerMaster: 0 },
});
afterEach(() => vi.restoreAllMocks());

const turn = () => new Promise((r) => setImmediate(r));

/** Hold every TRYAGAIN backoff timer (they never fire); resolves how many were set so far. */
function holdBackoffs(): () => number {
  let held = 0;
  const realSetTimeout = globalThis.setTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (new Error().stack?.includes('TryAgainWaits')) {
      held++;
      return realSetTimeout(() => {}, 2 ** 31 - 1).unref();
    }
    return realSetTimeout(fn, ms, ...args);
  }) as typeof setTimeout);
  return () => held;
}

/** An MGET refused with TRYAGAIN (one key here, one missing while the slot migrates), waiting to be sent again. */
async function waitingMget(redis: Redis): Promise<{ mget: Followed; finish: () => Promise<void> }> {
  const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
  await redis.db.reply('PING');
  const tag = await tagOn(cluster, x, 'ta');
  await cluster.call(x, 'SET', `{${tag}}here`, 'v');
  const move = await cluster.moveSlot(keySlot(`{${tag}}`), y, { stopAt: 'migrating' });
  const held = holdBackoffs();
  const mget = follow(redis.db.reply('MGET', `{${tag}}here`, `{${tag}}absent`));
  await until('the wait\'s timer is held', () => held() > 0);
  await turn();
  expect(mget.settled).toBe(0);
  return { mget, finish: () => move.finish() };
}

describe('a command waiting out TRYAGAIN when the client closes', () => {
  it('disconnect(): ClosedError now, once, not when the backoff ends', async () => {
    const redis = client();
    const { mget, finish } = await waitingMget(redis);
    try {
      redis.disconnect();
      await turn();
      expect(mget.settled).toBe(1);
      expect(mget.error).toBeInstanceOf(ClosedError);
      expect((mget.error as Error).message).toMatch(/never sent/);
    } finally {
      await finish();
    }
  });

  it('close(): ClosedError (it never ran), and close() resolves without waiting for the backoff', async () => {
    const redis = client();
    const { mget, finish } = await waitingMget(redis);
    try {
      const closed = follow(redis.close());
      await until('the block settled', () => closed.settled > 0);
      expect(mget.settled).toBe(1);
      expect(mget.error).toBeInstanceOf(ClosedError);
    } finally {
      await finish();
    }
  });
});
