/**
 * A subscribe call's ReplyTimeoutError says whether anything it waited for
 * was written: `sent: false` when its SUBSCRIBE was still held back at the
 * deadline (the socket blocked: the server stopped with SIGSTOP while a 16 MB
 * SUBSCRIBE fills the socket buffers), so nothing of it reached the server;
 * `sent: true` when it was written and the server did not answer in time.
 * Before, the call's error said `sent: true` either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { serverPid, whileStopped } from './support/process-stop.js';
import { useRealServer } from './support/real-server.js';
import { within } from './support/until.js';

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

describe("a subscribe call's timeout error", () => {
  it('says sent: false when its SUBSCRIBE was never written, and the channel is not subscribed on the server', async () => {
    // Long deadlines for everything but the quick call; no half-open recycling while the server is stopped.
    const redis = env.client({ commandTimeout: 60_000, staleReplyGrace: 120_000 });
    const filler = redis.subscriber();
    const quick = redis.subscriber({ timeout: 300 });
    await filler.subscribe('ts:warm');
    const { big, err } = await whileStopped(pid, async () => {
      const big = outcome(filler.subscribe(Buffer.alloc(16 * 1024 * 1024, 'z'))); // more than the socket buffers take
      await new Promise((r) => setImmediate(r)); // flushed: the socket waits for 'drain'
      const err = await within('the quick call', outcome(quick.subscribe('ts:never', 'ts:never2')));
      return { big, err };
    });
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect((err as ReplyTimeoutError).sent).toBe(false);
    expect(await within('the 16 MB subscribe', big)).toBeUndefined();
    expect(await admin.db.reply('PUBSUB', 'NUMSUB', 'ts:never', 'ts:never2')).toEqual(['ts:never', 0, 'ts:never2', 0]);
  });

  it('says sent: true when its SUBSCRIBE was written and not answered in time', async () => {
    const redis = env.client({ commandTimeout: 60_000, staleReplyGrace: 120_000 });
    const quick = redis.subscriber({ timeout: 300 });
    await redis.subscriber().subscribe('ts:warm2'); // the pub/sub connection is up: the SUBSCRIBE is written at once
    const err = await whileStopped(pid, () => within('the quick call', outcome(quick.subscribe('ts:late'))));
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect((err as ReplyTimeoutError).sent).toBe(true);
  });
});
