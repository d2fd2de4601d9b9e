/**
 * The server refuses a SUBSCRIBE of several names whole when the ACL forbids
 * one of them (NOPERM names no channel). The hub sends several names in one
 * command in two cases where they are not one caller's: restoring every
 * subscription after a reconnect, and a name another subscriber joined
 * while its SUBSCRIBE was in flight. A refusal there must refuse only what
 * is forbidden (DESIGN.md: "an ACL refusal is a ServerError for that call
 * only"); it used to drop every allowed subscription with it.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, Redis, type Message } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();
const FAST = { reconnect: { baseDelay: 5, maxDelay: 20 } };
let admin: Redis;

beforeAll(() => {
  admin = new Redis(env.server.url);
});
afterAll(async () => {
  await admin.close();
});

async function numsub(channel: string): Promise<number> {
  return Number(((await admin.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[])[1]);
}

describe.each([3, 2] as const)('a partial ACL refusal (protocol %i)', (protocol) => {
  it('a channel revoked while subscribed: after the reconnect the server forces, only it is dropped (with an "error"); the allowed ones are back', async () => {
    const user = `rv${protocol}`;
    await admin.db.reply('ACL', 'SETUSER', user, 'on', '>pw', '~*', 'resetchannels', `&${user}:ok`, `&${user}:bad`, `&${user}:p:*`, `&${user}:q:*`, '+@all');
    const redis = env.client({ username: user, password: 'pw', protocol, ...FAST });
    const sub = redis.subscriber();
    const errors: Error[] = [];
    sub.on('error', (e) => errors.push(e));
    await sub.subscribe(`${user}:ok`, `${user}:bad`);
    await sub.psubscribe(`${user}:p:*`, `${user}:q:*`);
    const ready = new Promise<void>((resolve) => sub.once('ready', () => resolve())); // once() would reject at the 'error'
    // Redis disconnects a subscriber whose channels the ACL no longer allows.
    await admin.db.reply('ACL', 'SETUSER', user, 'resetchannels', `&${user}:ok`, `&${user}:p:*`);
    await within('"ready" after the reconnect', ready);

    expect(sub.subscriptions).toEqual({ channels: [`${user}:ok`], patterns: [`${user}:p:*`], shardChannels: [] });
    const refused = errors.filter((e) => e instanceof NoPermError);
    expect(refused).toHaveLength(2);
    expect(await numsub(`${user}:ok`)).toBe(1);
    const got: Message[] = [];
    sub.on('message', (m) => got.push(m));
    await admin.db.reply('PUBLISH', `${user}:ok`, 'still');
    await admin.db.reply('PUBLISH', `${user}:p:1`, 'still');
    await until('both delivered', () => got.length === 2);
    expect(got).toEqual([
      { channel: `${user}:ok`, message: 'still' },
      { pattern: `${user}:p:*`, channel: `${user}:p:1`, message: 'still' },
    ]);
    expect(redis.stats().pubsub).toMatchObject({ channels: 1, patterns: 1, reconnects: 1 });
  });

  it("another subscriber's call joining a name in flight is not refused for the first call's forbidden name", async () => {
    const user = `sh${protocol}`;
    await admin.db.reply('ACL', 'SETUSER', user, 'on', '>pw', '~*', 'resetchannels', `&${user}:ok*`, '+@all');
    const redis = env.client({ username: user, password: 'pw', protocol });
    const a = redis.subscriber();
    const b = redis.subscriber();
    await a.subscribe(`${user}:ok0`); // the connection is up: both calls below are written back to back
    const first = outcome(a.subscribe(`${user}:ok1`, `${user}:bad`));
    const second = outcome(b.subscribe(`${user}:ok1`));
    expect(await within('the first call refused', first)).toBeInstanceOf(NoPermError);
    expect(await within('the second call settled', second)).toBeUndefined();

    expect(a.subscriptions.channels).toEqual([`${user}:ok0`]);
    expect(b.subscriptions.channels).toEqual([`${user}:ok1`]);
    expect(await numsub(`${user}:ok1`)).toBe(1);
    const got = once(b, 'message');
    await admin.db.reply('PUBLISH', `${user}:ok1`, 'hi');
    expect((await within('delivered', got))[0]).toEqual({ channel: `${user}:ok1`, message: 'hi' });
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, channels: 2 });
  });

  it('a subscriber joining the forbidden name in flight is refused with it', async () => {
    const user = `sb${protocol}`;
    await admin.db.reply('ACL', 'SETUSER', user, 'on', '>pw', '~*', 'resetchannels', `&${user}:ok*`, '+@all');
    const redis = env.client({ username: user, password: 'pw', protocol });
    const a = redis.subscriber();
    const b = redis.subscriber();
    await a.subscribe(`${user}:ok0`);
    const first = outcome(a.subscribe(`${user}:ok1`, `${user}:bad`));
    const second = outcome(b.subscribe(`${user}:bad`));
    expect(await within('the first call refused', first)).toBeInstanceOf(NoPermError);
    expect(await within('the second call refused', second)).toBeInstanceOf(NoPermError);
    expect(b.subscriptions.channels).toEqual([]);
    expect(await numsub(`${user}:ok1`)).toBe(0);
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, channels: 1 });
  });
});
