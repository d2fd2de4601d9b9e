/**
 * README: "a name the server refuses (an ACL without that channel:
 * `NoPermError`) rejects that call only, and the whole call is undone". An
 * `ssubscribe` of shard channels in several slots (one SSUBSCRIBE per slot on
 * the wire) was made of one call per slot: the refused slot's part was
 * undone, the others stayed subscribed behind the rejected call.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { NoPermError } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

describe('ssubscribe of several slots, one channel refused', () => {
  it.each([3, 2] as const)('rejects, and none of them stays subscribed (protocol %i)', async (protocol) => {
    const admin = env.client();
    const user = `sw${protocol}`;
    await admin.db.reply('ACL', 'SETUSER', user, 'on', '>pw', '~*', 'resetchannels', `&${user}:ok:*`, '+@all');
    const redis = env.client({ username: user, password: 'pw', protocol });
    const sub = redis.subscriber();
    const names = [`${user}:ok:a`, `${user}:ok:b`, `${user}:bad`];
    expect(new Set(names.map((n) => keySlot(Buffer.from(n)))).size).toBe(3);
    expect(await outcome(sub.ssubscribe(...names))).toBeInstanceOf(NoPermError);
    expect(sub.subscriptions.shardChannels).toEqual([]);
    const shardnumsub = async () => (await admin.db.reply('PUBSUB', 'SHARDNUMSUB', names[0]!, names[1]!)) as unknown[];
    await until('nothing left subscribed on the server', async () => String(await shardnumsub()) === `${names[0]},0,${names[1]},0`);
    expect(redis.stats().pubsub.shardChannels).toBe(0);
  });
});
