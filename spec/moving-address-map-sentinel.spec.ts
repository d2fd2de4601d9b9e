/**
 * `sentinel.addressMap` maps a MOVING maintenance push's address as it maps
 * the master the sentinels name: behind NAT the data node moving its
 * connections names an in-network address, which only the map makes
 * reachable (as `cluster.addressMap` does for a cluster: moving-address-map).
 * Before, the MOVING's address was dialed as announced. A scripted sentinel
 * and scripted data nodes (redis-server sends no MOVING).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from '../lib/index.js';
import { encodeReply, movingPush, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { scriptedSentinel, type ScriptedSentinel } from './support/scripted-sentinel.js';
import { until, within } from './support/until.js';

const servers: (ScriptedServer | ScriptedSentinel)[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

const MOVED_TO = '10.0.0.99:6379';

async function node(name: string): Promise<ScriptedServer> {
  const s = await scriptedServer((args) => {
    const cmd = args[0]!.toUpperCase();
    if (cmd === 'CLIENT' && args[1]?.toUpperCase() === 'MAINT_NOTIFICATIONS') return '+OK\r\n';
    if (cmd === 'ROLE') return `*3\r\n${encodeReply('master')}:0\r\n*0\r\n`;
    if (cmd === 'GET' && args[1] === 'where') return encodeReply(name);
    return undefined;
  });
  servers.push(s);
  return s;
}

describe('sentinel.addressMap and MOVING', () => {
  it("a MOVING's address is mapped like the master's: the connection moves where the map says", async () => {
    const a = await node('a');
    const b = await node('b');
    const sentinel = await scriptedSentinel('mymaster', a.port);
    servers.push(sentinel);
    const addressMap = { [MOVED_TO]: { host: '127.0.0.1', port: b.port } };
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: sentinel.port }], addressMap }, connectTimeout: 500, commandTimeout: 5000 });
    redis.on('error', () => {});
    clients.push(redis);
    expect(await redis.db.reply('GET', 'where')).toBe('a');
    for (const socket of a.sockets) socket.write(movingPush(MOVED_TO));
    await until('the connection moved to b, through the map', async () => (await within('GET where', redis.db.reply('GET', 'where'))) === 'b');
    expect(redis.stats()).toMatchObject({ handovers: 1, connectFailures: 0 });
  });
});
