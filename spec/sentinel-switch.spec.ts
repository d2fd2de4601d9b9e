/**
 * Sentinel routing at a switch, with exact timing: a scripted sentinel
 * (support/scripted-sentinel.ts) names one real redis-server as the master,
 * then announces `+switch-master` to another. What the client must do then
 * (issue 12, DESIGN "Sentinel"): never-written commands go to the new master,
 * written unsafe ones fail with `maybeExecuted: true`, nothing is written to
 * the old master once the switch is known, subscribers resubscribe at the new
 * one; and a node that is not what the sentinel announced (ROLE) is dropped
 * and the sentinel asked again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLostError, Redis, type RedisOptions } from '../lib/index.js';
import { startRedis, destroyRedis, type RedisServer } from './support/redis-server.js';
import { scriptedSentinel, type ScriptedSentinel } from './support/scripted-sentinel.js';
import { until } from './support/until.js';

let a: RedisServer;
let c: RedisServer;
let replicaOfA: RedisServer;
let direct: { a: Redis; c: Redis };
const clients: Redis[] = [];
const fakes: ScriptedSentinel[] = [];

beforeAll(async () => {
  [a, c] = await Promise.all([startRedis(), startRedis()]);
  replicaOfA = await startRedis(['--replicaof', '127.0.0.1', String(a.port)]);
  direct = { a: new Redis(a.url, { mode: 'standalone' }), c: new Redis(c.url, { mode: 'standalone' }) };
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((x) => x.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  await Promise.all([direct.a.db.reply('FLUSHALL'), direct.c.db.reply('FLUSHALL')]);
});
afterAll(async () => {
  await Promise.all([direct?.a.close(), direct?.c.close()]);
  await Promise.all([destroyRedis(a), destroyRedis(c), destroyRedis(replicaOfA)]);
});

async function setup(master: number, o: RedisOptions = {}): Promise<{ fake: ScriptedSentinel; redis: Redis }> {
  const fake = await scriptedSentinel('mymaster', master);
  fakes.push(fake);
  const redis = new Redis({ sentinel: { name: 'mymaster', nodes: [{ host: '127.0.0.1', port: fake.port }] }, connectTimeout: 2000, commandTimeout: 5000, ...o });
  clients.push(redis);
  return { fake, redis };
}

const portOf = async (redis: Redis) => Number(/^tcp_port:(\d+)/m.exec(await redis.db.reply('INFO', 'server'))![1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('a switch announced by the sentinel', () => {
  it('moves every connection to the new master: nothing more is written to the old one, subscribers resubscribe there', async () => {
    const { fake, redis } = await setup(a.port);
    await redis.db.reply('SET', 'where', 'x');
    expect(await portOf(redis)).toBe(a.port);
    const sub = redis.subscriber();
    const messages: string[] = [];
    sub.on('message', ({ message }) => messages.push(message as string));
    await sub.subscribe('news');
    // A WATCH lease used once leaves an idle lease on A.
    await redis.db.watch(['w'], (conn) => conn.multi((tx) => tx.command('SET', 'w', '1')));
    await redis.db.reply('PUBLISH', 'news', 'on a');
    await until("'on a' received", () => messages.includes('on a'));

    fake.switchTo(c.port);
    await until('the client on C', async () => (await portOf(redis)) === c.port);
    const before = await direct.a.db.reply('INFO', 'commandstats');
    for (let i = 0; i < 50; i++) redis.db.command('INCR', 'after');
    await redis.db.reply('PING');
    expect(await direct.c.db.reply('GET', 'after')).toBe('50');
    expect(await direct.a.db.reply('GET', 'after')).toBeNull();
    // Nothing but our own INFO calls reached A after the switch was known (no INCR, no PING, no SUBSCRIBE).
    const after = await direct.a.db.reply('INFO', 'commandstats');
    const calls = (s: string, cmd: string) => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    for (const cmd of ['incr', 'ping', 'subscribe', 'watch']) expect(calls(after, cmd), cmd).toBe(calls(before, cmd));

    // The subscriber is subscribed at C now.
    await until('the subscriber subscribed on C', async () => (await direct.c.db.reply('PUBLISH', 'news', 'on c')) === 1);
    await until("'on c' received", () => messages.includes('on c'));
    const w = await redis.db.watch(['w'], (conn) => conn.multi((tx) => tx.command('SET', 'w', '2')));
    expect(w).toEqual(['OK']);
    expect(await direct.c.db.reply('GET', 'w')).toBe('2');
    await sub.close();
  });

  it('under load: written INCRs either succeed or fail with maybeExecuted; never-written ones go to the new master; counts add up', async () => {
    const { fake, redis } = await setup(a.port);
    await redis.db.reply('PING');
    let ok = 0;
    let maybe = 0;
    const other: Error[] = [];
    let stop = false;
    const caller = async () => {
      while (!stop) {
        try {
          await redis.db.reply('INCR', 'counter');
          ok++;
        } catch (err) {
          if (err instanceof ConnectionLostError && err.maybeExecuted) maybe++;
          else other.push(err as Error);
        }
      }
    };
    const callers = Array.from({ length: 64 }, caller);
    try {
      await until('the load under way on A', () => ok > 0);
      fake.switchTo(c.port);
      await until('the load going on on C', async () => Number(await direct.c.db.reply('GET', 'counter')) > 100);
    } finally {
      stop = true; // a failed wait must not leave 64 callers spinning
      await Promise.all(callers);
    }
    const total = Number(await direct.a.db.reply('GET', 'counter')) + Number(await direct.c.db.reply('GET', 'counter'));
    expect(other).toEqual([]);
    expect(ok).toBeLessThanOrEqual(total);
    expect(total).toBeLessThanOrEqual(ok + maybe);
    expect(maybe).toBeLessThanOrEqual(64); // at most one in flight per caller at the switch
  });

  it('a blocked BLPOP on the old master fails with maybeExecuted (it may have popped); the next one blocks on the new master', async () => {
    const { fake, redis } = await setup(a.port);
    const popped = redis.db.reply('BLPOP', 'q', 10).catch((e: Error) => e);
    await until('the BLPOP blocked on A', async () => /blocked_clients:1/.test(await direct.a.db.reply('INFO', 'clients')));
    fake.switchTo(c.port);
    const err = await popped;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).maybeExecuted).toBe(true);
    const next = redis.db.reply('BLPOP', 'q', 10);
    await until('the next BLPOP blocked on C', async () => /blocked_clients:1/.test(await direct.c.db.reply('INFO', 'clients')));
    await direct.c.db.reply('RPUSH', 'q', 'job');
    expect(await next).toEqual(['q', 'job']);
  });

  it('a WATCH transaction under way at the switch fails with ConnectionLostError: its EXEC never reaches the old master', async () => {
    const { fake, redis } = await setup(a.port);
    await direct.a.db.reply('SET', 'wcount', '5');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let inside = false;
    const tx = redis.db.watch(['wcount'], async (conn) => {
      const cur = Number(await conn.reply('GET', 'wcount'));
      inside = true; // WATCH answered, the block runs
      await gate; // the switch happens here
      return conn.multi((t) => t.command('SET', 'wcount', cur + 1));
    });
    const settled = tx.catch((e: Error) => e); // observed from the start: it must not fail unseen meanwhile
    await until('the watch block running', async () => inside);
    fake.switchTo(c.port);
    await until('the client on C', async () => (await portOf(redis)) === c.port);
    release();
    const err = await settled;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(await direct.a.db.reply('GET', 'wcount')).toBe('5');
    expect(await direct.c.db.reply('GET', 'wcount')).toBeNull();
  });

  it('a switch announced while the watch connection was down is caught up when it comes back', async () => {
    const { fake, redis } = await setup(a.port);
    await redis.db.reply('PING');
    await until('the sentinel subscription made', () => fake.server.received.some((c) => c[0] === 'SUBSCRIBE'));
    // The sentinel restarts (every connection to it cut) and names C meanwhile; no event reaches the client.
    fake.master = c.port;
    for (const socket of fake.server.sockets) socket.destroy();
    await until('the client on C (without the event)', async () => (await portOf(redis).catch(() => 0)) === c.port);
    await redis.db.reply('SET', 'caught-up', '1');
    expect(await direct.c.db.reply('GET', 'caught-up')).toBe('1');
  });

  it('a switch to where the client already is costs nothing: no connection is dropped', async () => {
    const { fake, redis } = await setup(a.port);
    await redis.db.reply('PING');
    fake.master = c.port;
    // The client learns of C without the event (its connection dropped), then the late event arrives.
    await direct.a.db.reply('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await until('the client on C (without the event)', async () => (await portOf(redis).catch(() => 0)) === c.port);
    const lost = redis.stats().connectionLost;
    fake.master = a.port;
    fake.switchTo(c.port);
    await sleep(200);
    expect(await portOf(redis)).toBe(c.port);
    expect(redis.stats().connectionLost).toBe(lost);
  });
});

describe('ROLE confirmation', () => {
  it('a node announced as the master that says replica is dropped, and the sentinel asked again', async () => {
    const { fake, redis } = await setup(replicaOfA.port);
    const reply = redis.db.reply('SET', 'k', 'v');
    await until('the sentinel asked again (ROLE said slave)', () => fake.asked >= 2); // asked, connected, ROLE said slave: asked again
    fake.master = a.port;
    expect(await reply).toBe('OK');
    expect(await portOf(redis)).toBe(a.port);
    expect(await direct.a.db.reply('GET', 'k')).toBe('v');
  });

  it("role 'replica' with a sentinel that knows no replica reads from the master (the announced role is what ROLE confirms)", async () => {
    const { redis } = await setup(a.port, { role: 'replica' });
    expect(await portOf(redis)).toBe(a.port);
  });
});
