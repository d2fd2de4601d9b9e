/**
 * `stats().timeouts` counts every deadline a caller sees pass, once. A command
 * whose deadline passes while it waits behind a slot fence (its slot's first
 * MOVED: it waits for the old owner's PING, slot-fence.ts) fails with
 * ReplyTimeoutError (`sent: false`) in the cluster routing, at no node: it
 * was counted nowhere. Two scripted nodes: A serves every slot until the test
 * moves one slot to B; A holds its PING replies while the test says so, so
 * the fence stays up for as long as the test needs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { Redis, ReplyTimeoutError } from '../lib/index.js';
import { follow, outcome } from './support/outcome.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { until, within } from './support/until.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});

const KEY = 'fence:k';
const SLOT = keySlot(KEY);

const range = (from: number, to: number, port: number, id: string) => `*3\r\n:${from}\r\n:${to}\r\n*3\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${id.repeat(40)}\r\n`;

/** Two scripted nodes; `moved()` gives SLOT to B (A then answers MOVED for it); `releasePings()` lets A's held PINGs answer. */
async function twoNodes() {
  let owner = 0; // 0: A serves SLOT, 1: B does
  let holding = false;
  const held: (() => void)[] = [];
  const ports: number[] = [];
  const slots = () => {
    if (owner === 0) return `*1\r\n${range(0, 16383, ports[0]!, 'a')}`;
    const parts = [SLOT > 0 ? range(0, SLOT - 1, ports[0]!, 'a') : '', range(SLOT, SLOT, ports[1]!, 'b'), SLOT < 16383 ? range(SLOT + 1, 16383, ports[0]!, 'a') : ''].filter((p) => p !== '');
    return `*${parts.length}\r\n${parts.join('')}`;
  };
  const node = (me: number) =>
    scriptedServer((args) => {
      const name = args[0]!.toUpperCase();
      if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
      if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') return slots();
      if (me === 0 && owner === 1 && args[1] === KEY) return `-MOVED ${SLOT} 127.0.0.1:${ports[1]}\r\n`;
      if (me === 0 && name === 'PING' && holding) return new Promise<undefined>((resolve) => held.push(() => resolve(undefined)));
      return undefined;
    });
  const a = await node(0);
  ports.push(a.port);
  const b = await node(1);
  ports.push(b.port);
  servers.push(a, b);
  return {
    a,
    b,
    moved: () => ((owner = 1), (holding = true)),
    pingHeld: () => held.length > 0,
    releasePings: () => ((holding = false), held.splice(0).forEach((go) => go())),
  };
}

describe('cluster stats().timeouts', () => {
  it('counts a command whose deadline passed behind a slot fence, once', async () => {
    const nodes = await twoNodes();
    const redis = new Redis({ nodes: [nodes.a.url], mode: 'cluster', commandTimeout: 30_000, cluster: { refreshInterval: 0 } });
    redis.on('error', () => {});
    clients.push(redis);
    expect(await redis.db.reply('SET', KEY, 'v')).toBe('OK');
    expect(redis.stats().timeouts).toBe(0);

    nodes.moved(); // the client is not told: its next GET goes to A, which answers MOVED and raises the fence
    const first = follow(redis.db.reply('GET', KEY));
    await until('the fence PING is held by A', nodes.pingHeld);
    const fenced = await within('the fenced GET settles at its own deadline', outcome(redis.db.with({ timeout: 100 }).reply('GET', KEY)));
    expect(fenced).toBeInstanceOf(ReplyTimeoutError);
    expect((fenced as ReplyTimeoutError).sent).toBe(false);
    expect(redis.stats().timeouts).toBe(1);

    nodes.releasePings(); // the fence lifts: the first GET goes on to B; the timed-out one is not sent
    await until('the first GET settled', () => first.settled === 1);
    expect(first.value).toBe('v'); // the scripted nodes share one mock store
    expect(await redis.db.reply('GET', KEY)).toBe('v'); // the slot is served again, by B
    const getsOnB = nodes.b.received.filter((c) => c[0]!.toUpperCase() === 'GET').length;
    expect(getsOnB).toBe(2); // the MOVED one and the last one; never the one that timed out
    expect(redis.stats().timeouts).toBe(1);
  });
});
