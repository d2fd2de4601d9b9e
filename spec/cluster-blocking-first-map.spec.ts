/**
 * A blocking command's client-side deadline is its own timeout plus
 * blockingMargin (README, blocking commands), also when it had to wait for
 * the cluster's first slot map before it could be routed: that wait must not
 * turn the command timeout into its deadline. Before, a BLPOP issued while
 * the map was coming was routed with what was left of commandTimeout as a
 * per-call deadline, and was cut then (ReplyTimeoutError, sent: true: an item
 * it had popped would be lost to an orphaned reply) instead of waiting out
 * its own timeout.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from './support/real-cluster.js';

const { client } = useCluster({ commandTimeout: 1000 });

describe('a blocking command issued before the first slot map', () => {
  it('waits out its own timeout (the server answers null), not the command timeout', async () => {
    const redis = client();
    const popped = redis.db.reply('BLPOP', 'bfm:empty', 2).then(
      (v) => v,
      (e: Error) => e,
    ); // issued at once: no slot map yet
    expect(await popped).toBeNull();
    expect(await redis.db.reply('BLPOP', 'bfm:empty', 2)).toBeNull(); // the same once the map is in
  });
});
