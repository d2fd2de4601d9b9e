/**
 * The blocking pool under faults, against a real redis-server: health checks
 * never kill a blocked command, a never-sent blocking command follows its
 * retry policy through an outage, and an abandoned blocking command never
 * loses an item, whether or not the user may run CLIENT UNBLOCK.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BusyLoadingError, ClosedError, ConnectError, Redis, RetryPolicy, TimeoutError, type RedisOptions } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { useRealServer } from './support/real-server.js';
import { scriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** A client that reports every 'error' and 'commandError' to the test instead of crashing it. */
function quiet(redis: Redis): Redis {
  redis.on('error', () => {});
  redis.on('commandError', () => {});
  return env.track(redis);
}

/** The policy below, counting the failed tries it is asked about: a try made during an outage is seen, not assumed. */
class CountingRetry extends RetryPolicy {
  tries = 0;
  override delayFor(attempt: number, err: Error): number {
    this.tries++;
    return super.delayFor(attempt, err);
  }
}

describe('health checks and leased connections', () => {
  it('a connection in a blocking command is not health-pinged', async () => {
    const db = env.client({ pingInterval: 300, commandTimeout: 200 }).db;
    await db.reply('DEL', 'hp:empty', 'hp:q');
    const t0 = Date.now();
    const empty = db.reply('BLPOP', 'hp:empty', 2).then(
      (v) => ({ v, ms: Date.now() - t0 }),
      (error) => ({ v: error, ms: Date.now() - t0 }),
    );
    const long = db.reply('BLPOP', 'hp:q', 0).then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
    // Four ping intervals (a window: it checks that no ping comes; a slow
    // machine only lengthens it, and the BLPOP blocks until the RPUSH).
    await sleep(1200);
    await db.reply('RPUSH', 'hp:q', 'late');
    expect(await long).toEqual({ value: ['hp:q', 'late'] });
    const { v, ms } = await empty;
    expect(v).toBeNull(); // the server's own timeout, not a killed connection
    expect(ms).toBeGreaterThanOrEqual(1900);
  });

  it('an idle leased connection is still health-checked', async () => {
    proxy = await FaultProxy.start(env.server.port);
    const redis = quiet(new Redis(proxy.url, { pingInterval: 150, commandTimeout: 300 }));
    expect(await redis.db.reply('BLPOP', 'hp:idle', 0.01)).toBeNull();
    expect(redis.stats().leased).toBe(1);
    proxy.stall(); // half-open: nothing comes back, nothing is closed
    await until('the half-open lease found by its health check and dropped', () => redis.stats().leased === 0);
    proxy.resume();
    expect(await redis.db.reply('BLPOP', 'hp:idle', 0.01)).toBeNull();
  });
});

