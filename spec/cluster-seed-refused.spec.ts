/**
 * Seeds that refuse the connection (nothing listens there). A refused connect
 * is a definite answer, so the next seed is asked at once; a connect timeout
 * is not (that node may only be slow). The map query asked the seeds three at
 * a time and waited for each question's timeout (2 s at most), so three
 * refused seeds ahead of a live one cost that timeout: here the command's
 * deadline is that timeout (commandTimeout), and it ran out before the live
 * seed was asked. And with `mode: 'auto'` spelt out, several seeds were
 * ignored but the first: a dead first seed left every command waiting out
 * its deadline, although "any one reachable is enough".
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, track } = useCluster({}, { start: { replicasPerMaster: 0 } });

/** A loopback port nothing listens on (a server opened there is closed again). */
async function refusingPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function clientOf(nodes: string[], mode: 'cluster' | 'auto'): Redis {
  // A connect timeout far longer than the command's deadline: only a refusal can be answered in time.
  const redis = track(new Redis({ nodes, mode, commandTimeout: 1500, connectTimeout: 30_000, reconnect: { baseDelay: 5000, maxDelay: 5000 } }));
  redis.on('error', () => {});
  return redis;
}

describe('seeds that refuse the connection', () => {
  it('three refused seeds ahead of a live one: the live one is asked before the refused ones\' questions time out', async () => {
    const refused = await Promise.all([refusingPort(), refusingPort(), refusingPort()]);
    const redis = clientOf([...refused.map((p) => `redis://127.0.0.1:${p}`), cluster.urls[0]!], 'cluster');
    expect(await redis.db.reply('SET', 'seed-refused:a', '1')).toBe('OK');
    expect(redis.mode).toBe('cluster');
  });

  it("mode 'auto' with several seeds, the first refused: a cluster is found through the next one", async () => {
    const redis = clientOf([`redis://127.0.0.1:${await refusingPort()}`, cluster.urls[0]!], 'auto');
    expect(await redis.db.reply('SET', 'seed-refused:b', '1')).toBe('OK');
    expect(redis.mode).toBe('cluster');
  });
});
