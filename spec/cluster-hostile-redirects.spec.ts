/**
 * Cluster redirections that cannot be followed: a node (scripted) answering
 * MOVED / ASK with a slot outside 0..16383 or a port outside 1..65535. That
 * reply is the command's answer (it fails with it), not a reason to leave it
 * unsettled or to drop the connection. (From adversarial review 2.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AskError, MovedError, Redis } from '../lib/index.js';
import { redirectTarget } from '../lib/topology/cluster/redirect.js';
import { oneNodeCluster } from './support/scripted-cluster.js';
import type { ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

/** A one-node "cluster" serving every slot; GET of `bad` answers `redirect`, everything else the mock's answer. */
async function node(redirect: string): Promise<ScriptedServer> {
  const srv = await oneNodeCluster((args) => (args[0]!.toUpperCase() === 'GET' && args[1] === 'bad' ? `-${redirect}\r\n` : undefined));
  servers.push(srv);
  return srv;
}

const settleWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then((value) => ({ value, error: undefined as Error | undefined }), (e: unknown) => ({ value: undefined, error: e as Error })),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms)),
  ]);

describe('cluster: a redirection naming a slot or port out of range', () => {
  const cases: [string, typeof MovedError | typeof AskError][] = [
    ['MOVED 70000 127.0.0.1:7000', MovedError],
    ['MOVED -1 127.0.0.1:7000', MovedError],
    ['MOVED 12 127.0.0.1:0', MovedError],
    ['MOVED 12 127.0.0.1:99999', MovedError],
    ['ASK 16384 127.0.0.1:7000', AskError],
    ['ASK 12 127.0.0.1:65536', AskError],
  ];
  for (const [redirect, kind] of cases) {
    it(`"${redirect}": the command fails with that reply; the connection and the commands behind it are unharmed`, async () => {
      const srv = await node(redirect);
      const redis = new Redis({ nodes: [srv.url], mode: 'cluster', commandTimeout: 0 });
      redis.on('error', () => {});
      clients.push(redis);
      expect(await redis.db.reply('SET', 'good', 'v')).toBe('OK');
      const lost: string[] = [];
      redis.on('reconnecting', (info) => lost.push(info.cause.name));
      // Pipelined behind it on the same connection: a command that has nothing to do with the bad reply.
      const bad = settleWithin(redis.db.reply('GET', 'bad'), 2000);
      const other = settleWithin(redis.db.reply('GET', 'good'), 2000);
      const settled = await bad;
      expect(settled).not.toBe('pending'); // rule 4: it settles (commandTimeout 0: nothing else would settle it)
      expect((settled as { error?: Error }).error).toBeInstanceOf(kind); // the server's answer, not a routing error
      expect(await other).toEqual({ value: 'v', error: undefined });
      expect(lost).toEqual([]); // one odd error reply is that command's answer, not a reason to drop the connection
    });
  }

  it('redirectTarget reads only slots 0..16383 and ports 1..65535', () => {
    expect(redirectTarget('MOVED 16383 10.0.0.1:65535', 'h')).toEqual({ slot: 16383, host: '10.0.0.1', port: 65535 });
    expect(redirectTarget('ASK 0 :1', 'h')).toEqual({ slot: 0, host: 'h', port: 1 });
    for (const bad of ['MOVED 16384 a:1', 'MOVED -1 a:1', 'MOVED 1.5 a:1', 'MOVED 12 a:0', 'MOVED 12 a:65536', 'MOVED 12 a:', 'MOVED 12 a']) {
      expect(redirectTarget(bad, 'h'), bad).toBeUndefined();
    }
  });
});
