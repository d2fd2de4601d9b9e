/**
 * README (Cancelling): a `multi()` block is "never sent, or released at once".
 * A block refused at queue time with TRYAGAIN (a multi-key command while its
 * slot migrates) ran nothing and waits (up to 500 ms) before it is sent again.
 * When the view's signal fires during that wait, the block settles at once
 * with AbortError { sent: false } and the wait's timer is cleared.
 *
 * Before, the signal was not heard during the wait: the block settled only
 * when the timer fired and the new send found the signal fired. Here that
 * timer is held (it never fires), so the block settles by the abort or not
 * at all. db.watch's conn.multi waits the same way (then resolves null) and
 * is given up the same way; so is a db.watch whose WATCH was refused and
 * waits to send it again (its AbortError came at once already, but the
 * wait's timer was left to run out).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { AbortError, type Redis } from '../lib/index.js';
import { tagOn, useCluster } from './support/real-cluster.js';
import { until } from './support/until.js';
import { follow, type Followed } from './support/outcome.js';

const { cluster, client } = useCluster((c) => ({ nodes: [c.seedUrl], commandTimeout: 10_000, connectTimeout: 2000 }), {
  end: 'disconnect',
  start: { masters: 3, replicasPerMaster: 0 },
});
afterEach(() => vi.restoreAllMocks());

const turn = () => new Promise((r) => setImmediate(r));

/** Whether setTimeout was called by transaction.ts itself (not by a connection it sent through). */
function calledFromTransaction(): boolean {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const caller = frames.find((f) => !f.includes('node_modules') && !f.includes('deadline-multi-abort-backoff'));
  return caller !== undefined && /transaction\.(ts|js)/.test(caller);
}

/** Hold every backoff timer a block sets (they never fire); what was held, and which of them were cleared. */
function holdBlockBackoffs(): { held: unknown[]; cleared: () => unknown[] } {
  const held: unknown[] = [];
  const cleared: unknown[] = [];
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (calledFromTransaction()) {
      const timer = realSetTimeout(() => {}, 2 ** 31 - 1);
      timer.unref();
      held.push(timer);
      return timer;
    }
    return realSetTimeout(fn, ms, ...args);
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((timer?: NodeJS.Timeout) => {
    if (held.includes(timer)) cleared.push(timer);
    realClearTimeout(timer);
  }) as typeof clearTimeout);
  return { held, cleared: () => cleared.filter((t) => held.includes(t)) };
}

/** A slot in migration, a key of it present on its source and one absent: a block with MGET of both is refused TRYAGAIN. */
async function migrating(redis: Redis): Promise<{ here: string; absent: string; finish: () => Promise<void> }> {
  const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
  await redis.db.reply('PING');
  const tag = await tagOn(cluster, x, 'dl');
  await cluster.call(x, 'SET', `{${tag}}here`, 'v');
  const move = await cluster.moveSlot(keySlot(`{${tag}}`), y, { stopAt: 'migrating' });
  return { here: `{${tag}}here`, absent: `{${tag}}absent`, finish: () => move.finish() };
}

async function expectAbortedAtOnce(block: Followed, hold: { held: unknown[]; cleared: () => unknown[] }, ac: AbortController): Promise<void> {
  await until('the block was refused TRYAGAIN and waits', () => hold.held.length > 0);
  await turn();
  expect(block.settled).toBe(0);
  const reason = new Error('caller gave up');
  ac.abort(reason);
  await turn();
  expect(block.settled).toBe(1);
  expect(block.error).toBeInstanceOf(AbortError);
  expect((block.error as AbortError).sent).toBe(false);
  expect((block.error as AbortError).cause).toBe(reason);
  expect(hold.cleared()).toEqual(hold.held); // the wait's timer is not left behind
}

describe('a block waiting out TRYAGAIN when its signal fires', () => {
  it('db.multi: AbortError { sent: false } at once, its handles too, the timer cleared', async () => {
    const redis = client();
    const { here, absent, finish } = await migrating(redis);
    const hold = holdBlockBackoffs();
    const ac = new AbortController();
    let handle: PromiseLike<unknown> | undefined;
    const block = follow(redis.db.with({ signal: ac.signal }).multi((tx) => {
      handle = tx.command('MGET', here, absent);
    }));
    const one = follow(handle!);
    try {
      await expectAbortedAtOnce(block, hold, ac);
      expect(one.settled).toBe(1);
      expect(one.error).toBe(block.error);
    } finally {
      vi.restoreAllMocks();
      await finish();
    }
    expect(await redis.db.reply('GET', here)).toBe('v'); // the client goes on
  });

  it('db.watch whose WATCH was refused (ASK: the key is absent from a migrating slot): AbortError { sent: false } at once, the timer cleared', async () => {
    const redis = client();
    const { absent, finish } = await migrating(redis);
    const hold = holdBlockBackoffs();
    const ac = new AbortController();
    let ran = false;
    const watch = follow(redis.db.with({ signal: ac.signal }).watch([absent], () => void (ran = true)));
    try {
      await expectAbortedAtOnce(watch, hold, ac);
      expect(ran).toBe(false);
    } finally {
      vi.restoreAllMocks();
      await finish();
    }
  });

  it("db.watch's conn.multi: AbortError { sent: false } at once, the timer cleared", async () => {
    const redis = client();
    const { here, absent, finish } = await migrating(redis);
    const ac = new AbortController();
    let hold: ReturnType<typeof holdBlockBackoffs> | undefined;
    let multi: Followed | undefined;
    const watch = follow(redis.db.with({ signal: ac.signal }).watch([here], async (conn) => {
      hold = holdBlockBackoffs(); // after WATCH: only the block's wait is held
      const p = conn.multi((tx) => tx.command('MGET', here, absent));
      multi = follow(p);
      return p;
    }));
    try {
      await until('conn.multi was called', () => multi !== undefined);
      await expectAbortedAtOnce(multi!, hold!, ac);
      await until('the watch settled', () => watch.settled > 0);
      expect(watch.error).toBe(multi!.error); // fn rethrew it
    } finally {
      vi.restoreAllMocks();
      await finish();
    }
  });
});
