/**
 * Memory stays bounded (DESIGN safety rule 5) under pub/sub churn on a
 * long-running client, against a real redis-server: thousands of distinct
 * channels and patterns subscribed and let go, subscribers and keyspace
 * streams made and closed, async iterators broken out of early. Afterwards
 * the client holds what it held before: nothing subscribed on the server
 * (`stats().pubsub`), no member left in the hub, no iterator still receiving,
 * no timer or pub/sub socket left. Counts only: no heap sizes, no timings.
 *
 * TEST-ONLY PEEKS at private state, where no public count exists: the hubs
 * are found by wrapping Hub.prototype.stats (redis.stats() asks each), and
 * their `members` map is read; iterators still receiving are found by
 * wrapping BoundedIterator.prototype.push.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peekHubs } from './support/hub-peek.js';
import { BoundedIterator } from '../lib/pubsub/iterator.js';
import { Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { resourcesBackTo } from './support/bounded.js';

const env = useRealServer();
const turn = () => new Promise((r) => setImmediate(r));

// ---- test-only peeks ----
const { hubsOf, members } = peekHubs();
const pushedTo = new Set<object>();
const push = BoundedIterator.prototype.push;
beforeAll(() => {
  BoundedIterator.prototype.push = function (this: BoundedIterator<unknown>, value: unknown) {
    pushedTo.add(this);
    return push.call(this, value);
  };
});
afterAll(() => {
  BoundedIterator.prototype.push = push;
});

/** How many iterators still receive: each one given the next message published to `channel`. */
async function iteratorsReceiving(redis: Redis, publisher: Redis, channel: string): Promise<number> {
  const probe = redis.subscriber();
  let got = 0;
  const arrived = new Promise<void>((resolve) =>
    probe.on('message', () => {
      got++;
      resolve();
    }),
  );
  await probe.subscribe(channel);
  pushedTo.clear();
  await publisher.db.reply('PUBLISH', channel, 'probe');
  await arrived;
  await turn();
  await probe.close();
  expect(got).toBe(1);
  return pushedTo.size;
}

function expectNothingSubscribed(redis: Redis): void {
  const p = redis.stats().pubsub;
  expect({ channels: p.channels, patterns: p.patterns, shardChannels: p.shardChannels }).toEqual({ channels: 0, patterns: 0, shardChannels: 0 });
}

describe('subscribe / unsubscribe churn on one subscriber', () => {
  it('3,000 distinct channels and 3,000 patterns subscribed and let go, 10 at a time: nothing held afterwards', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    for (let i = 0; i < 300; i++) {
      const names = Array.from({ length: 10 }, (_, j) => `churn:ch:${i}:${j}`);
      const patterns = names.map((n) => `${n}:*`);
      await Promise.all([sub.subscribe(...names), sub.psubscribe(...patterns)]);
      if (i % 3 === 0) {
        await sub.unsubscribe(); // every channel of this subscriber
        await sub.punsubscribe();
      } else {
        await Promise.all([sub.unsubscribe(...names), sub.punsubscribe(...patterns)]);
      }
    }
    expectNothingSubscribed(redis);
    expect(sub.subscriptions).toEqual({ channels: [], patterns: [], shardChannels: [] });
    const [hub] = hubsOf(redis);
    expect(members(hub!)).toBeLessThanOrEqual(1); // this subscriber, still open
    // The server agrees: nothing subscribed on the pub/sub connection.
    expect(await redis.db.reply('PUBSUB', 'NUMPAT')).toBe(0);
    expect(await redis.db.reply('PUBSUB', 'CHANNELS', 'churn:*')).toEqual([]);
    await sub.close();
    expect(members(hub!)).toBe(0);
  });

  it('subscribes given up before their confirmation (unsubscribed while in flight), 2,000 times: nothing held', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    for (let i = 0; i < 1000; i++) {
      const s = sub.subscribe(`race:${i}`).catch((e: unknown) => e);
      const u = sub.unsubscribe(`race:${i}`);
      const ps = sub.psubscribe(`race:${i}:*`).catch((e: unknown) => e);
      const pu = sub.punsubscribe(`race:${i}:*`);
      await Promise.all([s, u, ps, pu]);
    }
    expectNothingSubscribed(redis);
    expect(sub.subscriptions).toEqual({ channels: [], patterns: [], shardChannels: [] });
    await sub.close();
  });
});

