/**
 * Review of fce38bf (cluster readFrom: routing sends READONLY as a replica
 * connection's first command; a refusal keeps reads off that replica). Every
 * ServerError counts as a refusal, for the life of the connection: a BUSY
 * (the replica runs a long read-only script while the client connects: HELLO
 * is allowed then, READONLY is not) took the replica out of read routing for
 * good, although nothing was wrong with the rights. Before fce38bf READONLY
 * was in the handshake, and a BUSY there (refused before running: transient)
 * meant a reconnect and READONLY again.
 */
import { describe, expect, it } from 'vitest';
import type { Reply } from '../lib/resp/types.js';
import { NodeClient } from './support/node-client.js';
import { outcome } from './support/outcome.js';
import { keyOn, useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 3000 });

/** Busy for 1.5 s, reading nothing: what a long read-only script does. */
const BUSY_SCRIPT = "local t = redis.call('TIME') while true do local n = redis.call('TIME') if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 1500000 then return 1 end end";

async function getsServed(port: number): Promise<number> {
  const info = String((await cluster.call(port, 'INFO', 'commandstats')) as Reply);
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe("readFrom 'replica', the replica busy with a script when the client connects", () => {
  it('serves reads once the script is over', async () => {
    const master = cluster.masters()[0]!.port;
    const replica = cluster.replicas(master)[0]!.port;
    const key = await keyOn(cluster, master, 'r7busy');
    const writer = client();
    await writer.db.reply('SET', key, 'v');
    await cluster.call(master, 'WAIT', '1', '2000');
    await cluster.call(replica, 'CONFIG', 'SET', 'busy-reply-threshold', '100');
    const raw = await NodeClient.connect(replica, { timeout: 10_000 });
    try {
      const busy = outcome(raw.call('EVAL_RO', BUSY_SCRIPT, '0'));
      await until('the replica answers BUSY', async () => (await outcome(cluster.call(replica, 'PING'))) instanceof Error);
      const redis = client({ cluster: { readFrom: 'replica' } });
      expect(await redis.db.reply('GET', key)).toBe('v'); // its master answers meanwhile
      expect(await within('the script ends', busy)).toBe(1);
      const before = await getsServed(replica);
      await until('a read served by the replica', async () => {
        expect(await redis.db.reply('GET', key)).toBe('v');
        return (await getsServed(replica)) > before;
      });
    } finally {
      raw.close();
      await cluster.call(replica, 'CONFIG', 'SET', 'busy-reply-threshold', '5000');
    }
  }, 30_000);
});
