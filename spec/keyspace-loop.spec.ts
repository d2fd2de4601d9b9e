/**
 * "Keyspace notifications: `sub.keyspace(pattern, { db, events })` yields
 * `{ key, event, db }`" (DESIGN.md, Pub/sub). Besides `await sub.keyspace(...)`
 * (a stream to listen to and iterate), the call itself is what a `for await`
 * loop takes: the loop gets every event from the subscription on, and ending
 * the loop (break, throw) closes the stream it made, unsubscribing on the
 * server. A refused subscription throws out of the loop.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type KeyspaceEvent } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

async function patterns(redis: ReturnType<typeof env.client>): Promise<number> {
  return Number(await redis.db.reply('PUBSUB', 'NUMPAT'));
}

describe('for await (const e of sub.keyspace(...))', () => {
  it('yields { key, event, db } from the subscription on, and the loop ending closes the stream', async () => {
    const redis = env.client();
    await redis.db.reply('CONFIG', 'SET', 'notify-keyspace-events', 'KA');
    const sub = redis.subscriber();
    const seen: KeyspaceEvent<string>[] = [];
    const loop = (async () => {
      for await (const e of sub.keyspace('loop:*', { db: 0, events: ['set', 'del'] })) {
        seen.push(e);
        if (seen.length === 2) break;
      }
    })();
    await until('the loop subscribed', async () => (await patterns(redis)) === 1);
    await redis.db.reply('SET', 'loop:1', 'x');
    await redis.db.reply('INCR', 'loop:n'); // not a chosen event
    await redis.db.reply('DEL', 'loop:1');
    await loop;
    expect(seen).toEqual([
      { key: 'loop:1', event: 'set', db: 0 },
      { key: 'loop:1', event: 'del', db: 0 },
    ]);
    await until('the loop unsubscribed', async () => (await patterns(redis)) === 0);
    expect(sub.subscriptions.patterns).toEqual([]);
  });

  it('a refused call throws out of the loop; awaiting the call still gives the stream', async () => {
    const redis = env.client();
    const sub = redis.subscriber();
    const err = await (async () => {
      for await (const _e of sub.keyspace('loop:*', { dbb: 0 } as never)) break;
    })().catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const ks = await sub.keyspace('loop:*', { configure: true });
    const got = new Promise<KeyspaceEvent<string>>((resolve) => ks.once('event', resolve));
    await redis.db.reply('SET', 'loop:2', 'y');
    expect(await got).toEqual({ key: 'loop:2', event: 'set', db: 0 });
    await ks.close();
  });
});
