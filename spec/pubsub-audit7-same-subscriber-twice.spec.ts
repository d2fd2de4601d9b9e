/**
 * One subscriber asking for the same channel in two overlapping calls: the
 * second waits for the SUBSCRIBE the first sent. When the first call failed
 * (its deadline, or a refusal of another name it named), its undo released
 * the channel and the second call resolved at once, with nothing
 * subscribed: a resolved subscribe() must mean the server confirmed it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NoPermError, Redis, ReplyTimeoutError } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { within } from './support/until.js';

const env = useRealServer();
const proxies: FaultProxy[] = [];
let admin: Redis;
beforeAll(() => {
  admin = new Redis(env.server.url);
});
afterAll(async () => {
  await admin.close();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function numsub(channel: string): Promise<number> {
  return Number(((await admin.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[])[1]);
}

describe('the same channel in two overlapping calls of one subscriber', () => {
  it('the first refused for another name: the second still subscribes it', async () => {
    await admin.db.reply('ACL', 'SETUSER', 'tw7', 'on', '>pw', '~*', 'resetchannels', '&tw:ok*', '+@all');
    const redis = env.client({ username: 'tw7', password: 'pw' });
    const sub = redis.subscriber();
    await sub.subscribe('tw:ok0');
    const first = outcome(sub.subscribe('tw:ok1', 'tw:bad'));
    const second = outcome(sub.subscribe('tw:ok1'));
    expect(await within('the first call', first)).toBeInstanceOf(NoPermError);
    expect(await within('the second call', second)).toBeUndefined();
    expect(sub.subscriptions.channels).toEqual(['tw:ok0', 'tw:ok1']);
    expect(await numsub('tw:ok1')).toBe(1);
  });

  it('the first past its deadline on a stalled server: the second is not resolved by that (it fails by its own)', async () => {
    const proxy = await FaultProxy.start(env.server.port);
    proxies.push(proxy);
    const redis = env.track(new Redis(proxy.url));
    const sub = redis.subscriber({ timeout: 200 });
    await sub.subscribe('tw:pre');
    proxy.stall();
    const first = outcome(sub.subscribe('tw:ch'));
    const second = outcome(sub.subscribe('tw:ch')); // its deadline timer fires right after the first one's
    expect(await within('the first call', first)).toBeInstanceOf(ReplyTimeoutError);
    expect(await within('the second call', second)).toBeInstanceOf(ReplyTimeoutError);
    expect(sub.subscriptions.channels).toEqual(['tw:pre']);
    proxy.resume();
    await sub.subscribe('tw:ch');
    expect(sub.subscriptions.channels).toEqual(['tw:pre', 'tw:ch']);
  });
});