describe('a blocking command that was never sent follows its retry policy', () => {
  const policy = () => new CountingRetry({ attempts: 10, baseDelay: 20, factor: 2 });

  it('rides out a server that is down while it is tried', async () => {
    const redis = quiet(new Redis(env.server.url));
    const db = redis.db;
    await db.reply('DEL', 'out:q');
    expect(await db.reply('BLPOP', 'out:q', 0.01)).toBeNull(); // a lease exists (and dies with the server)
    await env.server.stop();
    let outcome: Promise<unknown>;
    const retry = policy();
    try {
      await until("the lease's loss is seen: the BLPOP is not written to it", () => redis.stats().leased === 0);
      outcome = db.with({ retry }).reply('BLPOP', 'out:q', 1).then(
        (value) => ({ value }),
        (error) => ({ error }),
      );
      await until('a try of the BLPOP failed while the server is down', () => retry.tries >= 1);
    } finally {
      await env.server.restart();
    }
    expect(await outcome).toEqual({ value: null });
  });

  it('rides out a proxy that refuses connections while it is tried (lease closed before the write)', async () => {
    proxy = await FaultProxy.start(env.server.port);
    const redis = quiet(new Redis(proxy.url));
    const db = redis.db;
    await db.reply('DEL', 'out:p');
    expect(await db.reply('BLPOP', 'out:p', 0.01)).toBeNull();
    proxy.refuse(true);
    proxy.cutAll();
    await until("the lease's loss is seen: the BLPOP is not written to it", () => redis.stats().leased === 0);
    const retry = policy();
    const outcome = db.with({ retry }).reply('BLPOP', 'out:p', 1).then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
    await until('a try of the BLPOP refused', () => retry.tries >= 1);
    proxy.refuse(false);
    expect(await db.reply('RPUSH', 'out:p', 'after')).toBe(1);
    expect(await outcome).toEqual({ value: ['out:p', 'after'] });
  });

  it('a refusal before running (LOADING) is retried with the policy too', async () => {
    let loading = 2;
    const server = await scriptedServer((args) => {
      if (args[0] !== 'BLPOP') return undefined;
      return loading-- > 0 ? '-LOADING Redis is loading the dataset in memory\r\n' : '_\r\n';
    });
    try {
      const db = quiet(new Redis(server.url)).db;
      expect(await db.with({ retry: policy() }).reply('BLPOP', 'out:l', 1)).toBeNull();
      expect(server.received.filter((c) => c[0] === 'BLPOP').length).toBe(3);
      await expect(db.with({ retry: RetryPolicy.none() }).reply('BLPOP', 'out:l', 1)).resolves.toBeNull();
      loading = 5;
      await expect(db.with({ retry: RetryPolicy.constant({ attempts: 2, delay: 5 }) }).reply('BLPOP', 'out:l', 1)).rejects.toBeInstanceOf(BusyLoadingError);
    } finally {
      await server.close();
    }
  });

  it('without a policy that allows another try, it rejects with ConnectError, promptly', async () => {
    // A deadline of a minute: a BLPOP that waited for the server to come back would hang, and end as a ReplyTimeoutError.
    const db = quiet(new Redis(env.server.url, { commandTimeout: 60_000 })).db;
    await db.reply('PING');
    await env.server.stop();
    try {
      await expect(within('BLPOP fails without a retry', db.with({ retry: RetryPolicy.none() }).reply('BLPOP', 'out:n', 1))).rejects.toBeInstanceOf(ConnectError);
      await expect(within('BLPOP fails after its one retry', db.reply('BLPOP', 'out:n', 1))).rejects.toBeInstanceOf(ConnectError); // the default: one more try
    } finally {
      await env.server.restart();
    }
  });
});

