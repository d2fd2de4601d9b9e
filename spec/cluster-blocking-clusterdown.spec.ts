/**
 * DESIGN: "TRYAGAIN and CLUSTERDOWN are retried with backoff inside the
 * command's deadline." A blocking command's deadline is its own timeout (its
 * pool bounds it, not the command timeout), and the cluster routing treated
 * "no deadline on the command" as "do not wait": BLPOP q 5 during a
 * 1.5-second CLUSTERDOWN (a failover under way) failed at once, where a
 * GET waited it out. Found by the HA contract audit. Now a blocking command
 * waits a CLUSTERDOWN / TRYAGAIN out within its own timeout (the command
 * timeout for one that blocks forever), and still settles by then when it
 * does not end. A scripted one-node cluster refuses it while told to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterDownError, Redis } from '../lib/index.js';
import { oneNodeCluster } from './support/scripted-cluster.js';
import type { ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

/** A node serving every slot; BLPOP / GET answer CLUSTERDOWN until `downUntil`, then a value. */
async function node(): Promise<{ redis: Redis; downFor: (ms: number) => void; refused: () => number }> {
  let downUntil = 0;
  let refused = 0;
  const srv = await oneNodeCluster((args) => {
    const name = args[0]!.toUpperCase();
    if (name !== 'BLPOP' && name !== 'GET') return undefined;
    if (Date.now() < downUntil) {
      refused++;
      return '-CLUSTERDOWN The cluster is down\r\n';
    }
    return name === 'BLPOP' ? '*2\r\n$1\r\nq\r\n$1\r\nv\r\n' : '$1\r\nv\r\n';
  });
  servers.push(srv);
  const redis = new Redis({ nodes: [srv.url], commandTimeout: 3000 });
  redis.on('error', () => {});
  clients.push(redis);
  await redis.db.reply('PING');
  return { redis, downFor: (ms) => (downUntil = Date.now() + ms), refused: () => refused };
}

describe('a blocking command refused with CLUSTERDOWN', () => {
  it('BLPOP q 5 during a 1.5 s CLUSTERDOWN waits it out and pops, as GET does', async () => {
    const { redis, downFor, refused } = await node();
    downFor(1500);
    expect(await redis.db.reply('GET', 'q')).toBe('v');
    downFor(1500);
    const before = refused();
    expect(await redis.db.reply('BLPOP', 'q', 5)).toEqual(['q', 'v']);
    expect(refused() - before).toBeGreaterThan(3); // sent again with backoff, not given up
  });

  it('BLPOP q 1 during a longer CLUSTERDOWN: tried again within its own timeout, then ClusterDownError', async () => {
    const { redis, downFor, refused } = await node();
    downFor(10_000);
    const err = await redis.db.reply('BLPOP', 'q', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterDownError); // settled, with the refusal, though the cluster is still down
    expect(refused()).toBeGreaterThan(3); // sent again with backoff (10 ms doubling) within its 1 s, not given up at once
  });
});
