/**
 * A subscription the server refuses (an ACL without the channel) rejects that
 * call only, with a typed ServerError, promptly: the error reply is matched to
 * its command, so it is never "a reply nobody asked for" that tears the
 * connection down (the audit saw ~80 reconnects in 3 s and a call that never
 * settled). Both protocols: RESP3 (confirmations are push frames) and RESP2
 * (they are plain arrays).
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, Redis } from '../lib/index.js';
import { useRealServer } from './support/real-server.js';
import { within } from './support/until.js';

const env = useRealServer();
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  await admin.db.reply('ACL', 'SETUSER', 'psu', 'on', '>pw', '~*', 'resetchannels', '&allowed:*', '+@all');
});
afterAll(async () => {
  await admin.close();
});


async function numsub(channel: string): Promise<number> {
  return Number(((await admin.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[])[1]);
}

describe.each([3, 2] as const)('ACL refusals (protocol %i)', (protocol) => {
  it('a forbidden channel rejects that call; allowed channels keep receiving; nothing reconnects', async () => {
    // A deadline of a minute: a refusal not matched to its call would leave it waiting for the deadline (a hang,
    // caught by within()) and end as a ReplyTimeoutError; only the matched refusal is a NoPermError.
    const redis = env.client({ username: 'psu', password: 'pw', protocol, commandTimeout: 60_000 });
    const sub = redis.subscriber();
    const other = redis.subscriber();
    await sub.subscribe('allowed:1');
    await other.psubscribe('allowed:*');

    const err = await within('SUBSCRIBE forbidden refused', sub.subscribe('forbidden').then(() => null, (e: unknown) => e));
    expect(err).toBeInstanceOf(NoPermError);
    // A call naming an allowed and a forbidden channel is refused whole: neither is subscribed.
    await expect(within('SUBSCRIBE allowed:2 forbidden refused', sub.subscribe('allowed:2', 'forbidden'))).rejects.toBeInstanceOf(NoPermError);
    await expect(within('PSUBSCRIBE nope:* refused', sub.psubscribe('nope:*'))).rejects.toBeInstanceOf(NoPermError);
    await expect(within('SSUBSCRIBE forbidden:shard refused', sub.ssubscribe('forbidden:shard'))).rejects.toBeInstanceOf(NoPermError);
    expect(sub.subscriptions).toEqual({ channels: ['allowed:1'], patterns: [], shardChannels: [] });
    expect(await numsub('allowed:2')).toBe(0);

    const mine = once(sub, 'message');
    const theirs = once(other, 'message');
    await admin.db.reply('PUBLISH', 'allowed:1', 'still here');
    expect((await mine)[0]).toEqual({ channel: 'allowed:1', message: 'still here' });
    expect((await theirs)[0]).toEqual({ pattern: 'allowed:*', channel: 'allowed:1', message: 'still here' });
    // Later calls work on the same connection.
    await sub.subscribe('allowed:3');
    expect(await numsub('allowed:3')).toBe(1);
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, connectionLost: 0, connections: 1 });
  });
});
