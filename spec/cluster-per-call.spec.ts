/**
 * Per-call options over a real Redis Cluster: key prefixes are applied before
 * routing (the slot is the prefixed key's), and an AbortSignal gives commands
 * up on any node, blocking ones on their node's lease included.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { AbortError, CrossSlotError } from '../lib/index.js';
import { blockedInList } from './support/blocked-clients.js';
import { useCluster } from './support/real-cluster.js';
import { until, within } from './support/until.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 });

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
    const owner = await cluster.ownerOf(keySlot('c:q'));
    const blocked = async () => blockedInList(String(await cluster.call(owner, 'CLIENT', 'LIST')), 'blpop');
    const ac = new AbortController();
    const pop = redis.db.with({ signal: ac.signal }).reply('BLPOP', 'c:q', 0).catch((e: unknown) => e);
    await until("the BLPOP blocked on its node", async () => (await blocked()) === 1);
    ac.abort();
    const err = await pop;
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ sent: true });
    await until('the aborted BLPOP drained (unblocked on its node)', async () => (await blocked()) === 0);
    const next = redis.db.reply('BLPOP', 'c:q', 0);
    await until('the next BLPOP blocked on its node', async () => (await blocked()) === 1);
    await redis.db.reply('RPUSH', 'c:q', 'item');
    expect(await within('the next BLPOP answered the RPUSH', next)).toEqual(['c:q', 'item']);
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

  /** `count` keys owned by the master on `port`, each in a slot of its own. */
  async function keysOn(port: number, count: number, tag: string): Promise<string[]> {
    const keys: string[] = [];
    const slots = new Set<number>();
    for (let i = 0; keys.length < count; i++) {
      const key = `c:${tag}:${i}`;
      const slot = keySlot(key);
      if (slots.has(slot) || (await cluster.ownerOf(slot)) !== port) continue;
      slots.add(slot);
      keys.push(key);
    }
    return keys;
  }

  it('a split or fanned-out command aborted after its parts were written reports sent: true (they may have run)', async () => {
    const redis = client();
    const [a, b, c] = cluster.masters().map((m) => m.port);
    const keys = [...(await keysOn(a!, 2, 'w')), ...(await keysOn(b!, 2, 'w')), ...(await keysOn(c!, 2, 'w'))];
    await redis.db.reply('MGET', ...keys); // every master's connection is up: parts are written as they are issued
    const ac = new AbortController();
    const db = redis.db.with({ signal: ac.signal });
    const mset = db.reply('MSET', ...keys.flatMap((k) => [k, 'v'])).catch((e: unknown) => e);
    const dbsize = db.reply('DBSIZE').catch((e: unknown) => e);
    ac.abort(); // before any reply can arrive
    expect(await mset).toMatchObject({ name: 'AbortError', sent: true, command: 'MSET' });
    expect(await dbsize).toMatchObject({ name: 'AbortError', sent: true, command: 'DBSIZE' });
    expect(await redis.db.reply('EXISTS', ...keys)).toBe(keys.length); // it ran: written parts may run
    await redis.db.reply('DEL', ...keys);
  });

  it('a split command aborted before any part was written reports sent: false, and no part is ever sent', async () => {
    const [, b, c] = cluster.masters().map((m) => m.port);
    // A slow reconnect: the parts wait, unwritten, for their nodes' connections.
    const redis = client({ reconnect: { baseDelay: 1000, maxDelay: 1000 } });
    const keys = [...(await keysOn(b!, 2, 'q')), ...(await keysOn(c!, 2, 'q'))];
    await redis.db.reply('MGET', ...keys);
    let lost = 0;
    const bothLost = new Promise<void>((resolve) => redis.on('reconnecting', () => ++lost === 2 && resolve()));
    await Promise.all([b, c].map((port) => cluster.call(port!, 'CLIENT', 'KILL', 'TYPE', 'normal')));
    await bothLost;
    const ac = new AbortController();
    const mset = redis.db.with({ signal: ac.signal }).reply('MSET', ...keys.flatMap((k) => [k, 'x'])).catch((e: unknown) => e);
    ac.abort(); // its parts wait for their connections to come back
    expect(await mset).toMatchObject({ name: 'AbortError', sent: false, command: 'MSET' });
    // Sent after the parts on the same connections: had any part been sent, its keys would exist.
    expect(await redis.db.reply('EXISTS', ...keys)).toBe(0);
  });
});
