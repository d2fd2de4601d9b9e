/**
 * Review of f13d72c (per-call holds): a call past its deadline is undone
 * while its SUBSCRIBE is still unanswered (the server held still with
 * SIGSTOP), and the same names are asked for again, by another subscriber
 * and by the same one, before the server answers anything. On the wire:
 * the late SUBSCRIBE, its UNSUBSCRIBE, then the new SUBSCRIBE; the late
 * confirmation belongs to an entry let go of and must not settle or keep
 * anything of the new one. Afterwards the server holds each name once, for
 * the calls that resolved, and messages arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError, type Message } from '../lib/index.js';
import { tracked } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';
import { pubsubClients } from './support/server-pubsub.js';
import { serverPid } from './support/process-stop.js';

const env = useRealServer();
let admin: Redis;
let pid: number;

beforeAll(async () => {
  admin = new Redis(env.server.url);
  pid = await serverPid(admin);
});
afterAll(async () => {
  await admin.close();
});

describe('a timed-out call undone before its SUBSCRIBE is answered, its names asked for again meanwhile', () => {
  it('the new calls resolve on their own SUBSCRIBE; the server ends up holding each name once', async () => {
    const redis = env.client();
    const quick = redis.subscriber({ timeout: 200 });
    const other = redis.subscriber({ timeout: 0 });
    await other.subscribe('l:warm');
    const calls = await (async () => {
      process.kill(pid, 'SIGSTOP');
      try {
        const first = { channels: tracked(quick.subscribe('l:x', 'l:y')), pattern: tracked(quick.psubscribe('l:p*')) };
        await until('the quick calls timed out', () => first.channels.settled() && first.pattern.settled());
        // Asked for again while the first SUBSCRIBE and its UNSUBSCRIBE are still unanswered.
        return {
          first,
          otherX: tracked(other.subscribe('l:x')),
          quickY: tracked(redis.subscriber({ timeout: 0 }).subscribe('l:y')),
          otherPattern: tracked(other.psubscribe('l:p*')),
        };
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    })();
    expect(await calls.first.channels.result).toBeInstanceOf(ReplyTimeoutError);
    expect(await calls.first.pattern.result).toBeInstanceOf(ReplyTimeoutError);
    expect(await within('other x', calls.otherX.result)).toBeUndefined();
    expect(await within('y again', calls.quickY.result)).toBeUndefined();
    expect(await within('other pattern', calls.otherPattern.result)).toBeUndefined();
    expect(quick.subscriptions).toEqual({ channels: [], patterns: [], shardChannels: [] });
    await until('the server holds l:warm, l:x, l:y and l:p* once each', async () => JSON.stringify(await pubsubClients(admin)) === JSON.stringify([{ sub: 3, psub: 1 }]));
    const got: Message[] = [];
    other.on('message', (m) => got.push(m));
    expect(await admin.db.reply('PUBLISH', 'l:x', 'm1')).toBe(1);
    expect(await admin.db.reply('PUBLISH', 'l:p1', 'm2')).toBe(1);
    await until('delivered by channel and by pattern', () => got.length === 2);
    expect(got).toEqual([{ channel: 'l:x', message: 'm1' }, { pattern: 'l:p*', channel: 'l:p1', message: 'm2' }]);
    expect(redis.stats().pubsub).toMatchObject({ channels: 3, patterns: 1, reconnects: 0 });
  });
});
