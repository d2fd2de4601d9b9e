/**
 * A maintenance MOVING push on a cluster node's connection (servers that send
 * them: Redis Software / Cloud; redis-server does not, so scripted nodes).
 * The connection hands over to the new address, while the cluster keys its
 * per-node units by the announced `host:port`. Checked here that routing
 * stays consistent: while the slot map still names the old address, the
 * node's unit (same key) carries on over the moved connection; once the map
 * names the new address, the old unit is retired and the new one serves.
 * Either way no command fails, none runs twice, none is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { encodeReply, movingPush, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const slotsAt = (port: number, id: string) => `*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${id.repeat(40)}\r\n`;

/** Node `a`, and `b`: where a MOVING sends a's connections. `b` announces itself when `bAnnouncesItself`, else the map names `a`. */
async function nodes(bAnnouncesItself: boolean) {
  const ports: number[] = [];
  const node = (name: 'a' | 'b') =>
    scriptedServer((args) => {
      const cmd = args[0]!.toUpperCase();
      if (cmd === 'CLIENT' && args[1]?.toUpperCase() === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
      if (cmd === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
      if (cmd === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') return name === 'b' && bAnnouncesItself ? slotsAt(ports[1]!, 'b') : slotsAt(ports[0]!, 'a');
      if (cmd === 'GET' && args[1] === 'where') return encodeReply(name);
      return undefined; // INCR and the rest: one mock store both nodes share, as one node's data
    });
  const a = await node('a');
  ports.push(a.port);
  const b = await node('b');
  ports.push(b.port);
  servers.push(a, b);
  return { a, b };
}

/** Push MOVING to every connection of `s`, naming `to`. */
function moving(s: ScriptedServer, to: ScriptedServer): void {
  for (const socket of s.sockets) socket.write(movingPush(`127.0.0.1:${to.port}`));
}

/** `n` INCRs of one counter, issued at once; their replies (each 1..n once: none ran twice, none was lost). */
const incrs = (redis: Redis, key: string, n: number) => Promise.all(Array.from({ length: n }, () => redis.db.reply('INCR', key) as Promise<number>));
const once = (replies: number[], from: number) => expect([...replies].sort((x, y) => x - y)).toEqual(Array.from({ length: replies.length }, (_, i) => from + i + 1));

describe('cluster: a MOVING maintenance push on a node connection', () => {
  it('while the slot map still names the old address, the node keeps its unit, now on the new address; nothing fails or runs twice', async () => {
    const { a, b } = await nodes(false);
    const redis = new Redis({ nodes: [a.url], mode: 'cluster', commandTimeout: 10_000, cluster: { refreshInterval: 0 } });
    redis.on('error', () => {});
    clients.push(redis);
    const topologies: unknown[] = [];
    redis.on('topology', (t) => topologies.push(t));
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    const before = incrs(redis, 'moving:n', 50);
    moving(a, b);
    const during = incrs(redis, 'moving:n', 50);
    once([...(await within('the INCRs around the MOVING settle', before)), ...(await within('the INCRs after it settle', during))], 0);
    await until('the connection moved to b', async () => (await redis.db.reply('GET', 'where')) === 'b');
    once(await incrs(redis, 'moving:n', 20), 100);
    expect(Object.keys(redis.stats().nodes!)).toEqual([`127.0.0.1:${a.port}`]); // the unit is the announced node's
    expect(redis.stats().timeouts).toBe(0);
    expect(topologies).toHaveLength(1); // the first map only: the map did not change
  });

  it('once the slot map names the new address, the old unit is retired and the new one serves; nothing fails or runs twice', async () => {
    const { a, b } = await nodes(true);
    const redis = new Redis({ nodes: [a.url], mode: 'cluster', commandTimeout: 10_000, cluster: { refreshInterval: 0 } });
    redis.on('error', () => {});
    clients.push(redis);
    const masters: string[][] = [];
    redis.on('topology', (t) => masters.push([...t.masters]));
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    const before = incrs(redis, 'moving:m', 50);
    moving(a, b); // the handover asks for a slot map refresh, which b (the node at its new address) answers
    const during = incrs(redis, 'moving:m', 50);
    once([...(await within('the INCRs around the MOVING settle', before)), ...(await within('the INCRs after it settle', during))], 0);
    await until('the slot map names b', () => masters.at(-1)?.[0] === `127.0.0.1:${b.port}`);
    once(await incrs(redis, 'moving:m', 20), 100);
    expect(await redis.db.reply('GET', 'where')).toBe('b');
    // The old unit (its connection on b, under a's key) is closed once idle; b's own unit serves (opened when needed).
    await until('only b has a unit', () => Object.keys(redis.stats().nodes!).join() === `127.0.0.1:${b.port}`);
    await until('a has no connection left', () => a.sockets.size === 0);
    expect(redis.stats().timeouts).toBe(0);
  });
});
