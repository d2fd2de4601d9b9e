/**
 * A call past its deadline is undone: an UNSUBSCRIBE follows its SUBSCRIBE.
 * When that UNSUBSCRIBE's own deadline passes before it could be written
 * (the socket held back: the server stopped with SIGSTOP while a 16 MB
 * SUBSCRIBE fills the socket buffers), the connection drops it; the
 * SUBSCRIBE, written before, still runs once the server goes on. The server
 * must not end up holding a channel nobody holds: the UNSUBSCRIBE is sent
 * again, and is answered once the socket drains. Before, the channel stayed
 * subscribed on the server, its messages read and dropped, until the
 * connection closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, ReplyTimeoutError } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { serverPid, whileStopped } from './support/process-stop.js';
import { useRealServer } from './support/real-server.js';
import { until, within } from './support/until.js';

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

/** How many subscribers the server counts for `channel`. */
async function numsub(channel: string): Promise<number> {
  return Number(((await admin.db.reply('PUBSUB', 'NUMSUB', channel)) as unknown[])[1]);
}

describe('the UNSUBSCRIBE undoing a timed-out call times out unwritten', () => {
  it('is sent again: the server ends up without the channel nobody holds', async () => {
    // commandTimeout is the undo's deadline (1 s); the filler's calls have a long one; no half-open recycling.
    const redis = env.client({ commandTimeout: 1000, staleReplyGrace: 120_000 });
    const filler = redis.subscriber({ timeout: 60_000 });
    const quick = redis.subscriber({ timeout: 300 });
    await filler.subscribe('uu:warm');
    const { big, err } = await whileStopped(pid, async () => {
      const call = outcome(quick.subscribe('uu:x')); // written at once: the server runs it when it goes on
      await new Promise((r) => setImmediate(r));
      const big = outcome(filler.subscribe(Buffer.alloc(16 * 1024 * 1024, 'u'))); // fills the socket: what follows waits
      await new Promise((r) => setImmediate(r));
      const err = await within('the quick call', call);
      // Its SUBSCRIBE (300 ms) and the undo's UNSUBSCRIBE (1 s, never written) both timed out.
      await until('the undo timed out unwritten', () => redis.stats().pubsub.timeouts >= 2);
      return { big, err };
    });
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(await within('the 16 MB subscribe', big, 30_000)).toBeUndefined();
    expect(quick.subscriptions.channels).toEqual([]);
    await until('the server holds uu:x for nobody no longer', async () => (await numsub('uu:x')) === 0);
    // The connection is the same one (nothing reconnected) and still serves the filler.
    expect(await numsub('uu:warm')).toBe(1);
    expect(redis.stats().pubsub).toMatchObject({ connections: 1, channels: 2, reconnects: 0 });
  });
});
