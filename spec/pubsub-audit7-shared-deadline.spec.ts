/**
 * Each subscribe call settles by its own deadline (the subscriber's
 * `timeout`), not another's. Two subscribers waiting for the same channel
 * share one SUBSCRIBE on the wire, sent with the deadline of the call that
 * sent it; when that deadline passed on a stalled server, the other
 * subscriber's call failed with it too (a ReplyTimeoutError long before its
 * own 30 s), and the channel it wanted was undone.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError } from '../lib/index.js';
import { FaultProxy } from './support/fault-proxy.js';
import { tracked } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';

const env = useRealServer();
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

describe('two subscribers waiting for one channel on a stalled server', () => {
  it("the short deadline fails only its own call; the other's waits for the confirmation", async () => {
    const proxy = await FaultProxy.start(env.server.port);
    proxies.push(proxy);
    const redis = env.track(new Redis(proxy.url));
    const hasty = redis.subscriber({ timeout: 200 });
    const patient = redis.subscriber({ timeout: 30_000 });
    await patient.subscribe('sd:pre'); // connected: what follows is written at once

    proxy.stall();
    const first = tracked(hasty.subscribe('sd:ch'));
    const second = tracked(patient.subscribe('sd:ch'));
    expect(await within('the short deadline', first.result)).toBeInstanceOf(ReplyTimeoutError);
    // The SUBSCRIBE on the wire (sent with the short deadline) has timed out as well.
    await until('the command timed out', () => redis.stats().pubsub.timeouts >= 1);
    expect(second.settled()).toBe(false);

    proxy.resume();
    expect(await within('the late confirmation', second.result)).toBeUndefined();
    expect(patient.subscriptions.channels).toEqual(['sd:pre', 'sd:ch']);
    expect(hasty.subscriptions.channels).toEqual([]);
    const admin = env.client();
    expect(Number(((await admin.db.reply('PUBSUB', 'NUMSUB', 'sd:ch')) as unknown[])[1])).toBe(1);
    const got = once(patient, 'message');
    await admin.db.reply('PUBLISH', 'sd:ch', 'hi');
    expect((await within('delivered', got))[0]).toEqual({ channel: 'sd:ch', message: 'hi' });
  });
});
