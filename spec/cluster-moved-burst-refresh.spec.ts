/**
 * DESIGN: "MOVED updates the slot map at once and schedules one refresh
 * (single-flight)". A burst of MOVED for one slot whose replies trickle in
 * (commands pipelined to the old owner before the first MOVED came back)
 * made the client query the slot map again and again, every 100 ms while
 * they arrived: each one asked for "one more refresh after this one". The
 * first MOVED already tells the new owner (the map is fixed at once) and
 * schedules the refresh; a later one that the map already agrees with (its
 * command was sent before the map was fixed) asks for nothing. Found by the
 * HA contract audit, with a scripted two-node cluster whose old owner
 * answers each MOVED 20 ms after the previous one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { Redis } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (lo: number, hi: number, port: number, id: string) => `*3\r\n:${lo}\r\n:${hi}\r\n*3\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${id.repeat(40)}\r\n`;

describe('a burst of MOVED for one slot', () => {
  it('one refresh, however long the MOVED replies take to arrive; every command lands on the new owner', async () => {
    let key = '';
    for (let i = 0; key === ''; i++) if (keySlot(`burst:${i}`) > 10 && keySlot(`burst:${i}`) < 8000) key = `burst:${i}`;
    const slot = keySlot(key);
    const ports = { A: 0, B: 0 };
    let moved = false;
    const slots = () =>
      moved
        ? `*4\r\n${range(0, slot - 1, ports.A, 'a')}${range(slot, slot, ports.B, 'b')}${range(slot + 1, 8191, ports.A, 'a')}${range(8192, 16383, ports.B, 'b')}`
        : `*2\r\n${range(0, 8191, ports.A, 'a')}${range(8192, 16383, ports.B, 'b')}`;
    const shardsAsked: number[] = [];
    for (const who of ['A', 'B'] as const) {
      const srv = await scriptedServer(async (args) => {
        const name = args[0]!.toUpperCase();
        if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') {
          shardsAsked.push(Date.now());
          return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
        }
        if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') return slots();
        if (who === 'A' && name === 'GET' && args[1] === key) {
          moved = true;
          await sleep(20); // each MOVED 20 ms after the one before (answers go out in order)
          return `-MOVED ${slot} 127.0.0.1:${ports.B}\r\n`;
        }
        return undefined;
      });
      ports[who] = srv.port;
      servers.push(srv);
    }
    const redis = new Redis({ nodes: [`redis://127.0.0.1:${ports.A}`], commandTimeout: 5000, cluster: { refreshInterval: 0 } });
    redis.on('error', () => {});
    clients.push(redis);
    await redis.db.reply('PING');
    await sleep(150);
    const before = shardsAsked.length;
    const gets = await Promise.all(Array.from({ length: 30 }, () => redis.db.reply('GET', key))); // ~600 ms of MOVED replies
    expect(gets).toEqual(Array(30).fill(null));
    await sleep(300);
    // One refresh asks each known node once (first answer wins): two nodes here.
    expect(shardsAsked.length - before).toBeLessThanOrEqual(2);
    expect(await redis.db.reply('GET', key)).toBeNull();
  });
});
