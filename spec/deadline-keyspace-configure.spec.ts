/**
 * `sub.keyspace(pattern, { configure: true })` settles within the
 * subscriber's timeout: the CONFIG GET / CONFIG SET it sends first count in
 * the call's one deadline, as the subscription after them does.
 *
 * Before, those commands were sent with the client's commandTimeout (10 s by
 * default) and only the PSUBSCRIBE after them had the subscriber's deadline:
 * a 200 ms call on a server stuck for 3 s waited the 3 s, then subscribed.
 * Here the server is held by DEBUG SLEEP on the same client (its CONFIG GET
 * queues behind it): the call rejects with the CONFIG's ReplyTimeoutError
 * and nothing is subscribed.
 */
import { describe, expect, it } from 'vitest';
import { ReplyTimeoutError } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

describe('sub.keyspace(pattern, { configure: true }) on a stuck server', () => {
  it("rejects within the subscriber's timeout, CONFIG included; nothing is subscribed", async () => {
    const redis = env.client({ commandTimeout: 10_000 });
    const sub = redis.subscriber({ timeout: 200 });
    await redis.db.reply('PING');
    const sleep = redis.db.reply('DEBUG', 'SLEEP', '3');
    let answered = false;
    void sleep.then(() => (answered = true));
    const err = await sub.keyspace('dlk:*', { configure: true }).catch((e: unknown) => e);
    const whileStuck = answered ? 'server answered' : 'still stuck';
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect((err as ReplyTimeoutError).command).toBe('CONFIG GET');
    expect(whileStuck).toBe('still stuck'); // settled by its deadline, not by the server coming back
    expect(await sleep).toBe('OK');
    expect(sub.subscriptions.patterns).toEqual([]);
    expect(await redis.db.reply('PUBSUB', 'NUMPAT')).toBe(0);
    await sub.close();
  }, 20_000);
});
