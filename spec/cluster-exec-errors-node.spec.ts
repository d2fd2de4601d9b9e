/**
 * Every error names the command and the node (README "Errors"). A command
 * that failed at run time inside MULTI ... EXEC (its ServerError in EXEC's
 * reply, its own handle rejecting with it) named its command but no node,
 * in db.multi and in a db.watch's conn.multi alike: on a cluster the user
 * could not tell which master refused it.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { ServerError } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { outcome } from './support/outcome.js';

const { cluster, client } = useCluster({ commandTimeout: 3000 }, { start: { replicasPerMaster: 0 } });

describe('a command that fails at run time inside EXEC', () => {
  it('names its node, in db.multi and in a watch\'s conn.multi', async () => {
    const key = 'exec-node:{a}';
    const owner = `127.0.0.1:${await cluster.ownerOf(keySlot(key))}`;
    const redis = client();
    let handle: PromiseLike<unknown> | undefined;
    const replies = await redis.db.multi((tx) => {
      tx.command('SET', key, 'not a number');
      handle = tx.command('INCR', key);
    });
    expect(replies![1]).toBeInstanceOf(ServerError);
    expect(replies![1]).toMatchObject({ command: 'INCR', node: owner });
    expect(await outcome(Promise.resolve(handle!))).toBe(replies![1]);

    const watched = await redis.db.watch([key], (conn) => conn.multi((tx) => { tx.command('INCR', key); }));
    expect(watched![0]).toMatchObject({ command: 'INCR', node: owner });
  });
});
