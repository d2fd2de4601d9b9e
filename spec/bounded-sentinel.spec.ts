/**
 * Memory stays bounded (DESIGN safety rule 5) on a Sentinel client whose
 * master switches again and again: two real redis-servers and a scripted
 * sentinel (support/scripted-sentinel.ts: it announces `+switch-master` when
 * told, back and forth 40 times, which real sentinels only do slowly), with a
 * subscriber, WATCH leases, blocking commands and a long-lived signal view in
 * use throughout. Afterwards: one pub/sub connection with the subscriber's
 * channels and nothing else, leases within the pool's size, nothing pending,
 * no abort listener left, one hub member; after close(), no timer or socket
 * left. Counts only: no heap sizes, no timings.
 *
 * TEST-ONLY PEEK at private state: hubs found by wrapping Hub.prototype.stats
 * (redis.stats() asks each), their `members` map read.
 */
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peekHubs } from './support/hub-peek.js';
import { Redis } from '../lib/index.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { scriptedSentinel, type ScriptedSentinel } from './support/scripted-sentinel.js';
import { resourcesBackTo } from './support/bounded.js';

let a: RedisServer;
let c: RedisServer;
let fake: ScriptedSentinel;

const { hubMembers } = peekHubs();

beforeAll(async () => {
  // A blocking command's timeout is checked at the server's hz (10 a second by default: 100 ms per short BLPOP).
  [a, c] = await Promise.all([startRedis(['--hz', '500']), startRedis(['--hz', '500'])]);
  fake = await scriptedSentinel('mymaster', a.port);
});
afterAll(async () => {
  await fake?.close();
  await Promise.all([destroyRedis(a), destroyRedis(c)]);
});



const portOf = async (redis: Redis) => Number(/^tcp_port:(\d+)/m.exec(await redis.db.reply('INFO', 'server'))![1]);

async function until(what: string, probe: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a sentinel master switching back and forth', () => {
  it('40 switches with a subscriber, WATCH, BLPOP and a signal view in use: nothing accumulates', async () => {
    await until('the sentinel names A', () => fake.master === a.port);
    const before = process.getActiveResourcesInfo().length;
    const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.port }] }, connectTimeout: 2000, commandTimeout: 5000, blockingPool: { size: 2 } });
    redis.on('error', () => {});
    redis.on('commandError', () => {});
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    const sub = redis.subscriber();
    sub.on('error', () => {});
    await sub.subscribe('bs:news', 'bs:other');
    await sub.psubscribe('bs:*');
    for (let i = 0; i < 40; i++) {
      const to = i % 2 === 0 ? c.port : a.port;
      fake.switchTo(to);
      await until(`the client on ${to}`, async () => (await portOf(redis).catch(() => 0)) === to);
      await db.reply('INCR', 'bs:count').catch(() => {});
      await redis.db.watch(['bs:w'], (conn) => conn.multi((tx) => tx.command('INCR', 'bs:w'))).catch(() => {});
      expect(await redis.db.reply('BLPOP', 'bs:never', 0.01)).toBeNull();
      // Subscribed again on the new master before anything else.
      await until('the subscriber on the new master', async () => (await redis.db.reply('PUBSUB', 'NUMSUB', 'bs:news'))[1] === 1);
    }
    const s = redis.stats();
    expect(s.pubsub).toMatchObject({ connections: 1, channels: 2, patterns: 1, shardChannels: 0 });
    expect(s.leased).toBeLessThanOrEqual(2);
    expect(s.pending).toBe(0);
    expect(s.queued).toBe(0);
    expect(hubMembers(redis)).toBe(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    // Only what this client holds now is on the servers: one pub/sub connection, on the current master.
    const clients = (await redis.db.reply('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    expect(clients.trim().split('\n').filter(Boolean)).toHaveLength(1);
    // And nothing is left on the old master: every connection moved (shared, leases, pub/sub).
    const old = new Redis(`redis://127.0.0.1:${fake.master === a.port ? c.port : a.port}`, { mode: 'standalone' });
    const onOld = ((await old.db.reply('CLIENT', 'LIST')) as string).trim().split('\n').filter(Boolean);
    await old.close();
    expect(onOld).toHaveLength(1); // the one asking
    await sub.close();
    await redis.close();
    await resourcesBackTo(before);
  });
});
