/**
 * `cluster.readFrom: 'replica'` (or 'prefer-replica') for an ACL user whose
 * rules refuse READONLY (`-readonly`, or no `@connection`): a replica then
 * serves no reads. READONLY was sent in the replica connection's handshake,
 * so its refusal failed the handshake: every read queued there failed with
 * ConnectError, and every later read opened the replica again to fail the
 * same way; the user lost every read. Reads are served by the slot's master
 * instead (a replica without READONLY answers MOVED to it: nothing ran), and
 * 'error' carries the refusal (NoPermError naming READONLY and the node).
 */
import { describe, expect, it } from 'vitest';
import { NoPermError } from '../lib/index.js';
import { keysOnEachMaster, useCluster } from './support/real-cluster.js';
import { within } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 3000 });

describe.each(['replica', 'prefer-replica'] as const)('readFrom %s, READONLY refused by the ACL', (readFrom) => {
  it('reads are served by the masters, the first ones too, and the refusal is an error event', async () => {
    for (const n of cluster.nodes) await cluster.call(n.port, 'ACL', 'SETUSER', 'no-readonly', 'on', '>pw', '~*', '&*', '+@all', '-readonly');
    const keys = (await keysOnEachMaster(cluster, `noro-${readFrom}`)).map((k) => k.key);
    const writer = client();
    for (const k of keys) await writer.db.reply('SET', k, k);
    const redis = client({ username: 'no-readonly', password: 'pw', cluster: { readFrom } });
    const errors: Error[] = [];
    redis.on('error', (err) => errors.push(err));
    // Issued before any replica connection is up: queued there while READONLY is refused.
    const first = await within('the first reads settle', Promise.all(keys.map((k) => redis.db.reply('GET', k))));
    expect(first).toEqual(keys);
    for (let i = 0; i < 3; i++) expect(await redis.db.reply('MGET', ...keys)).toEqual(keys);
    const refusal = errors.find((e) => e instanceof NoPermError);
    expect(refusal).toMatchObject({ command: 'READONLY' });
    expect((refusal as NoPermError).node).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(redis.stats().connectionLost).toBe(0); // nothing reopened replica connections to fail again
  });
});
