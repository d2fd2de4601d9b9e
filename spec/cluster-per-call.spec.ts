/**
 * Per-call options over a real Redis Cluster: key prefixes are applied before
 * routing (the slot is the prefixed key's), and an AbortSignal gives commands
 * up on any node, blocking ones on their node's lease included.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { AbortError, CrossSlotError, Redis } from '../lib/index.js';
import { startCluster, type RedisCluster } from './support/redis-cluster.js';

let cluster: RedisCluster;
const clients: Redis[] = [];

beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await cluster?.stop();
});

function client(): Redis {
  const redis = new Redis({ nodes: [...cluster.urls], commandTimeout: 5000 });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

describe('key prefixes in a cluster', () => {
  it('routes by the prefixed key: each key is on the owner of its prefixed slot', async () => {
    const redis = client();
    const app = redis.db.with({ prefix: 'app:' });
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => app.reply('SET', k, k)));
    expect(await app.reply('MGET', ...keys)).toEqual(keys); // split by the prefixed keys' slots
    for (const k of keys.slice(0, 10)) {
      const owner = await cluster.ownerOf(keySlot(`app:${k}`));
      expect(await cluster.call(owner, 'GET', `app:${k}`)).toBe(k);
    }
    expect(await app.reply('DEL', ...keys)).toBe(keys.length);
  });

  it('a hash-tag prefix keeps a transaction in one slot; EVAL keys are routed prefixed', async () => {
    const redis = client();
    const tenant = redis.db.with({ prefix: '{tenant1}:' });
    expect(await tenant.multi((tx) => {
      tx.command('SET', 'a', '1');
      tx.command('SET', 'b', '2');
    })).toEqual(['OK', 'OK']);
    expect(await redis.db.reply('MGET', '{tenant1}:a', '{tenant1}:b')).toEqual(['1', '2']);
    expect(await tenant.reply('EVAL', 'return redis.call("GET", KEYS[1])', 1, 'a')).toBe('1');
    await expect(redis.db.with({ prefix: 'x:' }).multi((tx) => {
      tx.command('SET', 'a', '1');
      tx.command('SET', 'b', '2');
    })).rejects.toBeInstanceOf(CrossSlotError);
  });
});

describe('AbortSignal in a cluster', () => {
  it('already aborted: nothing is sent; a blocking command aborted on its node is drained', async () => {
    const redis = client();
    await redis.db.reply('PING');
    await expect(redis.db.with({ signal: AbortSignal.abort() }).reply('SET', 'c:never', 'x')).rejects.toMatchObject({ name: 'AbortError', sent: false });
    expect(await redis.db.reply('EXISTS', 'c:never')).toBe(0);
    const ac = new AbortController();
    const pop = redis.db.with({ signal: ac.signal }).reply('BLPOP', 'c:q', 0).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    ac.abort();
    const err = await pop;
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ sent: true });
    const next = redis.db.reply('BLPOP', 'c:q', 5);
    await new Promise((r) => setTimeout(r, 100));
    await redis.db.reply('RPUSH', 'c:q', 'item');
    expect(await next).toEqual(['c:q', 'item']);
  });

  it('a split command aborted while the slot map is still coming is never sent, not even in parts', async () => {
    const redis = client();
    const ac = new AbortController();
    const keys = ['c:split:a', 'c:split:b', 'c:split:c', 'c:split:d'];
    const mset = redis.db.with({ signal: ac.signal }).reply('MSET', ...keys.flatMap((k) => [k, 'x'])).catch((e: unknown) => e);
    ac.abort();
    expect(await mset).toMatchObject({ name: 'AbortError', sent: false });
    expect(await redis.db.reply('EXISTS', ...keys)).toBe(0);
  });
});
