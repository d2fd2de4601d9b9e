/**
 * Against a real Redis Cluster: a command that routing refuses synchronously
 * (CrossSlotError) settles once, at once, and lets go of everything that
 * watched it (its signal, its trace); and a command of several parts (split
 * by slot, fanned out) whose parts fail differently tells the caller whether
 * any part may have run. (From adversarial review 2.)
 */
import dc from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { CrossSlotError, type Redis } from '../lib/index.js';
import type { CommandTraceContext } from '../lib/connection/diagnostics.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 });

/** Two keys in different slots. */
const A = 'refusal:a';
const B = 'refusal:b';

/** What fails later than it should: unhandled rejections and 'commandError's while `fn` runs and 50 ms after. */
async function lateFailures(redis: Redis, fn: () => Promise<void>): Promise<{ unhandled: unknown[]; reported: Error[] }> {
  const unhandled: unknown[] = [];
  const reported: Error[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const onReported = (err: Error) => reported.push(err);
  process.on('unhandledRejection', onUnhandled);
  redis.on('commandError', onReported);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('unhandledRejection', onUnhandled);
    redis.off('commandError', onReported);
  }
  return { unhandled, reported };
}

describe('cluster: a command refused by routing (CrossSlotError) on a signal view', () => {
  it('reply() rejects once and command() throws; the signal keeps no listener, and a later abort settles nothing again', async () => {
    expect(keySlot(A)).not.toBe(keySlot(B));
    const redis = client();
    await redis.db.reply('PING');
    const ac = new AbortController();
    const late = await lateFailures(redis, async () => {
      const db = redis.db.with({ signal: ac.signal });
      await expect(db.reply('RENAME', A, B)).rejects.toBeInstanceOf(CrossSlotError);
      expect(() => db.command('RENAME', A, B)).toThrow(CrossSlotError);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0); // nothing left to give up
      ac.abort(); // the refused commands were never sent: nothing may settle again
    });
    expect(late).toEqual({ unhandled: [], reported: [] });
  });

  it('db.multi with a cross-slot block rejects with CrossSlotError and the signal lets the block go', async () => {
    const redis = client();
    await redis.db.reply('PING');
    const ac = new AbortController();
    const late = await lateFailures(redis, async () => {
      const db = redis.db.with({ signal: ac.signal });
      await expect(
        db.multi((tx) => {
          tx.command('SET', A, '1');
          tx.command('SET', B, '2');
        }),
      ).rejects.toBeInstanceOf(CrossSlotError);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      ac.abort();
    });
    expect(late).toEqual({ unhandled: [], reported: [] });
  });

  it('on a caching view too (a client with a cache): settled, the signal keeps no listener', async () => {
    const redis = client({ cache: { maxEntries: 100 } });
    await redis.db.reply('PING');
    const ac = new AbortController();
    const late = await lateFailures(redis, async () => {
      const db = redis.db.with({ cache: true, signal: ac.signal });
      await expect(db.reply('RENAME', A, B)).rejects.toBeInstanceOf(CrossSlotError);
      expect(() => db.command('RENAME', A, B)).toThrow(CrossSlotError);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      ac.abort();
    });
    expect(late).toEqual({ unhandled: [], reported: [] });
    expect(await redis.db.with({ cache: true }).reply('GET', A)).toBe(null); // the cache still serves
  });
});

describe('cluster: a traced command refused by routing', () => {
  it('publishes start, end, error, asyncStart, asyncEnd (its trace is closed), from reply() and from command()', async () => {
    const redis = client();
    await redis.db.reply('PING');
    const events: string[] = [];
    const mine = (ctx: CommandTraceContext) => ctx.command === 'RENAME';
    const handlers = {
      start: (ctx: CommandTraceContext) => mine(ctx) && events.push('start'),
      end: (ctx: CommandTraceContext) => mine(ctx) && events.push('end'),
      asyncStart: (ctx: CommandTraceContext) => mine(ctx) && events.push('asyncStart'),
      asyncEnd: (ctx: CommandTraceContext) => mine(ctx) && events.push('asyncEnd'),
      error: (ctx: CommandTraceContext) => mine(ctx) && events.push('error'),
    };
    const channel = dc.tracingChannel<unknown, CommandTraceContext>('redmux:command');
    channel.subscribe(handlers as never);
    const closed = ['start', 'end', 'error', 'asyncStart', 'asyncEnd'];
    try {
      await expect(redis.db.reply('RENAME', A, B)).rejects.toBeInstanceOf(CrossSlotError);
      // A span opened on start is closed only by end/asyncEnd: without them redmux/otel keeps it forever.
      expect(events.splice(0)).toEqual(closed);
      expect(() => redis.db.command('RENAME', A, B)).toThrow(CrossSlotError);
      expect(events.splice(0)).toEqual(closed);
    } finally {
      channel.unsubscribe(handlers as never);
    }
  });
});