describe('subscribers made and closed', () => {
  it('500 subscribers, each with its own channels and a shared one, closed: no member, no connection, nothing subscribed', async () => {
    const redis = env.client();
    const publisher = env.client();
    const keep = redis.subscriber(); // one long-lived subscriber: the connection stays open throughout
    await keep.subscribe('shared:ch');
    for (let i = 0; i < 500; i++) {
      const sub = redis.subscriber(i % 2 === 0 ? {} : { decode: 'buffer' });
      sub.on('message', () => {});
      await sub.subscribe('shared:ch', `own:${i}`);
      await sub.psubscribe(`own:${i}:*`);
      if (i % 5 === 0) await publisher.db.reply('PUBLISH', 'shared:ch', 'x');
      await sub.close();
    }
    const [hub] = hubsOf(redis);
    expect(members(hub!)).toBe(1); // `keep` only
    expect(redis.stats().pubsub).toMatchObject({ channels: 1, patterns: 0, connections: 1 });
    await keep.close();
    expect(members(hub!)).toBe(0);
    expectNothingSubscribed(redis);
    expect(redis.stats().pubsub.connections).toBe(0); // the last member closed the connection
  });

  it('300 keyspace streams opened and closed: nothing held', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    for (let i = 0; i < 300; i++) {
      const ks = await sub.keyspace(`ks:${i}:*`, { configure: i === 0 });
      await ks.close();
    }
    expectNothingSubscribed(redis);
    const [hub] = hubsOf(redis);
    expect(members(hub!)).toBeLessThanOrEqual(1);
    await sub.close();
    expect(members(hub!)).toBe(0);
  });
});

describe('async iterators broken out of early', () => {
  it('1,000 iterators left by break, throw and return(): none still receives messages', async () => {
    const redis = env.client();
    const publisher = env.client();
    const sub = redis.subscriber();
    await sub.subscribe('iter:ch');
    for (let i = 0; i < 1000; i++) {
      const got = (async () => {
        try {
          for await (const m of sub) {
            if (i % 3 === 0) break;
            if (i % 3 === 1) throw new Error('consumer failed');
            return m;
          }
        } catch {
          /* the consumer's own error */
        }
        return undefined;
      })();
      await turn();
      await publisher.db.reply('PUBLISH', 'iter:ch', `m${i}`);
      await got;
    }
    // Iterators made and never iterated but closed with return():
    for (let i = 0; i < 500; i++) {
      const it = sub[Symbol.asyncIterator]();
      await it.return!();
    }
    expect(await iteratorsReceiving(redis, publisher, 'iter:ch')).toBe(0);
    const live = sub[Symbol.asyncIterator](); // and a live one does receive: the count can see a leak
    expect(await iteratorsReceiving(redis, publisher, 'iter:ch')).toBe(1);
    await live.return!();
    await sub.close();
  });
});

describe('keyspace iterators broken out of early', () => {
  it('500 iterators over one keyspace stream left by break and return(): none still receives events', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    const ks = await sub.keyspace('kit:*', { configure: true, events: ['set'] });
    for (let i = 0; i < 500; i++) {
      const got = (async () => {
        for await (const e of ks) return e;
        return undefined;
      })();
      if (i % 2 === 0) await redis.db.reply('SET', 'kit:k', i);
      else {
        const it = ks[Symbol.asyncIterator]();
        await it.return!();
        await redis.db.reply('SET', 'kit:k', i);
      }
      expect(await got).toMatchObject({ key: 'kit:k', event: 'set' });
    }
    pushedTo.clear();
    const seen = new Promise((r) => ks.once('event', r));
    await redis.db.reply('SET', 'kit:k', 'last');
    await seen;
    expect(pushedTo.size).toBe(0);
    await ks.close();
    await sub.close();
    expectNothingSubscribed(redis);
  });
});

describe('after close()', () => {
  it('a client with 200 subscribers and their iterators leaves no timer or socket once closed', async () => {
    await turn();
    const before = process.getActiveResourcesInfo().length;
    const redis = new Redis(env.server.url);
    for (let i = 0; i < 200; i++) {
      const sub = redis.subscriber();
      await sub.subscribe(`end:${i}`);
      void sub[Symbol.asyncIterator]().next();
    }
    await redis.close();
    await resourcesBackTo(before);
  });
});
