/**
 * `cluster.addressMap` maps every address a cluster announces, a MOVING
 * maintenance push's included: behind NAT a node moving its connections
 * names an in-network address too, which only the map makes reachable.
 * Before, the MOVING's address was dialed as announced. Scripted nodes
 * (redis-server sends no MOVING): the slot map announces node `a` as
 * `node-a.internal:7000`, and a's MOVING sends its connections to
 * `10.0.0.99:6379`; the map turns those into the scripted servers' ports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { encodeReply, movingPush, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

const A = { host: 'node-a.internal', port: 7000 };
const MOVED_TO = '10.0.0.99:6379';
/** Every slot on `a`, as it announces itself. */
const SLOTS = `*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n${encodeReply(A.host)}:${A.port}\r\n${encodeReply('a'.repeat(40))}`;

async function node(name: string): Promise<ScriptedServer> {
  const s = await scriptedServer((args) => {
    const cmd = args[0]!.toUpperCase();
    if (cmd === 'CLIENT' && args[1]?.toUpperCase() === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
    if (cmd === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
    if (cmd === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') return SLOTS;
    if (cmd === 'GET' && args[1] === 'where') return encodeReply(name);
    return undefined;
  });
  servers.push(s);
  return s;
}

describe('cluster.addressMap and MOVING', () => {
  it("a MOVING's address is mapped like every announced address: the connection moves where the map says", async () => {
    const a = await node('a');
    const b = await node('b');
    const addressMap = { [`${A.host}:${A.port}`]: { host: '127.0.0.1', port: a.port }, [MOVED_TO]: { host: '127.0.0.1', port: b.port } };
    const redis = new Redis({ nodes: [a.url], mode: 'cluster', connectTimeout: 500, commandTimeout: 5000, cluster: { refreshInterval: 0, addressMap } });
    redis.on('error', () => {});
    clients.push(redis);
    await until('the node announced as node-a.internal serves', async () => (await redis.db.reply('GET', 'where')) === 'a' && Object.keys(redis.stats().nodes!).includes(`${A.host}:${A.port}`));
    for (const socket of a.sockets) socket.write(movingPush(MOVED_TO));
    await until('the connection moved to b, through the map', async () => (await within('GET where', redis.db.reply('GET', 'where'))) === 'b');
    expect(redis.stats().nodes![`${A.host}:${A.port}`]).toMatchObject({ handovers: 1, connectFailures: 0 });
  });
});
