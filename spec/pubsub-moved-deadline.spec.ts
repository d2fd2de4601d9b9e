/**
 * A shard subscribe answered MOVED is made again where routing now places
 * it, a bounded number of times with a pause between (10, 20, 40, 80, 160
 * ms). Each time was given the subscriber's whole deadline again, so a call
 * with a 50 ms deadline against nodes that kept answering MOVED went on for
 * about 310 ms of pauses and six SSUBSCRIBEs: its deadline did not bound it.
 * The pauses and the new tries now come out of the one deadline. A scripted
 * one-node "cluster" that answers every SSUBSCRIBE with MOVED to itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MovedError, Redis, ReplyTimeoutError } from '../lib/index.js';
import { keySlot } from '../lib/commands/slot.js';
import { oneNodeCluster } from './support/scripted-cluster.js';
import type { ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

/** Every SSUBSCRIBE answered MOVED to this node itself. */
async function movingNode(): Promise<ScriptedServer> {
  const srv = await oneNodeCluster((args, port) => (args[0]!.toUpperCase() === 'SSUBSCRIBE' ? `-MOVED ${keySlot(Buffer.from(args[1]!))} 127.0.0.1:${port}\r\n` : undefined));
  servers.push(srv);
  return srv;
}

describe('a shard subscribe answered MOVED again and again', () => {
  it('settles within its deadline: the pauses and new tries come out of it, not a fresh deadline each', async () => {
    const srv = await movingNode();
    const redis = new Redis({ nodes: [srv.url], mode: 'cluster' });
    redis.on('error', () => {});
    clients.push(redis);
    expect(await redis.db.reply('PING')).toBe('PONG'); // the slot map is in
    const sub = redis.subscriber({ timeout: 50 });
    const err = await sub.ssubscribe('moved-deadline').catch((e: unknown) => e);
    // The pauses before the 5th try add up to 150 ms, three times the deadline: no more than 4 tries fit in it
    // (before: 6, the last one given a fresh 50 ms).
    const tries = srv.received.filter((a) => a[0]!.toUpperCase() === 'SSUBSCRIBE').length;
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(4);
    // Past the deadline between two tries, the MOVED is its cause; on a loaded machine the last try's own (shortened)
    // deadline can pass first (CI once): a ReplyTimeoutError either way, within the one deadline.
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause !== undefined) expect(cause).toBeInstanceOf(MovedError);
    expect(sub.subscriptions.shardChannels).toEqual([]);
    await sub.close();
  });
});
