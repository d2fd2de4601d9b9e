/**
 * Failover under load through real sentinels (issue 12): a master, a replica
 * and three sentinels (down-after 1000 ms). 64 callers INCR their own
 * counter without pause while the master is switched, once with
 * `SENTINEL FAILOVER` and once with kill -9 of the master. Writes must
 * resume at the new master within seconds; for every counter, successes <=
 * value <= successes + maybeExecuted failures (nothing acknowledged lost,
 * nothing run twice behind the caller's back); no other error, no unhandled
 * rejection; a subscriber keeps receiving (it resubscribes at the new master).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLostError, Redis } from '../lib/index.js';
import { startSentinels, type RedisSentinels } from './support/redis-sentinel.js';
import { until } from './support/until.js';

const CALLERS = 64;

let sentinels: RedisSentinels;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  sentinels = await startSentinels({ replicas: 1, downAfterMs: 1000 });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await sentinels?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Load {
  prefix: string;
  ok: number[];
  maybe: number[];
  other: Error[];
  /** Date.now() of every success of a call issued at or after `since`. */
  firstSuccessAfter(since: number): number | undefined;
  stop(): Promise<void>;
}

/** 64 callers, each INCRing `<prefix>:<i>` in a loop, counting what happened to every call. */
function load(redis: Redis, prefix: string): Load {
  const ok = new Array<number>(CALLERS).fill(0);
  const maybe = new Array<number>(CALLERS).fill(0);
  const other: Error[] = [];
  const successes: [issued: number, done: number][] = [];
  let stopped = false;
  const caller = async (i: number) => {
    while (!stopped) {
      const issued = Date.now();
      try {
        await redis.db.reply('INCR', `${prefix}:${i}`);
        ok[i]!++;
        successes.push([issued, Date.now()]);
      } catch (err) {
        if (err instanceof ConnectionLostError && err.maybeExecuted) maybe[i]!++;
        else {
          other.push(err as Error);
          await sleep(10); // an unexpected error must not spin
        }
      }
    }
  };
  const running = Array.from({ length: CALLERS }, (_, i) => caller(i));
  return {
    prefix,
    ok,
    maybe,
    other,
    firstSuccessAfter: (since) => successes.find(([issued]) => issued >= since)?.[1],
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

/** A subscriber on `news` and a publisher through the client, every 20 ms: the messages received. */
async function news(redis: Redis): Promise<{ received: number[]; published: () => number; stop: () => Promise<void> }> {
  const sub = redis.subscriber();
  const received: number[] = [];
  sub.on('message', ({ message }) => received.push(Number(message)));
  await sub.subscribe('news');
  let n = 0;
  let stopped = false;
  const publishing = (async () => {
    while (!stopped) {
      await redis.db.reply('PUBLISH', 'news', String(++n)).catch(() => {});
      await sleep(20);
    }
  })();
  return {
    received,
    published: () => n,
    stop: async () => {
      stopped = true;
      await publishing;
      await sub.close();
    },
  };
}

function client(): Redis {
  return new Redis({ sentinel: { name: 'mymaster', nodes: sentinels.sentinelUrls.slice() }, connectTimeout: 2000, commandTimeout: 10_000 });
}

async function checkCounters(l: Load, master: number): Promise<void> {
  const values = (await sentinels.call(master, 'MGET', ...Array.from({ length: CALLERS }, (_, i) => `${l.prefix}:${i}`))) as (string | null)[];
  for (let i = 0; i < CALLERS; i++) {
    const value = Number(values[i] ?? 0);
    expect(value, `${l.prefix}:${i}: ${l.ok[i]} successes, ${l.maybe[i]} maybe executed`).toBeGreaterThanOrEqual(l.ok[i]!);
    expect(value, `${l.prefix}:${i}: ${l.ok[i]} successes, ${l.maybe[i]} maybe executed`).toBeLessThanOrEqual(l.ok[i]! + l.maybe[i]!);
  }
}

/**
 * Wait (bounded) until the load made `n` more successes on the new master and the subscriber got a message published after now.
 * The 40 s bound only turns writes that never resume into a failure that says so (the tests' own timeout is 60 s); how soon
 * they resume is measured and printed for the README, not asserted: a loaded CI machine would make any tighter bound flake,
 * and so does a split vote among the sentinels, which retry the election only after twice the failover timeout (2 x 3 s).
 */
async function resumed(l: Load, feed: Awaited<ReturnType<typeof news>>, since: number): Promise<void> {
  const mark = feed.published();
  const end = Date.now() + 40_000;
  while (l.firstSuccessAfter(since) === undefined || !feed.received.some((m) => m > mark + 2)) {
    if (Date.now() > end) {
      throw new Error(`writes or messages did not resume (first write: ${l.firstSuccessAfter(since)}, last message ${feed.received.at(-1)} of ${feed.published()}; ${await deployment()})`);
    }
    await sleep(50);
  }
  // Some load on the new master before stopping: every caller succeeded there once more.
  const okAt = l.ok.slice();
  await until('every caller succeeding again on the new master', () => l.ok.every((n, i) => n > okAt[i]!));
}

/**
 * kill -9 of `old` with nothing acknowledged left unreplicated. Redis replicates
 * asynchronously: a master killed under load takes with it the writes it
 * acknowledged and its replica had not received yet (the server's loss, not
 * the client's; seen: 1920 on the promoted replica for 1930 acknowledged
 * INCRs). So writes are paused and the replicas caught up first: every
 * acknowledged write is on the replica that takes over, and the INCRs held by
 * the pause are still in flight when the master dies (maybe executed, for the
 * client), which is what successes <= value <= successes + maybe checks.
 */
async function killQuiesced(d: RedisSentinels, old: number): Promise<void> {
  await d.call(old, 'CLIENT', 'PAUSE', 30_000, 'WRITE');
  try {
    await caughtUp(old, d);
  } catch (err) {
    await d.call(old, 'CLIENT', 'UNPAUSE'); // not left paused for the next test
    throw err;
  }
  await d.killNode(old); // resolves once the process is gone
}

/**
 * Every replica of `master` processed its whole replication stream (writes
 * being paused there, the offset stands still). Reads each replica's own
 * offset rather than the acknowledgements the master collects.
 */
async function caughtUp(master: number, d: RedisSentinels = sentinels): Promise<void> {
  const offsetOf = async (port: number, field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(String(await d.call(port, 'INFO', 'replication')))?.[1]);
  const target = await offsetOf(master, 'master_repl_offset');
  const replicas = d.nodes.filter((n) => n.alive && n.port !== master);
  let seen = '';
  try {
    await until(`the replicas of ${master} at its offset ${target}`, async () => {
      const offsets = await Promise.all(replicas.map((n) => offsetOf(n.port, 'slave_repl_offset')));
      seen = replicas.map((n, i) => `${n.port}: ${offsets[i]}`).join(', ');
      return offsets.every((o) => o >= target);
    });
  } catch (err) {
    throw new Error(`${(err as Error).message} (replicas at ${seen}; ${await deployment()})`);
  }
}

/** What every data node says of itself and what the first sentinel sees, for a failure message. */
async function deployment(): Promise<string> {
  const parts: string[] = [];
  for (const n of sentinels.nodes.filter((x) => x.alive)) {
    parts.push(`${n.port} ${JSON.stringify(await sentinels.call(n.port, 'ROLE').catch((e: Error) => e.message))}`);
  }
  const s = sentinels.sentinelPorts[0]!;
  const m = (await sentinels.sentinelCall(s, 'SENTINEL', 'MASTER', sentinels.name).catch((e: Error) => [e.message])) as unknown[];
  parts.push(`sentinel ${s}: master ${JSON.stringify(m.slice(0, 10))}`);
  return parts.join('; ');
}

/** The load and the feed under way on the first master, before the fault (was a 500 ms pause). */
async function underWay(l: Load, feed: Awaited<ReturnType<typeof news>>): Promise<void> {
  await until('every caller succeeding, and a message received', () => l.ok.every((n) => n > 0) && feed.received.length > 0);
}

describe('failover under load', () => {
  it('SENTINEL FAILOVER: writes move to the new master; counters add up; the subscriber keeps receiving', async () => {
    await sentinels.waitSettled();
    const redis = client();
    try {
      await redis.db.reply('PING');
      const l = load(redis, 'manual');
      const feed = await news(redis);
      try {
        await underWay(l, feed);
        const old = await sentinels.masterPort();
        // A plain SENTINEL FAILOVER promotes the replica while the old master
        // still takes writes until the client hears +switch-master (and until
        // the sentinels demote it): writes acknowledged there in that window
        // are lost when it resyncs from the new master, by design of Redis
        // replication, not of the client. To check "nothing acknowledged
        // lost" we pause writes on the old master first and let the replica
        // catch up; the paused INCRs are then in flight at the switch, which
        // is the case under test (they fail with maybeExecuted, or never ran).
        // The pause ends once the client wrote at the new master (it left the
        // old one then): the sentinels can only demote the old master after
        // it (their MULTI ... EXEC waits for the pause too).
        await sentinels.call(old, 'CLIENT', 'PAUSE', 30_000, 'WRITE');
        let t0 = 0;
        let switching: ReturnType<typeof sentinels.failover> | undefined;
        try {
          // Not WAIT: its 5 s server timeout raced the harness client's 5 s
          // one, and a failure there left the master paused for the next test.
          await caughtUp(old);
          t0 = Date.now();
          switching = sentinels.failover();
          switching.catch(() => {}); // awaited below
          await resumed(l, feed, t0);
        } finally {
          await sentinels.call(old, 'CLIENT', 'UNPAUSE');
        }
        const sw = await switching!;
        expect(sw.from).toBe(old);
        const firstWrite = l.firstSuccessAfter(t0)! - t0;
        console.log(`SENTINEL FAILOVER: first write on the new master ${firstWrite} ms after the command (the sentinels switched after ${sw.switchMs} ms)`);
      } finally {
        await l.stop();
        await feed.stop();
      }
      expect(l.other).toEqual([]);
      await checkCounters(l, await sentinels.masterPort());
      expect(l.maybe.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * CALLERS);
    } finally {
      await redis.close();
    }
    expect(unhandled).toEqual([]);
  }, 90_000);

  it('kill -9 of the master: writes resume at the promoted replica within seconds; counters add up; the subscriber keeps receiving', async () => {
    await sentinels.waitSettled();
    const redis = client();
    try {
      await redis.db.reply('PING');
      const l = load(redis, 'killed');
      const feed = await news(redis);
      try {
        await underWay(l, feed);
        const old = await sentinels.masterPort();
        await killQuiesced(sentinels, old);
        const t0 = Date.now();
        await resumed(l, feed, t0);
        const firstWrite = l.firstSuccessAfter(t0)! - t0;
        console.log(`kill -9 of the master (down-after 1000 ms): first successful write ${firstWrite} ms after the master died`);
        expect(await sentinels.waitSettled({ not: old })).not.toBe(old);
      } finally {
        await l.stop();
        await feed.stop();
      }
      expect(l.other).toEqual([]);
      await checkCounters(l, await sentinels.masterPort());
      expect(l.maybe.reduce((a, b) => a + b, 0), 'INCRs held by the pause, in flight at the kill').toBeGreaterThan(0);
    } finally {
      await redis.close();
    }
    expect(unhandled).toEqual([]);
  }, 90_000);
});

describe('with production sentinel clocks (no SENTINEL DEBUG)', () => {
  let production: RedisSentinels;
  beforeAll(async () => {
    production = await startSentinels({ replicas: 1, downAfterMs: 1000, productionClocks: true });
  }, 90_000);
  afterAll(async () => {
    await production?.stop();
  });

  it('kill -9 of the master: the time to the first successful write, as production would see it', async () => {
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: production.sentinelUrls.slice() }, connectTimeout: 2000, commandTimeout: 20_000 });
    try {
      await redis.db.reply('PING');
      const l = load(redis, 'production');
      const feed = await news(redis);
      try {
        await underWay(l, feed);
        const old = await production.masterPort();
        await killQuiesced(production, old);
        const t0 = Date.now();
        await resumed(l, feed, t0);
        const firstWrite = l.firstSuccessAfter(t0)! - t0;
        console.log(`production clocks, kill -9 of the master (down-after 1000 ms): first successful write ${firstWrite} ms after the master died`);
      } finally {
        await l.stop();
        await feed.stop();
      }
      expect(l.other).toEqual([]);
      expect(l.maybe.reduce((a, b) => a + b, 0), 'INCRs held by the pause, in flight at the kill').toBeGreaterThan(0);
      const values = (await production.call(await production.masterPort(), 'MGET', ...Array.from({ length: CALLERS }, (_, i) => `production:${i}`))) as (string | null)[];
      for (let i = 0; i < CALLERS; i++) {
        expect(Number(values[i] ?? 0)).toBeGreaterThanOrEqual(l.ok[i]!);
        expect(Number(values[i] ?? 0)).toBeLessThanOrEqual(l.ok[i]! + l.maybe[i]!);
      }
    } finally {
      await redis.close();
    }
    expect(unhandled).toEqual([]);
  }, 90_000);
});