describe('an abandoned blocking command never loses an item', () => {
  beforeAll(async () => {
    const admin = new Redis(env.server.url);
    // Neither CLIENT ID nor CLIENT UNBLOCK:
    await admin.db.reply('ACL', 'SETUSER', 'limited', 'on', '>pw', '~*', '&*', '+@all', '-client');
    // CLIENT ID, but not CLIENT UNBLOCK (what `-@admin` or `-@dangerous` also give):
    await admin.db.reply('ACL', 'SETUSER', 'nounblock', 'on', '>pw', '~*', '&*', '+@all', '-client|unblock');
    await admin.close();
  });

  /**
   * 100 RPUSHes race 100 BLPOPs whose client-side deadline (20..80 ms) passes
   * first, over a link that takes 15 ms each way (so a popped item is often
   * still on its way when the deadline passes). Every item must end up exactly
   * once: delivered to a caller, emitted as 'orphanedReply', or still in the list.
   */
  async function race(opts: RedisOptions, user?: string): Promise<void> {
    proxy = await FaultProxy.start(env.server.port);
    proxy.slow(15);
    const url = user ? proxy.url.replace('redis://', `redis://${user}:pw@`) : proxy.url;
    // A short staleReplyGrace: draining must not depend on the connection outliving it.
    const redis = quiet(new Redis(url, { staleReplyGrace: 200, ...opts }));
    const pusher = env.client().db;
    const key = `race:${user ?? 'default'}`;
    await pusher.reply('DEL', key);
    const orphans: string[] = [];
    redis.on('orphanedReply', ({ value }) => orphans.push((value as string[])[1]!));
    const delivered: string[] = [];
    const items = Array.from({ length: 100 }, (_, i) => `item-${i}`);
    for (let batch = 0; batch < 10; batch++) {
      const work: Promise<unknown>[] = [];
      for (let j = 0; j < 10; j++) {
        const i = batch * 10 + j;
        work.push(
          redis.db
            .with({ timeout: 20 + (i % 7) * 10 })
            .reply('BLPOP', key, i % 3 === 0 ? 1 : 0)
            .then(
              (v) => v && delivered.push((v as string[])[1]!),
              (err) => expect(err).toBeInstanceOf(TimeoutError), // ReplyTimeoutError, or PoolTimeoutError
            ),
        );
        work.push(sleep((i * 37) % 90).then(() => pusher.reply('RPUSH', key, items[i]!)));
      }
      await Promise.all(work);
    }
    // What an abandoned BLPOP popped reaches us as an orphan, in its own time.
    // Read before the list: an item popped after LRANGE read it is then
    // missed (and read again), never counted twice.
    let found: string[] = [];
    await until('every item delivered, orphaned or still in the list', async () => {
      const seen = [...delivered, ...orphans];
      found = [...seen, ...((await pusher.reply('LRANGE', key, 0, -1)) as string[])];
      return found.length >= items.length;
    });
    await redis.close();
    expect(found.sort()).toEqual([...items].sort());
  }

  it('for a user who may unblock', async () => {
    await race({});
  });

  it('for a user who may run neither CLIENT ID nor CLIENT UNBLOCK', async () => {
    await race({}, 'limited');
  });

  it('for a user who may run CLIENT ID but not CLIENT UNBLOCK', async () => {
    await race({}, 'nounblock');
  });

  it('over RESP2 too (the id comes from CLIENT ID)', async () => {
    await race({ protocol: 2 }, 'nounblock');
  });

  it('close() settles promptly even when no lease can be unblocked', async () => {
    // BLPOP 0 never answers by itself, and a grace of a minute: a close() that waited for the drain (or for the
    // grace before cutting) would hang; within() turns that into a failure.
    const redis = quiet(new Redis(env.server.url.replace('redis://', 'redis://limited:pw@'), { staleReplyGrace: 60_000 }));
    const db = redis.db;
    const blocked = db.reply('BLPOP', 'close:q', 0).catch((e) => e);
    await expect(db.with({ timeout: 50 }).reply('BLPOP', 'close:q', 0)).rejects.toBeInstanceOf(TimeoutError); // now draining
    await sleep(50);
    await within('close() with a lease that cannot be unblocked', redis.close());
    expect(await blocked).toBeInstanceOf(ClosedError);
  });

  it('a lease whose user cannot unblock is reused once the server answered by itself', async () => {
    const url = env.server.url.replace('redis://', 'redis://limited:pw@');
    const db = quiet(new Redis(url, { blockingPool: { size: 1 } })).db;
    const admin = env.client().db;
    const connections = async () =>
      ((await admin.reply('CLIENT', 'LIST')) as string)
        .split('\n')
        .filter((line) => line.includes(' user=limited '))
        .map((line) => line.split(' ')[0]!);
    await db.reply('DEL', 'reuse:q');
    await expect(db.with({ timeout: 50 }).reply('BLPOP', 'reuse:q', 0.3)).rejects.toBeInstanceOf(TimeoutError);
    const before = await connections();
    // The only lease drains until the server's own 0.3 s timeout ends the BLPOP, then serves again.
    expect(await db.reply('BLPOP', 'reuse:q', 0.05)).toBeNull();
    const opened = (await connections()).filter((id) => !before.includes(id));
    expect(opened).toEqual([]);
  });
});
