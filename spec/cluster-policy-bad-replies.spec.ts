/**
 * A fanned-out command whose nodes answer replies that its response policy
 * cannot combine (a node answering a string where the others count, arrays
 * of different lengths for SCRIPT EXISTS). Found by the HA contract audit:
 * the caller got a bare `TypeError` (no command, no node, not a RedisError).
 * Now: a `ProtocolError` naming the command and the node whose reply does
 * not fit, settled once; the connections are unharmed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '../lib/commands/tips.js';
import { ProtocolError, Redis } from '../lib/index.js';
import { combineReplies, type NodeReply } from '../lib/topology/cluster/response-policy.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

/** Two scripted masters, A with slots 0..8191 and B with 8192..16383; `answer` scripts what each says. */
async function twoMasters(answer: (who: 'A' | 'B', args: string[]) => string | undefined): Promise<{ url: string; ports: Record<'A' | 'B', number> }> {
  const ports = { A: 0, B: 0 };
  const shard = (lo: number, hi: number, port: number, id: string) => `*3\r\n:${lo}\r\n:${hi}\r\n*3\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${id.repeat(40)}\r\n`;
  for (const who of ['A', 'B'] as const) {
    const srv = await scriptedServer((args) => {
      const name = args[0]!.toUpperCase();
      if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
      if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') return `*2\r\n${shard(0, 8191, ports.A, 'a')}${shard(8192, 16383, ports.B, 'b')}`;
      return answer(who, args);
    });
    ports[who] = srv.port;
    servers.push(srv);
  }
  return { url: `redis://127.0.0.1:${ports.A}`, ports };
}

describe('a fan-out whose replies its response policy cannot combine', () => {
  it('agg_min (WAIT) with one node answering a string: ProtocolError naming WAIT and that node; the next call works', async () => {
    const { url, ports } = await twoMasters((who, args) => (args[0]!.toUpperCase() === 'WAIT' ? (who === 'B' ? '$3\r\nodd\r\n' : ':1\r\n') : undefined));
    const redis = new Redis({ nodes: [url], commandTimeout: 3000 });
    redis.on('error', () => {});
    clients.push(redis);
    const err = (await redis.db.reply('WAIT', 0, 0).catch((e: unknown) => e)) as ProtocolError;
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.command).toBe('WAIT');
    expect(err.node).toBe(`127.0.0.1:${ports.B}`);
    expect(await redis.db.reply('DBSIZE')).toBe(0);
  });

  it('agg_logical_and (SCRIPT EXISTS) with arrays of different lengths: ProtocolError, not a TypeError', async () => {
    const { url } = await twoMasters((who, args) => (args[0]!.toUpperCase() === 'SCRIPT' ? (who === 'B' ? '*1\r\n:1\r\n' : '*2\r\n:1\r\n:1\r\n') : undefined));
    const redis = new Redis({ nodes: [url], commandTimeout: 3000 });
    redis.on('error', () => {});
    clients.push(redis);
    const err = (await redis.db.reply('SCRIPT', 'EXISTS', 'a', 'b').catch((e: unknown) => e)) as ProtocolError;
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.command).toBe('SCRIPT EXISTS');
  });

  it('combineReplies: a scalar among arrays, an array among scalars, a null to sum: ProtocolError naming the node', () => {
    const ok = (node: string, value: unknown): NodeReply => ({ node, value: value as NodeReply['value'] });
    const cases: [number, NodeReply[], string][] = [
      [T.RESPONSE_AGG_SUM, [ok('a', 1), ok('b', null)], 'b'],
      [T.RESPONSE_AGG_SUM, [ok('a', [1]), ok('b', 2)], 'b'],
      [T.RESPONSE_AGG_MAX, [ok('a', 1), ok('b', [2])], 'b'],
      [T.RESPONSE_AGG_LOGICAL_OR, [ok('a', [1, 0]), ok('b', [0])], 'b'],
      [T.RESPONSE_AGG_MIN, [ok('a', 'x'), ok('b', 1)], 'a'],
    ];
    for (const [policy, replies, node] of cases) {
      let thrown: unknown;
      try {
        combineReplies(policy, replies, 'DBSIZE');
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ProtocolError);
      expect((thrown as ProtocolError).node).toBe(node);
      expect((thrown as ProtocolError).command).toBe('DBSIZE');
    }
    // Well-formed replies still combine as before.
    expect(combineReplies(T.RESPONSE_AGG_SUM, [ok('a', [1, 2]), ok('b', [3, 4])], 'X')).toEqual([4, 6]);
    expect(combineReplies(T.RESPONSE_AGG_LOGICAL_AND, [ok('a', 1), ok('b', true)], 'X')).toBe(1);
  });
});
