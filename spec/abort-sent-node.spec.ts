/**
 * Every error names the command and the node (README "Errors"). An
 * AbortError { sent: true } (the call's signal fired after the command was
 * written: it may have run) names the command but not the node it was
 * written to; on a cluster the user cannot tell which master may have run it.
 * (AbortError { sent: false } has no node to name: it went nowhere.)
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { AbortError } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';
import { outcome } from './support/outcome.js';
import { until } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 }, { start: { replicasPerMaster: 0 } });

describe('AbortError { sent: true } on a cluster', () => {
  it('names the node the command was written to', async () => {
    const key = 'abort-node:{a}';
    const port = await cluster.ownerOf(keySlot(key));
    const redis = client();
    await redis.db.reply('SET', key, 'v'); // the node's connection is up
    await cluster.call(port, 'CLIENT', 'PAUSE', '1000', 'ALL'); // written, not answered
    try {
      const controller = new AbortController();
      const read = outcome(redis.db.with({ signal: controller.signal }).reply('GET', key));
      await until('the GET is written', () => redis.stats().pending > 0);
      controller.abort();
      const err = await read;
      expect(err).toBeInstanceOf(AbortError);
      expect(err).toMatchObject({ sent: true, command: 'GET', node: `127.0.0.1:${port}` });
    } finally {
      await cluster.call(port, 'CLIENT', 'UNPAUSE');
    }
  });
});
