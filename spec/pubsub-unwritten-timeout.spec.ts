/**
 * A SUBSCRIBE whose deadline passes before it could be written, on a
 * connection that stays up (its socket held back: the server does not read,
 * here because it is stopped with SIGSTOP while a 16 MB SUBSCRIBE fills the
 * socket buffers). The call that sent it rejects (ReplyTimeoutError, not
 * sent) and is undone; whoever else wants the channel must still get it once
 * the socket drains, without a reconnect: the SUBSCRIBE the connection
 * dropped unwritten is sent again. Before, the channel's entry stayed in the
 * hub with no command for it: every later subscribe of that channel joined it
 * and waited for a confirmation that only a reconnect would bring.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ReplyTimeoutError, type Redis } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { within } from './support/until.js';
import { serverPid } from './support/process-stop.js';

const env = useRealServer();
let stopped: number | undefined;

afterEach(() => {
  if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  stopped = undefined;
});

/** `sub` receives a message published on `channel`. */
async function receives(redis: Redis, sub: ReturnType<Redis['subscriber']>, channel: string): Promise<void> {
  const got = new Promise<unknown>((resolve) => sub.on('message', (m) => m.channel === channel && resolve(m)));
  await redis.db.reply('PUBLISH', channel, 'hello');
  expect(await within(`a message on ${channel}`, got)).toEqual({ channel, message: 'hello' });
}

describe('a SUBSCRIBE that timed out unwritten, the connection still up', () => {
  it('is sent again for those still waiting for the channel; a later subscribe of it resolves; nothing reconnects', async () => {
    // Long deadlines for everything but the first call; no half-open recycling while the server is stopped.
    const redis = env.client({ commandTimeout: 30_000, staleReplyGrace: 120_000 });
    const pid = await serverPid(redis);
    const filler = redis.subscriber();
    const early = redis.subscriber({ timeout: 300 });
    const other = redis.subscriber();
    await filler.subscribe('unwritten:warm'); // the pub/sub connection is up
    process.kill(pid, 'SIGSTOP');
    stopped = pid;
    const big = outcome(filler.subscribe(Buffer.alloc(16 * 1024 * 1024, 'x'))); // written, more than the socket buffers take
    await new Promise((r) => setImmediate(r)); // flushed: the socket asks to wait for 'drain'
    const first = outcome(early.subscribe('unwritten:t')); // queued behind it, never written before its deadline
    const second = outcome(other.subscribe('unwritten:t')); // another subscriber waits for the same channel
    expect(await within('the first call', first)).toBeInstanceOf(ReplyTimeoutError);
    process.kill(pid, 'SIGCONT');
    stopped = undefined;
    expect(await within('the 16 MB subscribe', big)).toBeUndefined();
    expect(await within('the other subscriber\'s call', second)).toBeUndefined();
    expect(await within('a later subscribe of the channel', outcome(early.subscribe('unwritten:t')))).toBeUndefined();
    await receives(redis, early, 'unwritten:t');
    await receives(redis, other, 'unwritten:t');
    expect(await redis.db.reply('PUBSUB', 'NUMSUB', 'unwritten:t')).toEqual(['unwritten:t', 1]);
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, connectionLost: 0, channels: 3 });
  });

  it('alone: the call rejects, is undone, and the channel can be subscribed again at once', async () => {
    const redis = env.client({ commandTimeout: 30_000, staleReplyGrace: 120_000 });
    const pid = await serverPid(redis);
    const filler = redis.subscriber();
    const sub = redis.subscriber({ timeout: 300 });
    await filler.subscribe('unwritten:warm');
    process.kill(pid, 'SIGSTOP');
    stopped = pid;
    const big = outcome(filler.subscribe(Buffer.alloc(16 * 1024 * 1024, 'y')));
    await new Promise((r) => setImmediate(r));
    const err = await within('the call', outcome(sub.subscribe('unwritten:alone')));
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(sub.subscriptions.channels).toEqual([]);
    process.kill(pid, 'SIGCONT');
    stopped = undefined;
    expect(await within('the 16 MB subscribe', big)).toBeUndefined();
    expect(await within('the channel subscribed again', outcome(sub.subscribe('unwritten:alone')))).toBeUndefined();
    await receives(redis, sub, 'unwritten:alone');
    expect(redis.stats().pubsub).toMatchObject({ reconnects: 0, connectionLost: 0 });
  });
});