describe('cluster: a command of several parts, one never written (its node reconnecting)', () => {
  /** A key owned by the master on `port`. */
  async function keyOn(port: number, tag: string): Promise<string> {
    for (let i = 0; ; i++) {
      const key = `refusal:${tag}:${i}`;
      if ((await cluster.ownerOf(keySlot(key))) === port) return key;
    }
  }

  /** A client whose connection to `down` is lost and reconnects slowly; `paused` (if given) takes commands but answers after 1 s. */
  async function stalled(down: number, paused?: number): Promise<Redis> {
    // A slow reconnect: a part for `down` waits, unwritten, for its node's connection.
    const redis = client({ reconnect: { baseDelay: 3000, maxDelay: 3000 } });
    await redis.db.reply('PING');
    const lost = new Promise<void>((resolve) => redis.once('reconnecting', () => resolve()));
    await cluster.call(down, 'CLIENT', 'KILL', 'TYPE', 'normal');
    await lost;
    // The other node takes the command but answers only after the caller's deadline.
    if (paused !== undefined) await cluster.call(paused, 'CLIENT', 'PAUSE', 1000, 'ALL');
    return redis;
  }

  type Failure = { name: string; sent?: boolean; partial?: { keysDone: number; keys: number } };

  it('split (MSET): the caller is told sent: true when a part was written and ran, whatever the slot order', async () => {
    const [down, paused] = cluster.masters().map((m) => m.port);
    const first = await keyOn(down!, 'down'); // the first key: its part is parts[0]
    const second = await keyOn(paused!, 'paused');
    await cluster.call(down!, 'DEL', first);
    await cluster.call(paused!, 'DEL', second);
    const redis = await stalled(down!, paused!);
    const err = (await redis.db
      .with({ timeout: 300 })
      .reply('MSET', first, 'x', second, 'y')
      .catch((e: unknown) => e)) as Failure;
    await new Promise((r) => setTimeout(r, 1200)); // the pause is over: the written part ran
    expect(await cluster.call(paused!, 'GET', second)).toBe('y');
    expect(err.name).toBe('ReplyTimeoutError');
    // The part for `second` was written (and ran): the caller must not read "never sent, nothing done".
    expect(err.sent).toBe(true);
    expect(err.partial).toEqual({ keysDone: 0, keys: 2 }); // no part is known to be done
  });

  it('split (MSET): one part done, the other never sent: sent: true (the call ran in part), partial says which', async () => {
    const [down, up] = cluster.masters().map((m) => m.port);
    const first = await keyOn(down!, 'down');
    const second = await keyOn(up!, 'up');
    await cluster.call(up!, 'DEL', second);
    const redis = await stalled(down!);
    const err = (await redis.db
      .with({ timeout: 300 })
      .reply('MSET', first, 'x', second, 'y')
      .catch((e: unknown) => e)) as Failure & { cause?: Failure };
    expect(await cluster.call(up!, 'GET', second)).toBe('y');
    expect(err.name).toBe('ReplyTimeoutError');
    expect(err.sent).toBe(true);
    expect(err.cause).toMatchObject({ name: 'ReplyTimeoutError', sent: false }); // the part that never left
    expect(err.partial).toEqual({ keysDone: 1, keys: 2 });
  });

  it('fanned out (DBSIZE to every master): sent: true when the first node never got it and another did', async () => {
    const probe = client();
    await probe.db.reply('PING');
    // The client's own order of masters: the fan-out's first part goes to `down`.
    const [down, paused] = probe.nodes('master').map((n) => Number(n.address.slice(n.address.lastIndexOf(':') + 1)));
    const redis = await stalled(down!, paused!);
    const err = (await redis.db
      .with({ timeout: 300 })
      .reply('DBSIZE')
      .catch((e: unknown) => e)) as Failure;
    await new Promise((r) => setTimeout(r, 1200)); // let the pause end before the next test
    expect(err.name).toBe('ReplyTimeoutError');
    expect(err.sent).toBe(true);
  });
});
